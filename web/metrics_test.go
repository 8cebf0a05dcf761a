package web

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/promtest"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/app/audit"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"github.com/netpanel/netpanel/netops/traffic"
	"github.com/netpanel/netpanel/web/metrics"
	"golang.org/x/net/html"
)

// metricsNames are the families netpanel's own scrape must hold: every
// number issue #16 asks for, by the name dashboards and alerts use.
var metricsNames = []string{
	"node_network_receive_bytes_total", "node_network_transmit_bytes_total", "node_network_receive_packets_total",
	"node_network_transmit_packets_total", "node_network_receive_errs_total", "node_network_transmit_errs_total",
	"node_network_receive_drop_total", "node_network_transmit_drop_total", "node_network_up", "node_network_mtu_bytes",
	"netpanel_model_objects", "netpanel_events_total", "netpanel_resyncs_total", "netpanel_sync_duration_seconds",
	"netpanel_last_sync_duration_seconds", "netpanel_last_sync_timestamp_seconds", "netpanel_model_live",
	"netpanel_read_only", "netpanel_websocket_clients", "netpanel_websocket_clients_behind",
	"netpanel_changes_pending", "netpanel_rollbacks_total", "netpanel_last_save_timestamp_seconds",
	"netpanel_unsaved_objects", "netpanel_docker_conflicts", "netpanel_background_refresh_timestamp_seconds",
	"netpanel_background_refresh_errors_total", "netpanel_build_info",
	"process_resident_memory_bytes", "go_goroutines",
}

// metricsEnv is a server with every metrics source over a real
// namespace: changes with a short countdown, files in a temporary
// directory, a Docker whose daemon.json collides with the namespace.
type metricsEnv struct {
	ns      *testenv.NS
	store   *model.Store
	changes *app.Changes
	files   *app.Files
	ts      *httptest.Server
	auth    *testAuth
	scrape  func(t *testing.T) promtest.Scrape
	token   string // a metrics token
}

func newMetricsEnv(t *testing.T) *metricsEnv { return newMetricsEnvWith(t, 2*time.Second, nil) }

