package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/netpanel/netpanel/netops/traffic"
	"github.com/netpanel/netpanel/views"
)

// ifaceOf is the view of the interface called name in h.
func ifaceOf(h *Handlers, name string) views.InterfaceVM {
	return (&interfacePage{h.frame}).vm(name, views.Meta{})
}

// serveRouted serves path through a router holding h's pages, so that
// path parameters are what chi makes of them, to a viewer or an admin.
func serveRouted(t *testing.T, h *Handlers, path string, admin bool) *httptest.ResponseRecorder {
	t.Helper()
	r := chi.NewRouter()
	for _, p := range h.Pages() {
		r.Get(p.Path, p.Serve)
	}
	for _, rt := range h.Endpoints() {
		r.Method(rt.Method, rt.Path, rt.Handler)
	}
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if admin {
		req = asAdmin(req, "127.0.0.1")
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

func TestInterfaceViewModel(t *testing.T) {
	h := normalHandlers()
	t.Run("the addresses of the link, IPv4 first, with their flags", func(t *testing.T) {
		vm := ifaceOf(h, "wan")
		var got []string
		for _, a := range vm.Addrs {
			got = append(got, a.Addr+" "+a.Scope+" "+a.Valid+" ["+a.Flags+"]")
		}
		want := []string{"192.0.2.10/24 global forever []", "2001:db8::10/64 global forever []", "fe80::10/64 link forever []"}
		if !slices.Equal(got, want) {
			t.Errorf("addresses\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("the routes of every table that leave by it", func(t *testing.T) {
		vm := ifaceOf(h, "wan")
		var got []string
		for _, r := range vm.Routes.Rows {
			got = append(got, r.Table.Name+" "+r.Dst)
		}
		want := []string{"wan-force default", "main default", "main 192.0.2.0/24", "main 2001:db8::/64"}
		if !slices.Equal(got, want) || vm.Routes.More != "" || !strings.HasPrefix(vm.Routes.Total, "4 routes in all tables") {
			t.Errorf("routes %q (%s, more %q), want %q", got, vm.Routes.Total, vm.Routes.More, want)
		}
	})
	t.Run("its neighbours as ip neigh shows them, and no other link's", func(t *testing.T) {
		vm := ifaceOf(h, "wan")
		var got []string
		for _, n := range vm.Neighs.Rows {
			got = append(got, n.Addr)
		}
		if !slices.Equal(got, []string{"192.0.2.1", "192.0.2.99", "fe80::1"}) || vm.Neighs.Hidden != 0 {
			t.Errorf("neighbours %q, %d hidden", got, vm.Neighs.Hidden)
		}
		if lo := ifaceOf(h, "lo"); len(lo.Neighs.Rows) != 0 || lo.Neighs.Hidden != 1 {
			t.Errorf("lo: neighbours %+v, %d hidden; want its NOARP entry hidden as ip does", lo.Neighs.Rows, lo.Neighs.Hidden)
		}
	})
	t.Run("the rules that name it as iif or oif", func(t *testing.T) {
		if vm := ifaceOf(h, "wan"); len(vm.Rules) != 0 {
			t.Errorf("wan is named by %+v", vm.Rules)
		}
		vm := ifaceOf(h, "eth1")
		if len(vm.Rules) != 1 || vm.Rules[0].Line != "200:\tfrom all iif eth1 lookup main" {
			t.Errorf("eth1's rules %+v", vm.Rules)
		}
	})
	t.Run("a bridge names its ports, a port its master", func(t *testing.T) {
		if vm := ifaceOf(h, "docker0"); len(vm.Link.Ports) != 1 || vm.Link.Ports[0].Name != "vethab12" {
			t.Errorf("docker0's ports %+v", vm.Link.Ports)
		}
		if vm := ifaceOf(h, "vethab12"); vm.Link.Master.Name != "docker0" {
			t.Errorf("vethab12's master %+v", vm.Link.Master)
		}
	})
	t.Run("the counters, live ones keyed for the stats stream", func(t *testing.T) {
		vm := ifaceOf(h, "wan")
		byName := map[string]views.CounterRow{}
		for _, c := range vm.Stats {
			byName[c.Name] = c
		}
		if c := byName["bytes"]; c.Rx != "1.5 MB" || c.Tx != "42 kB" || c.RxAttr != "data-rx-bytes" {
			t.Errorf("bytes %+v", c)
		}
		if c := byName["packets"]; c.Rx != "1,234,567" || c.Tx != "89" || c.TxAttr != "data-tx-packets" {
			t.Errorf("packets %+v", c)
		}
		if c := byName["errors"]; c.Problem || c.RxAttr != "data-rx-errors" {
			t.Errorf("errors %+v: no errors are no problem", c)
		}
		st := normalState()
		st.Links[1].Stats.TxErrors = 3
		if c := ifaceOf(newHandlers(st, socketsOf(nil)), "wan").Stats[2]; c.Name != "errors" || !c.Problem || c.Tx != "3" {
			t.Errorf("errors %+v: 3 errors are a problem", c)
		}
		if vm.Chart != (views.TrafficChart{Key: "2", Name: "wan", Size: "large"}) {
			t.Errorf("chart %+v", vm.Chart)
		}
	})
	t.Run("many routes: the first hundred and the way to all of them", func(t *testing.T) {
		vm := ifaceOf(largeHandlers(), "eth2")
		if len(vm.Routes.Rows) != ifaceRoutesShown || vm.Routes.More != "/routes?dev=eth2&table=all" || !strings.HasPrefix(vm.Routes.Total, "The first 100 of 503 routes") {
			t.Errorf("%d rows, %q, more %q", len(vm.Routes.Rows), vm.Routes.Total, vm.Routes.More)
		}
	})
	t.Run("a name that is no interface is said to be missing", func(t *testing.T) {
		if vm := ifaceOf(h, "nope"); !strings.Contains(vm.Missing, `"nope"`) {
			t.Errorf("missing %q", vm.Missing)
		}
	})
}

func TestInterfaceView(t *testing.T) {
	h := normalHandlers()
	t.Run("it is declared under Interfaces, out of the menu", func(t *testing.T) {
		p, ok := h.Page("interface")
		if !ok || p.Path != "/interfaces/{name}" || p.Nav != "" || p.Under != "interfaces" || p.Live.Counters == 0 {
			t.Fatalf("declaration %+v", p)
		}
	})
	rec := serveRouted(t, h, "/interfaces/wan", true)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	wellFormed(t, body)
	doc := parseHTML(t, body)
	t.Run("its live query names the interface, and Interfaces is the current menu entry", func(t *testing.T) {
		if !strings.Contains(body, `data-page="interface"`) || !strings.Contains(body, `data-live-query="name=wan"`) {
			t.Error("the body lacks data-page=interface or data-live-query=name=wan")
		}
		cur := findAll(doc, hasAttr("aria-current", "page"))
		if len(cur) != 1 || textOf(cur[0]) != "Interfaces" {
			t.Errorf("%d current menu entries", len(cur))
		}
		if !strings.Contains(body, "<title>Interface wan · netpanel</title>") || !strings.Contains(textOf(byID(doc, "cmds")), "ip route show table all dev wan") {
			t.Error("the title or the commands do not name wan")
		}
	})
	t.Run("every live block is on the page, as the live view renders it", func(t *testing.T) {
		frags, err := h.Live(context.Background(), "interface", url.Values{"name": {"wan"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(frags) != 6 {
			t.Errorf("%d fragments", len(frags))
		}
		for _, f := range frags {
			if byID(doc, f.Target) == nil || !strings.Contains(body, string(f.HTML)) {
				t.Errorf("#%s is not on the page as the live view renders it", f.Target)
			}
		}
	})
	t.Run("the chart, the actions and the live counters are there", func(t *testing.T) {
		for _, sel := range [][2]string{{"data-traffic", "2"}, {"data-testid", "if-actions"}, {"data-rx-bytes", "2"}, {"data-tx-errors", "2"}} {
			if len(findAll(doc, hasAttr(sel[0], sel[1]))) != 1 {
				t.Errorf("no %s=%s", sel[0], sel[1])
			}
		}
	})
	t.Run("a viewer gets no actions", func(t *testing.T) {
		if strings.Contains(serveRouted(t, h, "/interfaces/wan", false).Body.String(), `data-testid="if-actions"`) {
			t.Error("a viewer is offered the actions")
		}
	})
	t.Run("an unknown interface is a 404 that says so, live too", func(t *testing.T) {
		rec := serveRouted(t, h, "/interfaces/nope", false)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `There is no interface called &#34;nope&#34;`) {
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
		frags, err := h.Live(context.Background(), "interface", url.Values{"name": {"nope"}})
		if err != nil || len(frags) != 1 || frags[0].Target != "content" {
			t.Errorf("live view of a missing interface: %v, %v", frags, err)
		}
	})
	t.Run("a name with a character to escape is found and linked escaped", func(t *testing.T) {
		st := normalState()
		st.Links[5].Name = "eth1%x"
		h := newHandlers(st, socketsOf(nil))
		rec := serveRouted(t, h, "/interfaces/"+url.PathEscape("eth1%x"), false)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		ov := serve(t, pageHandler(h, "overview"), "/", false).Body.String()
		if !strings.Contains(ov, `href="/interfaces/eth1%25x"`) {
			t.Errorf("the overview links %q unescaped", "eth1%x")
		}
	})
}

// history is a TrafficHistory with a point a second for link 2 (wan).
type history struct{ from time.Time }

func (h history) Rates(idx int32, since time.Time) []traffic.Point {
	if idx != 2 {
		return nil
	}
	var out []traffic.Point
	for i := range 5 {
		at := h.from.Add(time.Duration(i) * time.Second)
		if !at.Before(since) {
			out = append(out, traffic.Point{T: at.UnixMilli(), Rx: 1000.4 * float64(i), Tx: 8})
		}
	}
	return out
}

func TestTrafficAPI(t *testing.T) {
	from := time.Now().Add(-10 * time.Second)
	h := newHandlers(normalState(), socketsOf(nil), func(d *Deps) { d.Traffic = history{from} })
	get := func(q string) (int, map[string]any) {
		rec := serveRouted(t, h, "/api/v1/traffic"+q, false)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: %v: %s", q, err, rec.Body)
		}
		return rec.Code, body
	}
	t.Run("one link's history as columns, whole bits per second", func(t *testing.T) {
		code, body := get("?dev=wan")
		links, _ := body["links"].([]any)
		if code != 200 || len(links) != 1 || body["window_s"] != float64(900) {
			t.Fatalf("%d %v", code, body)
		}
		l := links[0].(map[string]any)
		if l["ifname"] != "wan" || l["ifindex"] != float64(2) || len(l["t"].([]any)) != 5 ||
			l["t"].([]any)[0] != float64(from.UnixMilli()) || l["rx_bps"].([]any)[4] != float64(4002) {
			t.Errorf("%v", l)
		}
	})
	t.Run("every link, the last seconds only", func(t *testing.T) {
		code, body := get("?seconds=8")
		links, _ := body["links"].([]any)
		if code != 200 || len(links) != 6 || body["window_s"] != float64(8) {
			t.Fatalf("%d %v", code, body)
		}
		if n := len(links[1].(map[string]any)["t"].([]any)); n >= 5 || n == 0 {
			t.Errorf("wan has %d points in the last 8 s of 10", n)
		}
		if n := len(links[0].(map[string]any)["t"].([]any)); n != 0 {
			t.Errorf("lo has %d points, want an empty list", n)
		}
	})
	for _, c := range []struct{ q, want string }{
		{"?seconds=0", "seconds: \"0\" is not a whole number from 1 to 900"},
		{"?seconds=901", "seconds"},
		{"?seconds=ten", "seconds"},
	} {
		t.Run("bad "+c.q+" is refused", func(t *testing.T) {
			if code, body := get(c.q); code != 400 || !strings.Contains(body["error"].(string), c.want) {
				t.Errorf("%d %v", code, body)
			}
		})
	}
	t.Run("an unknown link is a 404", func(t *testing.T) {
		if code, body := get("?dev=nope"); code != 404 || body["error"] != `dev: no interface named "nope"` {
			t.Errorf("%d %v", code, body)
		}
	})
	t.Run("without a history the lists are empty", func(t *testing.T) {
		rec := serveRouted(t, normalHandlers(), "/api/v1/traffic?dev=wan", false)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"t":[]`) {
			t.Errorf("%d %s", rec.Code, rec.Body)
		}
	})
}
