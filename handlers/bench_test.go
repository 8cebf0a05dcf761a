package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

var (
	bigOnce  sync.Once
	bigStore *model.Store
)

// millionRoutes is the benchmarks' million-route model (benchfix: the
// routes `make bench` puts into a namespace, as a sync of it holds them),
// built without a kernel: the render path is what is measured.
func millionRoutes() *model.Store {
	bigOnce.Do(func() { bigStore = model.NewStoreFrom(benchfix.State(1_000_000)) })
	return bigStore
}

// benchHandlers are handlers over the million-route model with every
// optional page on: files in a temporary directory (one .network file
// describing a few of the routes), Docker without an Engine API.
func benchHandlers(b *testing.B) *Handlers {
	b.Helper()
	h, _, _ := benchHandlersWith(b)
	return h
}

// benchHandlersWith is benchHandlers, with where its files are and the
// files' use cases.
func benchHandlersWith(b *testing.B) (*Handlers, persist.Options, *app.Files) {
	return benchHandlersIn(b, false)
}

// benchHandlersIn is benchHandlersWith; saved adds the files of a save of
// every link.
func benchHandlersIn(b *testing.B, saved bool) (*Handlers, persist.Options, *app.Files) {
	b.Helper()
	return benchHandlersOn(b, millionRoutes(), saved)
}

// benchHandlersOn is benchHandlersIn over the model store.
func benchHandlersOn(b *testing.B, store *model.Store, saved bool) (*Handlers, persist.Options, *app.Files) {
	b.Helper()
	root := b.TempDir()
	opts := persist.Options{
		NetworkDir: filepath.Join(root, "network"), ConfDir: filepath.Join(root, "networkd.conf.d"),
		DockerDir: filepath.Join(root, "docker"), BackupDir: filepath.Join(root, "backup"),
		Target: networkd.Target{Version: 252, How: "benchmark"},
	}
	if err := os.MkdirAll(opts.NetworkDir, 0o755); err != nil {
		b.Fatal(err)
	}
	file := "[Match]\nName=np0a\n\n[Network]\nAddress=10.254.0.1/24\n\n[Route]\nDestination=10.0.0.0/32\nGateway=10.254.0.2\nTable=main\n"
	if err := os.WriteFile(filepath.Join(opts.NetworkDir, "50-np0a.network"), []byte(file), 0o644); err != nil {
		b.Fatal(err)
	}
	names := rttables.New() // one value, as the server's watcher holds it between changes
	tables := func() *rttables.Tables { return names }
	files := app.NewFiles(persist.New(opts, store, tables), app.NewRecorder(&ndAudit{}, nil))
	docker := app.NewDocker(files, store, tables, app.DockerEngine{})
	// The overview's counts, made off the request path as in the server.
	tally := app.NewTally(files.Unsaved, docker.Conflicts, store.Subscribe, files.Subscribe)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); tally.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	if saved {
		writeSaved(b, opts, files)
	}
	// The pages show the tally's last count: measured once there is one,
	// as on a server that has been looked at.
	for !tally.Get().Foreign.Known {
		time.Sleep(50 * time.Millisecond)
	}
	return New(Deps{Store: store, Tables: tables, Files: files, Log: slog.New(slog.DiscardHandler),
		Docker: docker, Tally: tally}), opts, files
}

var (
	savedOnce  sync.Once
	savedFiles networkd.Files
	savedErr   error
)

