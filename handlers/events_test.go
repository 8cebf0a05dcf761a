package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/net/html"
	"golang.org/x/sys/unix"
)

func TestEventsPageShowsTheLogAndItsControls(t *testing.T) {
	runChecks(t, pageOf("events"), []pageCheck{
		{"the resync that loaded the model is the first line", normalHandlers, "/events",
			func(t *testing.T, doc *html.Node) {
				lines := findAll(byID(doc, "event-log"), hasAttr("class", "ev"))
				if len(lines) != 1 {
					t.Fatalf("%d lines, want 1", len(lines))
				}
				if k, _ := attr(lines[0], "data-kind"); k != "resync" {
					t.Errorf("data-kind %q", k)
				}
				if s, _ := attr(lines[0], "data-seq"); s != "1" {
					t.Errorf("data-seq %q", s)
				}
				var classes []string
				for c := lines[0].FirstChild; c != nil; c = c.NextSibling {
					cl, _ := attr(c, "class")
					classes = append(classes, cl)
				}
				if strings.Join(classes, " ") != "seq kind text" {
					t.Errorf("line children %q, want the spans live.js creates", classes)
				}
				if !strings.HasSuffix(textOf(lines[0]), " loaded") || len(findAll(lines[0], func(n *html.Node) bool { return n.Data == "time" })) != 1 {
					t.Errorf("line %q lacks its time or text", textOf(lines[0]))
				}
			}},
		{"there is a checkbox per kind, a pause button and a download link", emptyHandlers, "/events",
			func(t *testing.T, doc *html.Node) {
				var kinds []string
				for _, n := range findAll(doc, hasAttr("name", "evkind")) {
					v, _ := attr(n, "value")
					kinds = append(kinds, v)
				}
				if strings.Join(kinds, ",") != "link,addr,route,rule,neigh,nexthop,resync" {
					t.Errorf("evkind boxes %q", kinds)
				}
				if p := byID(doc, "pause"); p == nil || p.Data != "button" || !hasAttr("type", "button")(p) {
					t.Error("no <button id=pause type=button>")
				}
				if len(findAll(doc, hasAttr("href", "/events.txt"))) != 1 {
					t.Error("no link to /events.txt")
				}
			}},
		{"the commands are ip monitor and ip -t monitor all", emptyHandlers, "/events", wantCmds("ip monitor", "ip -t monitor all")},
	})
}

func TestEventLinesReadLikeIpMonitor(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	names := model.NewStoreFrom(normalState()).Names(fixtureTables)
	rule := normalState().Rules[3]
	evs := []model.Event{
		{Seq: 7, Time: at, Kind: model.KindRoute, Deleted: true, Route: &model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST,
			Protocol: unix.RTPROT_BOOT, Dst: netip.MustParsePrefix("10.0.0.0/8"), LinkIndex: 2}},
		{Seq: 8, Time: at, Kind: model.KindRule, Rule: &rule},
		{Seq: 9, Time: at, Kind: model.KindNeigh, Neigh: &normalState().Neighs[0]},
		{Seq: 10, Time: at, Resync: true, Text: "ENOBUFS: events were lost"},
	}
	want := []EventLine{
		{7, "route", "Deleted 10.0.0.0/8 dev wan", at},
		{8, "rule", "16286:\tfrom all fwmark 0x20/0x20 lookup wan-force", at},
		{9, "neigh", "192.0.2.1 dev wan lladdr 52:54:00:12:34:56 router REACHABLE", at},
		{10, "resync", "ENOBUFS: events were lost", at},
	}
	got := EventLines(evs, names, nil)
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got  %+v\n want %+v", i, got[i], want[i])
		}
	}
}