// newMetricsEnvWith is newMetricsEnv with changes confirmed within
// confirm, and more: more, when set, sets up the namespace and the
// handlers' dependencies further once the model follows it.
func newMetricsEnvWith(t *testing.T, confirm time.Duration, more func(ns *testenv.NS, store *model.Store, refresh traffic.Refresher, d *handlers.Deps)) *metricsEnv {
	a, b := testenv.NewNS(t), testenv.NewNS(t)
	a.Batch([]string{
		"link add v0 type veth peer name v1 netns " + b.Name,
		"addr add 10.77.0.1/24 dev v0", "link set v0 up",
	})
	b.Batch([]string{"addr add 10.77.0.2/24 dev v1", "link set v1 up"})
	waitCarrier(t, a, "v0")
	// IPv6 link-local addresses and routes come a while after the link:
	// the counts the tests compare start from a namespace at rest.
	a.SettledIPState()
	store, w := startWatcher(t, a)
	nh, err := change.Dial(a.Handle())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nh.Close() })
	ta := newTestAuth(t)
	tables := func() *rttables.Tables { return rttables.New() }
	changes := app.NewChanges(nh, store, func() change.Names { return store.Names(tables()) }, ta.rec, quietLog(),
		app.ChangeOptions{Timeout: confirm, Sync: w.Sync})
	t.Cleanup(changes.Close)

	dir := t.TempDir()
	opts := persist.Options{
		NetworkDir: filepath.Join(dir, "network"), ConfDir: filepath.Join(dir, "networkd.conf.d"),
		DockerDir: filepath.Join(dir, "docker"), BackupDir: filepath.Join(dir, "backups"),
	}
	files := app.NewFiles(persist.New(opts, store, tables), ta.rec)
	// Docker's bridge on v0's subnet: a conflict with v0's address and
	// its route.
	if err := os.MkdirAll(opts.DockerDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(opts.DockerDir, "daemon.json"), []byte(`{"bip": "10.77.0.9/24"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	docker := app.NewDocker(files, store, tables, app.DockerEngine{})

	// The overview's counter is the scrape's: one count, two readers.
	tally := app.NewTally(files.Unsaved, docker.Conflicts, store.Subscribe, files.Subscribe)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tally.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	d := handlers.Deps{Store: store, Refresh: w, NSName: a.Name, Log: quietLog(), Audit: ta.audit,
		Changes: changes, Files: files, Docker: docker, Tally: tally}
	if more != nil {
		more(a, store, w, &d)
	}
	h := handlers.New(d)
	s := New(Config{Handlers: h, Store: store, Stats: w, Log: quietLog(), Users: ta.users, Sessions: ta.sessions, Audit: ta.rec,
		Metrics: &metrics.Sources{Model: store, Stats: w, Changes: changes, Saves: files, Tally: tally,
			Version: "test", Commit: "0123abc"}})
	runHub(t, s)
	ts := newHTTPTestServer(t, s)
	tok, _, err := ta.users.CreateTokenWithRole("viewer", "prometheus", app.RoleMetrics)
	if err != nil {
		t.Fatal(err)
	}
	e := &metricsEnv{ns: a, store: store, changes: changes, files: files, ts: ts, auth: ta, token: tok}
	e.scrape = func(t *testing.T) promtest.Scrape {
		t.Helper()
		return promtest.Get(t, e.ts.Client(), e.ts.URL+MetricsPath, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) })
	}
	return e
}

// until scrapes until ok holds of a scrape; the bound only turns a hang
// into a failure.
func (e *metricsEnv) until(t *testing.T, what string, ok func(s promtest.Scrape) bool) promtest.Scrape {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := e.scrape(t)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen in the scrape:\n%s", what, s.Text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// overviewCard is the text of the overview card data-testid=card-ID: its
// value and its details.
func overviewCard(t *testing.T, page, id string) (value string, details []string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var card *html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && attr(n, "data-testid") == "card-"+id {
			card = n
			break
		}
	}
	if card == nil {
		t.Fatalf("the overview has no card-%s", id)
	}
	for n := range card.Descendants() {
		if n.Type != html.ElementNode || n.FirstChild == nil {
			continue
		}
		switch attr(n, "class") {
		case "value":
			value = n.FirstChild.Data
		case "detail":
			details = append(details, n.FirstChild.Data)
		}
	}
	return value, details
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// countsOfCard reads "3 routes, 1 address" (and "1 object", "no
// conflicts", "nothing") back into numbers by kind, as the scrape labels
// them.
func countsOfCard(text string) map[string]int {
	out := map[string]int{}
	kinds := map[string]string{"address": "address", "addresses": "address", "route": "route", "routes": "route",
		"rule": "rule", "rules": "rule", "nftables rule": "nftables_rule", "nftables rules": "nftables_rule",
		"object": "total", "objects": "total", "conflict": "total", "conflicts": "total"}
	for _, m := range regexp.MustCompile(`(\d[\d,]*) (nftables rules?|addresses|address|routes?|rules?|objects?|conflicts?)\b`).FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
		out[kinds[m[2]]] += n
	}
	return out
}

// sameAsOverview checks that the scrape's unsaved objects and Docker
// conflicts are the numbers the overview shows: both read one count. A
// new count between the two reads (its timestamp moves) is read again.
func (e *metricsEnv) sameAsOverview(t *testing.T) {
	t.Helper()
	at := func(s promtest.Scrape) [2]float64 {
		return [2]float64{val(s, "netpanel_background_refresh_timestamp_seconds", "value", "unsaved_objects"),
			val(s, "netpanel_background_refresh_timestamp_seconds", "value", "docker_conflicts")}
	}
	for try := 0; ; try++ {
		before := e.scrape(t)
		status, page := getBody(t, e.ts.URL, e.auth.viewer, "/")
		after := e.scrape(t)
		if status != http.StatusOK {
			t.Fatalf("GET /: %d", status)
		}
		if at(before) != at(after) {
			if try == 10 {
				t.Fatal("the counts never held still between two scrapes")
			}
			continue
		}
		byKind := func(name string) map[string]int {
			out := map[string]int{}
			for _, m := range after.Families[name].GetMetric() {
				if v := int(m.GetGauge().GetValue()); v > 0 {
					out[m.GetLabel()[0].GetValue()] = v
					out["total"] += v
				}
			}
			return out
		}
		unsaved, conflicts := byKind("netpanel_unsaved_objects"), byKind("netpanel_docker_conflicts")
		value, details := overviewCard(t, page, "unsaved")
		shown := countsOfCard(value + "; " + strings.Join(details, "; "))
		if !maps.Equal(shown, unsaved) {
			t.Errorf("the overview's unsaved card says %q %q, the scrape %v", value, details, unsaved)
		}
		value, _ = overviewCard(t, page, "docker")
		if got := countsOfCard(value)["total"]; got != conflicts["total"] {
			t.Errorf("the overview's Docker card says %q, the scrape %d conflicts", value, conflicts["total"])
		}
		return
	}
}

func val(s promtest.Scrape, name string, labels ...string) float64 {
	v, _ := s.Value(name, labels...)
	return v
}

// A real scrape follows real kernel changes in a namespace: a route added
// with ip is one more route in the model, at least one more route event,
// and one more object that would not survive a reboot until a save
// writes it into v0's file. A change that may cut its client off pends
// and, unconfirmed, counts as rolled back. The unsaved objects and
// Docker's conflicts are the numbers the overview shows. Prometheus' promtool lints
// the exposition, and the names dashboards use are all there.
func TestMetricsFollowTheKernel(t *testing.T) {
	e := newMetricsEnv(t)
	first := e.until(t, "both background values", func(s promtest.Scrape) bool {
		_, u := s.Value("netpanel_unsaved_objects", "kind", "route")
		_, d := s.Value("netpanel_docker_conflicts", "kind", "address")
		return u && d
	})
	promtest.Check(t, first.Text)
	if _, ok := first.Value("netpanel_last_save_timestamp_seconds"); ok {
		t.Error("a last save is reported before any save")
	}
	if v := val(first, "netpanel_docker_conflicts", "kind", "pool"); v < 1 {
		t.Errorf("Docker's bip on v0's subnet is no conflict: %v", v)
	}
	if v := val(first, "netpanel_model_live"); v != 1 {
		t.Errorf("netpanel_model_live = %v after the sync", v)
	}
	e.sameAsOverview(t)

	t.Run("a route added with ip counts in the model, the events and the unsaved objects", func(t *testing.T) {
		routes := val(first, "netpanel_model_objects", "kind", "route")
		events := val(first, "netpanel_events_total", "kind", "route")
		unsaved := val(first, "netpanel_unsaved_objects", "kind", "route")
		e.ns.IP("route", "add", "198.51.100.0/24", "via", "10.77.0.2")
		s := e.until(t, "the route", func(s promtest.Scrape) bool {
			return val(s, "netpanel_model_objects", "kind", "route") == routes+1 &&
				val(s, "netpanel_unsaved_objects", "kind", "route") == unsaved+1
		})
		if got := val(s, "netpanel_events_total", "kind", "route"); got < events+1 {
			t.Errorf("route events %v, then %v after a route add", events, got)
		}
		e.sameAsOverview(t)
		if got, want := val(s, "netpanel_events_total", "kind", "rule"), val(first, "netpanel_events_total", "kind", "rule"); got != want {
			t.Errorf("rule events went from %v to %v without a rule change", want, got)
		}
	})

	t.Run("saving v0 writes the route down and is the last save", func(t *testing.T) {
		before := val(e.scrape(t), "netpanel_unsaved_objects", "kind", "route")
		// A live overview: the save changes no kernel object, so only the
		// tally's new count can render it again.
		ov := dialPage(t, e.ts, e.auth.viewer, "overview", "")
		ov.wait(t, "the live overview's unsaved route", htmlFrame("ov-status", "1 route would be gone"))
		sel := persist.Selection{Links: []string{"v0"}}
		p, err := e.files.Preview(sel)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := e.files.Save(context.Background(), app.Identity{User: "admin", Role: app.RoleAdmin}, sel, p.Digest); err != nil {
			t.Fatal(err)
		}
		s := e.until(t, "the save", func(s promtest.Scrape) bool {
			return val(s, "netpanel_unsaved_objects", "kind", "route") < before
		})
		if at, ok := s.Value("netpanel_last_save_timestamp_seconds"); !ok || at < float64(start.Unix()) {
			t.Errorf("last save %v (present %v), saved at %v", at, ok, start.Unix())
		}
		ov.wait(t, "the live overview's count after the save", htmlFrame("ov-status", "every live address, route and rule is in a networkd file"))
		e.sameAsOverview(t)
	})

	t.Run("an unconfirmed change pends, then counts as rolled back", func(t *testing.T) {
		op, err := change.ParseCommand("ip link set dev v0 mtu 1400", rttables.New())
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.changes.Apply(app.Identity{User: "admin", Role: app.RoleAdmin, Client: "10.77.0.2"}, []change.Op{op})
		if err != nil || out.State != "pending" {
			t.Fatalf("a change of the client's link: %+v %v", out, err)
		}
		if v := val(e.scrape(t), "netpanel_changes_pending"); v != 1 {
			t.Errorf("netpanel_changes_pending = %v while one change pends", v)
		}
		s := e.until(t, "the rollback", func(s promtest.Scrape) bool {
			return val(s, "netpanel_rollbacks_total", "outcome", "rolled_back") == 1
		})
		if v := val(s, "netpanel_changes_pending"); v != 0 {
			t.Errorf("netpanel_changes_pending = %v after the rollback", v)
		}
		if v := val(s, "netpanel_rollbacks_total", "outcome", "failed"); v != 0 {
			t.Errorf("a failed rollback counted: %v", v)
		}
	})

	t.Run("a live page is a WebSocket client", func(t *testing.T) {
		dialWS(t, e.ts, "/ws", wsHeader(e.ts, e.auth.viewer))
		e.until(t, "the client", func(s promtest.Scrape) bool { return val(s, "netpanel_websocket_clients") == 1 })
	})

	final := e.scrape(t)
	promtest.Check(t, final.Text)
	for _, name := range metricsNames {
		if _, ok := final.Families[name]; !ok {
			t.Errorf("the scrape has no %s", name)
		}
	}
	if v, ok := final.Value("netpanel_build_info", "version", "test", "commit", "0123abc"); !ok || v != 1 {
		t.Errorf("netpanel_build_info{version=test,commit=0123abc} = %v (present %v)", v, ok)
	}
	if v := val(final, "netpanel_sync_duration_seconds"); v < 1 {
		t.Errorf("no full dump counted: %v", v)
	}
	t.Run("the Grafana dashboard queries only names the scrape has", func(t *testing.T) {
		checkDashboard(t, final)
	})
}

// Who may scrape: a metrics token, a viewer's or an admin's session or
// token; nobody without credentials. A metrics token opens nothing else,
// and the API says so in JSON.
func TestMetricsAuth(t *testing.T) {
	store := model.NewStoreFrom(model.State{})
	ta := newTestAuth(t)
	s := New(Config{Handlers: handlers.New(handlers.Deps{Store: store, NSName: "test", Log: quietLog(), Audit: ta.audit}),
		Store: store, Log: quietLog(), Users: ta.users, Sessions: ta.sessions, Audit: ta.rec,
		Metrics: &metrics.Sources{Model: store}})
	ts := newHTTPTestServer(t, s)
	metricsTok, _, err := ta.users.CreateTokenWithRole("admin", "prometheus", app.RoleMetrics)
	if err != nil {
		t.Fatal(err)
	}
	viewerTok, _, err := ta.users.CreateToken("viewer", "script")
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	cookie := func(c *http.Cookie) func(*http.Request) { return func(r *http.Request) { r.AddCookie(c) } }
	for _, c := range []struct {
		name, method, path string
		as                 func(*http.Request)
		status             int
		json               bool // a JSON answer
	}{
		{"a metrics token scrapes", "GET", MetricsPath, bearer(metricsTok), 200, false},
		{"a viewer's token scrapes", "GET", MetricsPath, bearer(viewerTok), 200, false},
		{"a viewer's session scrapes", "GET", MetricsPath, cookie(ta.viewer), 200, false},
		{"an admin's session scrapes", "GET", MetricsPath, cookie(ta.admin), 200, false},
		{"nobody scrapes without credentials", "GET", MetricsPath, nil, 401, true},
		{"a metrics token reads no API", "GET", "/api/v1/links", bearer(metricsTok), 403, true},
		{"a metrics token opens no page", "GET", "/interfaces", bearer(metricsTok), 403, false},
		{"a metrics token opens no event stream", "GET", "/api/v1/events", bearer(metricsTok), 403, true},
		{"a metrics token changes nothing", "POST", "/api/v1/changes", bearer(metricsTok), 403, true},
		{"a viewer's token changes nothing, in JSON", "POST", "/api/v1/changes", bearer(viewerTok), 403, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, ts.URL+c.path, strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			if c.as != nil {
				c.as(req)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.status)
			}
			ct := resp.Header.Get("Content-Type")
			if c.json {
				var body map[string]string
				if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body["error"] == "" {
					t.Fatalf("%s: not the API's JSON error (%s): %v %v", c.path, ct, body, err)
				}
			}
			if c.status == 200 && !strings.HasPrefix(ct, "text/plain") {
				t.Fatalf("Content-Type %q, want Prometheus' text format", ct)
			}
		})
	}

	t.Run("metrics token uses are not audited, others are", func(t *testing.T) {
		entries, err := ta.audit.Read(audit.Filter{Action: audit.ActionTokenUse})
		if err != nil {
			t.Fatal(err)
		}
		var users []string
		for _, e := range entries {
			users = append(users, e.User)
		}
		if slices.Contains(users, "admin") || !slices.Contains(users, "viewer") {
			t.Fatalf("token uses audited for %v: want the viewer's script, not the admin's metrics token", users)
		}
	})
}
