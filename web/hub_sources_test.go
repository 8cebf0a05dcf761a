package web

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
)

// A page that declares a live model of its own among its Live.Sources
// (here the real nftables watcher of a namespace) is rendered again when
// that model changes, as pages are for the kinds of the kernel model; a
// page that did not declare it is not.
func TestPagesFollowTheSourcesTheyDeclare(t *testing.T) {
	ns := testenv.NewNS(t)
	nft := nfttest.Watch(t, ns, 0)
	store, w := startWatcher(t, ns)
	ta := newTestAuth(t)
	h := handlers.New(handlers.Deps{Store: store, NSName: "test", Log: quietLog()})
	var mu sync.Mutex // a slow render runs off the hub's goroutine
	renders := map[string]int{}
	count := func(page string) handlers.Live {
		return handlers.Live{Render: func(context.Context, url.Values) ([]handlers.Fragment, error) {
			mu.Lock()
			renders[page]++
			n := renders[page]
			mu.Unlock()
			tables, _, _, _ := nft.Ruleset().Counts()
			return []handlers.Fragment{{Target: "count", HTML: []byte(fmt.Sprintf("%d tables, render %d", tables, n))}}, nil
		}}
	}
	follows := count("follows")
	follows.Sources = []handlers.Source{nft}
	h.Register(handlers.Page{Name: "follows", Path: "/follows", Live: follows})
	ignores := count("ignores")
	ignores.Kinds = []model.Kind{model.KindLink}
	h.Register(handlers.Page{Name: "ignores", Path: "/ignores", Live: ignores})
	s := New(Config{Handlers: h, Store: store, Stats: w, Log: quietLog(), Users: ta.users, Sessions: ta.sessions, Audit: ta.rec})
	runHub(t, s)
	ts := newHTTPTestServer(t, s)

	a := dialPage(t, ts, ta.viewer, "follows", "")
	b := dialPage(t, ts, ta.viewer, "ignores", "")
	a.wait(t, "the first render", htmlFrame("count", "0 tables, render 1"))
	b.wait(t, "the first render of the other page", htmlFrame("count", "0 tables, render 1"))
	// The following page may be woken more than once per nft command (a
	// table and its generation are two messages): what counts is that a
	// render shows the new table.
	nfttest.Nft(t, ns, "add", "table", "inet", "t1")
	a.wait(t, "a render after the table was added", htmlFrame("count", "1 tables, render "))
	// A link change renders the other page: its second render only, so
	// the nftables change did not render it.
	ns.IP("link", "add", "v0", "type", "veth", "peer", "name", "v1")
	b.wait(t, "the other page's render after a link change", htmlFrame("count", "1 tables, render 2"))
	nfttest.Nft(t, ns, "add", "table", "inet", "t2")
	a.wait(t, "a render after the second table", htmlFrame("count", "2 tables, render "))
}
