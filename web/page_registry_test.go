package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
)

// examplePage is the smallest page there is: it counts the namespace's
// links. Its declaration is all that makes it a page: no router, menu or
// hub code names it.
func examplePage(h *handlers.Handlers, store *model.Store) handlers.Page {
	count := func() string { return fmt.Sprintf("%d links", len(store.Links())) }
	return handlers.Page{
		Name: "example", Path: "/example", Title: "Link count", Nav: "Example",
		Cmds: func(url.Values) []views.Cmd { return []views.Cmd{{IP: "ip -br link | wc -l"}} },
		Serve: func(w http.ResponseWriter, r *http.Request) {
			body := templ.Raw(`<p id="example-count">` + count() + `</p>`)
			_ = views.Layout(h.Meta(r, "example")).Render(templ.WithChildren(r.Context(), body), w)
		},
		Live: handlers.Live{Kinds: []model.Kind{model.KindLink}, Render: func(context.Context, url.Values) ([]handlers.Fragment, error) {
			return []handlers.Fragment{{Target: "example-count", HTML: []byte(count())}}, nil
		}},
	}
}

func getBody(t *testing.T, ts string, c *http.Cookie, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ts+path, nil)
	req.AddCookie(c)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// One declaration makes a page routed, in the menu of every page and
// live: a WebSocket client showing it gets its fragment again after the
// kernel changes what it shows.
func TestOneDeclarationMakesAPageRoutedInTheMenuAndLive(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1"})
	store, w := startWatcher(t, ns)
	ta := newTestAuth(t)
	h := handlers.New(handlers.Deps{Store: store, NSName: "test", Log: quietLog()})
	h.Register(examplePage(h, store))
	s := New(Config{Handlers: h, Store: store, Stats: w, Log: quietLog(), Users: ta.users, Sessions: ta.sessions, Audit: ta.rec})
	runHub(t, s)
	ts := newHTTPTestServer(t, s)

	t.Run("it is routed, in the frame of every page", func(t *testing.T) {
		status, body := getBody(t, ts.URL, ta.viewer, "/example")
		if status != http.StatusOK || !strings.Contains(body, `<p id="example-count">3 links</p>`) {
			t.Fatalf("status %d:\n%s", status, body)
		}
		for _, want := range []string{`<title>Link count · netpanel</title>`, `data-page="example"`, `ip -br link | wc -l`, `href="/example" aria-current="page"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %s", want)
			}
		}
	})
	t.Run("it is in the menu of the other pages", func(t *testing.T) {
		_, body := getBody(t, ts.URL, ta.viewer, "/routes")
		if !strings.Contains(body, `<a href="/example">Example</a>`) {
			t.Errorf("the routes page's menu has no link to the example page")
		}
	})
	t.Run("it is live", func(t *testing.T) {
		c := dialPage(t, ts, ta.viewer, "example", "")
		c.wait(t, "the example page's count", htmlFrame("example-count", "3 links"))
		ns.IP("link", "add", "v2", "type", "veth", "peer", "name", "v3")
		c.wait(t, "the count after two links were added", htmlFrame("example-count", "5 links"))
	})
}
