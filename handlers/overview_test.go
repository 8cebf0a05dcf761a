package handlers

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
	"golang.org/x/sys/unix"
)

// fakeTally answers the counts it holds.
type fakeTally app.TallyState

func (f fakeTally) Get() app.TallyState { return app.TallyState(f) }

// Subscribe never wakes: the counts are fixed.
func (fakeTally) Subscribe() (<-chan struct{}, func()) { return nil, func() {} }

var countTime = time.Date(2026, 11, 28, 12, 30, 5, 0, time.Local)

// overviewOf is the overview of st with the counts and pending changes
// given.
func overviewOf(t *testing.T, st model.State, tally TallyReader, pending []safeapply.Outcome) views.OverviewVM {
	t.Helper()
	h := newHandlers(st, socketsOf(nil))
	p := &overviewPage{frame: h.frame, tally: tally, pending: func() []safeapply.Outcome { return pending }}
	vm, ok := p.vm(nil, views.Meta{})
	if !ok {
		t.Fatal("the overview refused a request without a query")
	}
	return vm
}

func card(t *testing.T, vm views.OverviewVM, id string) views.OverviewCard {
	t.Helper()
	for _, c := range vm.Status.Cards {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no card %q", id)
	return views.OverviewCard{}
}

func problemTexts(vm views.OverviewVM) string {
	var out []string
	for _, p := range vm.Status.Problems {
		out = append(out, p.Level+": "+p.Text+" ["+p.Href+"]")
	}
	return strings.Join(out, "\n")
}

// withWan changes the normal state's wan link.
func withWan(change func(*model.Link)) model.State {
	st := normalState()
	for i := range st.Links {
		if st.Links[i].Name == "wan" {
			change(&st.Links[i])
		}
	}
	return st
}

func TestOverviewViewModel(t *testing.T) {
	off := noTally{}
	t.Run("default routes of every table, main first, with their device's state", func(t *testing.T) {
		vm := overviewOf(t, normalState(), off, nil)
		var got []string
		for _, d := range vm.Status.Defaults {
			got = append(got, d.Table+" "+d.Family+" "+d.Route+" "+d.Dev+" "+d.DevState)
		}
		want := []string{
			"main IPv4 default via 192.0.2.1 dev wan wan UP",
			"wan-force IPv4 default via 192.0.2.254 dev wan table wan-force proto static wan UP",
		}
		if !slices.Equal(got, want) {
			t.Errorf("defaults\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("the uplink is the link of main's default route, charted and marked", func(t *testing.T) {
		vm := overviewOf(t, normalState(), off, nil)
		up := card(t, vm, "uplink")
		if up.Value != "wan" || up.Level != "ok" || len(up.Rates) != 1 || up.Rates[0] != (views.RateRef{Key: "2", Name: "wan"}) {
			t.Errorf("uplink card %+v", up)
		}
		if len(vm.Charts) != 1 || vm.Charts[0].Key != "2" || vm.Charts[0].Name != "wan" {
			t.Errorf("charts %+v, want wan's", vm.Charts)
		}
		var uplinks, down []string
		for _, l := range vm.Links.Up {
			if l.Uplink {
				uplinks = append(uplinks, l.Name)
			}
		}
		down = vm.Links.Down
		if !slices.Equal(uplinks, []string{"wan"}) || !slices.Equal(down, []string{"eth1"}) {
			t.Errorf("uplinks %v, down %v; want [wan], [eth1]", uplinks, down)
		}
	})
	t.Run("a global IPv6 address without an IPv6 default route is a warning", func(t *testing.T) {
		vm := overviewOf(t, normalState(), off, nil)
		if vm.Status.Level != "warn" || !strings.Contains(problemTexts(vm), "global IPv6 address but no working IPv6 default route") {
			t.Errorf("level %s, problems:\n%s", vm.Status.Level, problemTexts(vm))
		}
	})
	t.Run("a default route through a link without carrier is the worst news", func(t *testing.T) {
		vm := overviewOf(t, withWan(func(l *model.Link) { l.OperState = "LOWERLAYERDOWN" }), off, nil)
		p := problemTexts(vm)
		if vm.Status.Level != "bad" || !strings.Contains(p, "bad: The IPv4 default route default via 192.0.2.1 dev wan carries nothing: wan is LOWERLAYERDOWN (no carrier).") ||
			!strings.Contains(p, "[/interfaces/wan]") || !strings.Contains(p, "No working default route in table main") {
			t.Errorf("level %s, problems:\n%s", vm.Status.Level, p)
		}
		if up := card(t, vm, "uplink"); up.Value != "none" || up.Level != "bad" || len(vm.Charts) != 0 {
			t.Errorf("uplink card %+v, charts %v", up, vm.Charts)
		}
		if d := vm.Status.Defaults[0]; !strings.Contains(d.Problem, "carries nothing") || d.StateClass != "lower-layer-down" {
			t.Errorf("main's default route row %+v", d)
		}
	})
	t.Run("an empty namespace has no default route at all", func(t *testing.T) {
		vm := overviewOf(t, model.State{}, off, nil)
		if vm.Status.Level != "bad" || len(vm.Status.Defaults) != 0 || !strings.Contains(problemTexts(vm), "No working default route in table main") {
			t.Errorf("level %s, defaults %v, problems:\n%s", vm.Status.Level, vm.Status.Defaults, problemTexts(vm))
		}
	})
	t.Run("objects no file describes are counted by kind, with a link to Save", func(t *testing.T) {
		tally := fakeTally{
			Foreign:   app.Count{Known: true, N: 4, ByKind: map[string]int{"route": 3, "address": 1}, At: countTime, Took: 12 * time.Millisecond},
			Conflicts: app.Count{Off: true},
		}
		vm := overviewOf(t, normalState(), tally, nil)
		c := card(t, vm, "unsaved")
		if c.Value != "4 objects" || c.Level != "warn" || c.Href != "/networkd" ||
			!slices.Equal(c.Detail, []string{"1 address, 3 routes would be gone after a reboot", "counted at 12:30:05 in 12ms"}) {
			t.Errorf("card %+v", c)
		}
		if !strings.Contains(problemTexts(vm), "warn: 4 live objects will not survive a reboot: no networkd file describes them. [/networkd]") {
			t.Errorf("problems:\n%s", problemTexts(vm))
		}
		if d := card(t, vm, "docker"); d.Value != "not configured" || d.Href != "" {
			t.Errorf("docker card %+v", d)
		}
	})
	t.Run("netpanel's nftables rules the nft file lacks count with the rest", func(t *testing.T) {
		tally := fakeTally{
			Foreign:   app.Count{Known: true, N: 3, ByKind: map[string]int{"address": 0, "route": 1, "rule": 0, "nftables_rule": 2}, At: countTime},
			Conflicts: app.Count{Off: true},
		}
		vm := overviewOf(t, normalState(), tally, nil)
		if c := card(t, vm, "unsaved"); c.Value != "3 objects" || c.Detail[0] != "1 route, 2 nftables rules would be gone after a reboot" {
			t.Errorf("card %+v", c)
		}
		if !strings.Contains(problemTexts(vm), "3 live objects will not survive a reboot: no saved file describes them.") {
			t.Errorf("problems:\n%s", problemTexts(vm))
		}
	})
	t.Run("a failed count says why and shows no number", func(t *testing.T) {
		tally := fakeTally{
			Foreign:   app.Count{Known: true, N: 2, Err: "reading /etc/systemd/network: permission denied", Errors: 1, At: countTime},
			Conflicts: app.Count{Off: true},
		}
		vm := overviewOf(t, normalState(), tally, nil)
		if c := card(t, vm, "unsaved"); c.Value != "unknown" || c.Level != "warn" || !slices.Equal(c.Detail, []string{tally.Foreign.Err}) {
			t.Errorf("card %+v", c)
		}
		if strings.Contains(problemTexts(vm), "reboot") {
			t.Errorf("the last good count is reported as today's:\n%s", problemTexts(vm))
		}
	})
	t.Run("a count not made yet says so, and a stale one says it is redone", func(t *testing.T) {
		vm := overviewOf(t, normalState(), fakeTally{Conflicts: app.Count{Known: true, Stale: true, At: countTime}}, nil)
		if c := card(t, vm, "unsaved"); c.Value != "counting…" || c.Level != "idle" {
			t.Errorf("unsaved card %+v", c)
		}
		d := card(t, vm, "docker")
		if d.Value != "no conflicts" || !strings.Contains(strings.Join(d.Detail, " "), "the network changed since, counting again…") {
			t.Errorf("docker card %+v", d)
		}
		if strings.Contains(problemTexts(vm), "reboot") {
			t.Errorf("an unknown count is reported as a problem:\n%s", problemTexts(vm))
		}
	})
	t.Run("Docker's conflicts are counted, with what could not be read", func(t *testing.T) {
		tally := fakeTally{Foreign: app.Count{Off: true},
			Conflicts: app.Count{Known: true, N: 1, Note: "Docker's API did not answer", Why: "dial unix: no such file", At: countTime}}
		vm := overviewOf(t, normalState(), tally, nil)
		d := card(t, vm, "docker")
		if d.Value != "1 conflict" || d.Note != "Docker's API did not answer" || d.Why != "dial unix: no such file" || d.Href != "/docker" {
			t.Errorf("docker card %+v", d)
		}
		if !strings.Contains(problemTexts(vm), "1 conflict between Docker and this host's networks. [/docker]") {
			t.Errorf("problems:\n%s", problemTexts(vm))
		}
	})
	t.Run("the pending stack is listed with its deadline", func(t *testing.T) {
		deadline := time.Date(2026, 11, 28, 12, 31, 0, 0, time.Local)
		pending := []safeapply.Outcome{
			{ID: "a1", User: "alice", Commands: []string{"ip link set dev wan mtu 1400"}, Reason: "it changes wan", Deadline: deadline, Waiting: []string{"alice", "bob"}},
			{ID: "b2", User: "bob", Commands: []string{"ip addr add 10.0.0.1/24 dev eth1", "ip link set dev eth1 up"}, Deadline: deadline},
		}
		vm := overviewOf(t, normalState(), off, pending)
		if c := card(t, vm, "pending"); c.Value != "2 changes" || c.Level != "warn" {
			t.Errorf("pending card %+v", c)
		}
		if len(vm.Status.Pending) != 2 || vm.Status.Pending[0].Waiting != "alice, bob" ||
			vm.Status.Pending[1].Commands != "ip addr add 10.0.0.1/24 dev eth1; ip link set dev eth1 up" ||
			vm.Status.Pending[0].Deadline != "12:31:00" || vm.Status.Pending[0].DeadlineUnixMs != deadline.UnixMilli() {
			t.Errorf("pending rows %+v", vm.Status.Pending)
		}
		if !strings.Contains(problemTexts(vm), "2 changes wait for confirmation and will be rolled back at 12:31:00 unless confirmed.") {
			t.Errorf("problems:\n%s", problemTexts(vm))
		}
	})
	t.Run("with nothing wrong the verdict is that the host looks fine", func(t *testing.T) {
		st := normalState()
		st.Routes = append(st.Routes, model.Route{Family: unix.AF_INET6, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: fxPrefix("::/0"), Gateway: fxAddr("2001:db8::1"), LinkIndex: 2, Priority: 1024})
		tally := fakeTally{Foreign: app.Count{Known: true, At: countTime}, Conflicts: app.Count{Known: true, At: countTime}}
		vm := overviewOf(t, st, tally, nil)
		if vm.Status.Level != "ok" || vm.Status.Headline != "This host looks fine." || len(vm.Status.Problems) != 0 {
			t.Errorf("level %s %q, problems:\n%s", vm.Status.Level, vm.Status.Headline, problemTexts(vm))
		}
		if up := card(t, vm, "uplink"); !slices.Contains(up.Detail, "IPv6: default via 2001:db8::1 dev wan proto static metric 1024 pref medium") {
			t.Errorf("uplink card %+v", up)
		}
	})
}

// The recent changes leave out neighbour churn but keep everything else,
// newest last, as the events page shows them.
func TestOverviewEventsLeaveOutNeighbours(t *testing.T) {
	h := newHandlers(normalState(), socketsOf(nil))
	h.frame.store.Update(func(a *model.Applier) {
		a.Route(model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.MustParsePrefix("198.51.100.0/24"), Gateway: fxAddr("192.0.2.1"), LinkIndex: 2}, false, false)
		for i := range 20 {
			a.Neigh(model.Neigh{LinkIndex: 2, Family: unix.AF_INET, IP: netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i)}), State: unix.NUD_STALE}, false)
		}
	})
	p := &overviewPage{frame: h.frame, tally: noTally{}}
	vm, _ := p.vm(nil, views.Meta{})
	var kinds []string
	for _, l := range vm.Events.Lines {
		kinds = append(kinds, l.Kind)
	}
	if !slices.Equal(kinds, []string{"resync", "route"}) || !strings.Contains(vm.Events.Lines[1].Text, "198.51.100.0/24 via 192.0.2.1 dev wan") {
		t.Errorf("events %+v", vm.Events.Lines)
	}
	if !strings.HasPrefix(vm.Events.Total, "22 kernel events since netpanel started") {
		t.Errorf("total %q", vm.Events.Total)
	}
}