func TestEventsTextIsADownloadOfTheRing(t *testing.T) {
	rec := serve(t, route(normalHandlers(), "GET", "/events.txt"), "/events.txt", false)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	for k, want := range map[string]string{
		"Content-Type":        "text/plain; charset=utf-8",
		"Content-Disposition": `attachment; filename="netpanel-events.txt"`,
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d) \[RESYNC\] loaded\n$`)
	if !line.MatchString(rec.Body.String()) {
		t.Errorf("body %q is not one TIME [KIND] text line", rec.Body)
	}
}

func TestEventsLiveViewLeavesLinesToTheEventStream(t *testing.T) {
	frags, err := normalHandlers().Live(context.Background(), "events", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != 1 || frags[0].Target != "summary" || frags[0].Rows {
		t.Fatalf("fragments %+v, want the summary only", frags)
	}
}

// Every kind of object an event can carry reaches /api/v1/events with
// its ip -j object: a kind added to model.Event without a case here would
// stream events with no object.
func TestEventJSONHasAnObjectForEveryKind(t *testing.T) {
	names := model.NewStore().Names(nil)
	for _, e := range []model.Event{
		{Kind: model.KindLink, Link: &model.Link{Index: 2, Name: "v0"}},
		{Kind: model.KindAddr, Addr: &model.Addr{LinkIndex: 2}},
		{Kind: model.KindRoute, Route: &model.Route{Table: 254}},
		{Kind: model.KindRule, Rule: &model.Rule{Table: 254}},
		{Kind: model.KindNeigh, Neigh: &model.Neigh{LinkIndex: 2}},
		{Kind: model.KindNexthop, Nexthop: &model.NexthopObject{ID: 5}, Deleted: true},
	} {
		j := EventJSONOf(&e, names, "")
		b, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		_ = json.Unmarshal(b, &back)
		if obj, ok := back["object"].(map[string]any); !ok || len(obj) == 0 {
			t.Errorf("%s event: %s", e.Kind, b)
		}
	}
	if len(model.Kinds()) != 6 {
		t.Errorf("model has %d kinds; give each a case in EventJSONOf and here", len(model.Kinds()))
	}
}

// Events name a link as it was when they happened, as ip monitor printed
// them then: the route of a bridge deleted since, before and after its own
// events, reads "dev br7", not "dev if42".
func TestEventLinesNameADeletedLinkAsItWas(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	names := model.NewStoreFrom(normalState()).Names(fixtureTables)
	br := &model.Link{Index: 42, Name: "br7", Kind: "bridge"}
	route := &model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT,
		Dst: netip.MustParsePrefix("10.78.0.0/24"), Gateway: netip.MustParseAddr("10.77.0.2"), LinkIndex: 42}
	rule := &model.Rule{Family: unix.AF_INET, Priority: 1500, Table: 254, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1, IifName: "br7"}
	evs := []model.Event{
		{Seq: 1, Time: at, Kind: model.KindLink, Link: br},
		{Seq: 2, Time: at, Kind: model.KindRoute, Route: route},
		{Seq: 3, Time: at, Kind: model.KindRule, Rule: rule},
		{Seq: 4, Time: at, Kind: model.KindRoute, Route: route, Deleted: true},
		{Seq: 5, Time: at, Kind: model.KindLink, Link: br, Deleted: true},
	}
	want := []string{"", "10.78.0.0/24 via 10.77.0.2 dev br7", "1500:\tfrom all iif br7 lookup main", "Deleted 10.78.0.0/24 via 10.77.0.2 dev br7"}
	for _, from := range []int{0, 3} { // the whole ring, and a live batch that starts after the link appeared
		got := EventLines(evs[from:], names, nil)
		for i, l := range got {
			if n := from + i; n < len(want) && want[n] != "" && l.Text != want[n] {
				t.Errorf("from event %d, event %d reads %q, want %q", from+1, n+1, l.Text, want[n])
			}
		}
	}
}

// TestWithoutLabelIsReplaceOfTheLabel: the label is cut as
// strings.Replace of its first occurrence cut it, for every kind and
// wherever the label is.
func TestWithoutLabelIsReplaceOfTheLabel(t *testing.T) {
	for _, kind := range append(slices.Clone(eventKinds), "unknown") {
		label := "[" + strings.ToUpper(kind) + "] "
		for _, line := range []string{label + "10.0.0.0/8 dev eth0", "Deleted " + label + "10.0.0.0/8 dev eth0",
			"10.0.0.0/8 dev eth0", label + label + "x", "", label} {
			if got, want := withoutLabel(line, kind), strings.Replace(line, label, "", 1); got != want {
				t.Errorf("%s: %q without its label is %q, want %q", kind, line, got, want)
			}
		}
	}
}