// writeSaved writes into opts' directories the files a save of every
// link writes at a million routes (300 files, tens of MB), generated once
// per process: the state of an admin who saved everything, then changed
// the routes of one link (np7a, whose group the page queries).
func writeSaved(b *testing.B, opts persist.Options, files *app.Files) {
	b.Helper()
	savedOnce.Do(func() {
		var all []string
		for i := range 2 * benchfix.Pairs {
			all = append(all, benchfix.LinkName(i))
		}
		pv, err := files.Preview(persist.Selection{Links: all})
		if err != nil {
			savedErr = err
			return
		}
		savedFiles = pv.Files
	})
	if savedErr != nil {
		b.Fatal(savedErr)
	}
	for rel, data := range savedFiles {
		// One link changed since the save: its file describes only every
		// other route of it, so the page has a group to read from a file.
		if rel == "10-"+benchfix.LinkName(14)+".network" {
			var keep []string
			for i, s := range strings.Split(string(data), "\n\n") {
				if i%2 == 0 || !strings.Contains(s, "[Route]") {
					keep = append(keep, s)
				}
			}
			data = []byte(strings.Join(keep, "\n\n"))
		}
		p := filepath.Join(opts.NetworkDir, rel)
		if strings.Contains(rel, "/") {
			p = filepath.Join(opts.ConfDir, filepath.Base(rel))
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// pageQueries are the views measured besides each page's default one.
var pageQueries = map[string][]string{
	"routes": {
		"table=all", "table=all&within=10.1.0.0/16&page=3", "table=all&within=10.0.0.0/8&page=3000", "table=101",
		"table=all&sort=metric&page=5000", "table=all&sort=dev&dir=desc&page=9000", "table=all&sort=gateway&page=2500",
		"sort=protocol&page=1500", "table=102&sort=type&page=800", "table=all&sort=metric&dev=np3a&page=10",
		"table=all&dir=desc&page=5000", "table=all&proto=static&type=unicast&page=2000",
		"table=all&within=10.0.0.0/8&sort=metric&dir=desc&page=3000", "table=all&family=inet6&dev=np3a&page=2",
	},
	"networkd": {"page=5000", "group=route/np7a/101&page=3"},
}

// pathName is the {name} of the pages that have one in their path: for
// the interface view the set's first link, which carries its share of the
// routes; for the networkd file editor the file benchHandlers writes, or
// with every link saved the first link's (thousands of routes).
func pathName(page string, saved bool) string {
	switch {
	case page == "networkd-file" && saved:
		return "10-" + benchfix.LinkName(0) + ".network"
	case page == "networkd-file":
		return "50-np0a.network"
	}
	return benchfix.LinkName(0)
}

// BenchmarkPages1M renders every declared page (the registry decides
// which: a page added later is measured without touching this file) over
// the million-route model, as GET through the page's handler and as the
// live render the hub sends; it reports the HTML size beside the time.
// Goals: at most 20 ms server time and 1 MB of HTML per page. Each page
// is measured twice: with one small .network file on disk, and ("saved
// ...") with the files of a save of every link (tens of MB describing
// every route), which the networkd pages, the counts and the editor read;
// the routes page's extra views read no file and run once.
func BenchmarkPages1M(b *testing.B) {
	for _, saved := range []bool{false, true} {
		h, _, _ := benchHandlersIn(b, saved)
		benchPages(b, h, saved)
	}
}

func benchPages(b *testing.B, h *Handlers, saved bool) {
	for _, p := range h.Pages() {
		queries := []string{""}
		if !saved || p.Name != "routes" {
			queries = append(queries, pageQueries[p.Name]...)
		}
		path, params := p.Path, chi.NewRouteContext()
		if strings.Contains(path, "{name}") {
			// Its live view is asked for by the same name in the query.
			name := pathName(p.Name, saved)
			path = strings.Replace(path, "{name}", name, 1)
			params.URLParams.Add("name", name)
			queries[0] = "name=" + name
		}
		for _, q := range queries {
			name := p.Name
			if q != "" {
				name += "?" + q
			}
			if saved {
				name = "saved " + name
			}
			b.Run("GET "+name, func(b *testing.B) {
				size := 0
				// One view first, untimed: what a page builds once and
				// keeps (a sort index, the links' savability) is not
				// what each view costs.
				warm := true
				for warm || b.Loop() {
					warm = false
					req := httptest.NewRequest("GET", path+"?"+q, nil)
					req = req.WithContext(context.WithValue(req.Context(), chi.RouteCtxKey, params))
					req = WithIdentity(req, app.Identity{User: "bench", Role: app.RoleAdmin})
					rec := httptest.NewRecorder()
					p.Serve(rec, req)
					if rec.Code == 503 {
						b.Skipf("%s is not configured in this benchmark", p.Path)
					}
					if rec.Code != 200 {
						b.Fatalf("status %d: %.500s", rec.Code, rec.Body)
					}
					size = rec.Body.Len()
					_, _ = io.Copy(io.Discard, rec.Body)
				}
				b.ReportMetric(float64(size), "html-B")
			})
			if p.Live.Render == nil {
				continue
			}
			b.Run("live "+name, func(b *testing.B) {
				vals, _ := url.ParseQuery(q)
				size := 0
				for b.Loop() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					frags, err := p.Live.Render(ctx, vals)
					cancel()
					if err != nil && !strings.Contains(err.Error(), "socket") {
						b.Fatal(err)
					}
					size = 0
					for _, f := range frags {
						size += len(f.HTML)
					}
				}
				b.ReportMetric(float64(size), "html-B")
			})
		}
	}
}