func TestOverviewPage(t *testing.T) {
	h := normalHandlers()
	t.Run("it is the home page, first in the menu", func(t *testing.T) {
		p := h.Pages()[0]
		if p.Name != "overview" || p.Path != "/" || p.Nav != "Overview" {
			t.Fatalf("the first page is %s at %s", p.Name, p.Path)
		}
	})
	rec := serve(t, pageHandler(h, "overview"), "/", false)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	wellFormed(t, rec.Body.String())
	doc := parseHTML(t, rec.Body.String())
	t.Run("every live block is on the page, as the live view renders it", func(t *testing.T) {
		frags, err := h.Live(context.Background(), "overview", nil)
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, f := range frags {
			targets = append(targets, f.Target)
			if byID(doc, f.Target) == nil {
				t.Errorf("the page has no #%s", f.Target)
			}
			wellFormed(t, string(f.HTML))
			if !strings.Contains(rec.Body.String(), string(f.HTML)) {
				t.Errorf("#%s differs between the page and its live view", f.Target)
			}
		}
		if !slices.Equal(targets, []string{"ov-status", "ov-charts", "ov-links", "ov-events"}) {
			t.Errorf("fragments %v", targets)
		}
	})
	t.Run("the uplink's chart and rates are keyed by its ifindex", func(t *testing.T) {
		charts := findAll(doc, hasAttr("data-traffic", "2"))
		if len(charts) != 1 || !hasAttr("data-traffic-name", "wan")(charts[0]) {
			t.Errorf("%d charts for wan", len(charts))
		}
		if n := len(findAll(doc, hasAttr("data-rx-rate", "2"))); n < 2 {
			t.Errorf("%d RX rates of wan, want the card's, the chart's and the table's", n)
		}
	})
	t.Run("the verdict and the cards are there", func(t *testing.T) {
		for _, id := range []string{"ov-verdict", "card-uplink", "card-unsaved", "card-docker", "card-pending", "card-links", "ov-defaults", "ov-links"} {
			if len(findAll(doc, hasAttr("data-testid", id))) != 1 {
				t.Errorf("no data-testid=%s", id)
			}
		}
		if !strings.Contains(textOf(doc), "ip route show table all default") {
			t.Error("the page does not show its ip commands")
		}
	})
	t.Run("the menu marks Overview as the current page", func(t *testing.T) {
		cur := findAll(doc, hasAttr("aria-current", "page"))
		if len(cur) != 1 || textOf(cur[0]) != "Overview" {
			t.Errorf("current menu entries: %d", len(cur))
		}
	})
}

// The card counts links as ip -br link reads them: one set up without a
// carrier is not "up" (ip says DOWN) and not "set down" either.
func TestLinksCardCountsAsIPBriefReads(t *testing.T) {
	links := []model.Link{
		fxLink(1, "lo", "", flagsLo, "UNKNOWN"),
		fxLink(2, "wan", "", flagsUp, "UP"),
		fxLink(3, "vpn0", "", flagsNoCarr, "DOWN"),
		fxLink(4, "spare", "", flagsDown, "DOWN"),
	}
	c := linksCard(links)
	if c.Value != "2 up, 1 without carrier, 1 set down" || len(c.Detail) != 1 || c.Detail[0] != "1 interface is set up but has no carrier (ip -br link: DOWN)" {
		t.Errorf("the links card: %q %q", c.Value, c.Detail)
	}
	if c := linksCard(links[:2]); c.Value != "2 up, 0 set down" || len(c.Detail) != 0 {
		t.Errorf("the links card without a carrierless link: %q %q", c.Value, c.Detail)
	}
}

// TestOverviewLiveLinksBlockFollowsLinksAddressesAndUplinks: the live
// overview's block of links, kept between renders, is always the block a
// fresh render makes: after a route change it does not show, and after
// an address added, a link renamed and the uplink's default route gone;
// the blocks keep their order.
func TestOverviewLiveLinksBlockFollowsLinksAddressesAndUplinks(t *testing.T) {
	h := newHandlers(normalState(), socketsOf(nil))
	p := &overviewPage{frame: h.frame, tally: noTally{}}
	fresh := func() string {
		vm, _ := p.vm(nil, views.Meta{})
		b, err := renderBytes(views.OverviewLinksBlock(vm.Links))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var last string
	check := func(what string, changed bool) {
		t.Helper()
		frags, err := p.live(nil)
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, f := range frags {
			targets = append(targets, f.Target)
		}
		if want := []string{"ov-status", "ov-charts", "ov-links", "ov-events"}; !slices.Equal(targets, want) {
			t.Fatalf("%s: blocks %v, want %v", what, targets, want)
		}
		got := string(frags[2].HTML)
		if want := fresh(); got != want {
			t.Errorf("%s: the live links block is\n%s\nwant\n%s", what, got, want)
		}
		if changed == (got == last) {
			t.Errorf("%s: the links block changed %v, want %v", what, got != last, changed)
		}
		last = got
	}
	route := func(dst string, link int32, del bool) {
		h.frame.store.Update(func(a *model.Applier) {
			a.Route(model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
				Dst: netip.MustParsePrefix(dst), Gateway: fxAddr("192.0.2.1"), LinkIndex: link}, del, false)
		})
	}
	check("the first render", true)
	route("198.51.100.0/24", 2, false)
	check("after a route change", false)
	h.frame.store.Update(func(a *model.Applier) {
		a.Addr(model.Addr{LinkIndex: 2, Family: unix.AF_INET, Prefix: fxPrefix("203.0.113.7/24"), Flags: unix.IFA_F_PERMANENT}, false)
	})
	check("after an address added", true)
	wan, _ := h.frame.store.Link(2)
	wan.Name = "uplink0"
	h.frame.store.Update(func(a *model.Applier) { a.Link(wan, false) })
	check("after the uplink renamed", true)
	// The delete event names the whole route (proto boot, as the
	// fixture's): IPv4 routes that differ in it are aliases of their own.
	h.frame.store.Update(func(a *model.Applier) {
		a.Route(model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT,
			Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: fxAddr("192.0.2.1"), LinkIndex: 2}, true, false)
	})
	check("after main's default route deleted", true)
	// An address counting its lifetimes down, as DHCP's: the block shows
	// them as of each render, never as of an earlier one.
	h.frame.store.Update(func(a *model.Applier) {
		now := model.KernelTime()
		a.Addr(model.Addr{LinkIndex: 2, Family: unix.AF_INET, Prefix: fxPrefix("203.0.113.9/24"),
			ValidLft: 600, PreferredLft: 300, Seen: now, Updated: now}, false)
	})
	check("after an address with lifetimes added", true)
	if !strings.Contains(last, "valid_lft 600sec") {
		t.Fatalf("the block does not show the new address's lifetimes:\n%s", last)
	}
	// A second later at most (30 tries, so a stale block fails, not hangs).
	for i := 0; i < 30 && strings.Contains(last, "valid_lft 600sec"); i++ {
		time.Sleep(100 * time.Millisecond)
		route("198.51.100.0/24", 2, true)
		route("198.51.100.0/24", 2, false)
		frags, err := p.live(nil)
		if err != nil {
			t.Fatal(err)
		}
		last = string(frags[2].HTML)
	}
	if !strings.Contains(last, "valid_lft 599sec") {
		t.Errorf("a second later the block shows no valid_lft 599sec:\n%s", last)
	}
}
