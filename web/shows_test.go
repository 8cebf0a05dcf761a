package web

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// A view of the routes page renders at once for the changes it can show,
// and not for the ones it cannot (routes of another table or outside its
// prefix): with the late renders held back, thirty routes added to table
// 200 send no frame to a view of table main, the route added to its
// prefix next arrives with the model's new count, and routes the kernel
// drops silently with a link's last IPv4 address (no route event tells,
// only an address event the page does not follow) leave at once.
func TestAViewRendersAtOnceOnlyForChangesItCanShow(t *testing.T) {
	setSlowEvery(t, time.Hour)
	ns := testenv.NewNS(t)
	ns.Batch([]string{
		"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up", "addr add 10.20.0.1/24 dev v0",
		"link add v2 type veth peer name v3", "link set v2 up", "link set v3 up", "addr add 10.30.0.1/24 dev v2",
		"route add 192.0.2.0/26 via 10.20.0.2", "route add 192.0.2.64/26 via 10.30.0.2",
	})
	_, ta, _, ts := liveServer(t, ns)

	v := dialPage(t, ts, ta.viewer, "routes", "table=main&within=192.0.2.0/24")
	v.waitRows(t, 30*time.Second, func(h string) bool {
		return strings.Contains(h, "192.0.2.0/26") && strings.Contains(h, "192.0.2.64/26")
	})
	v.wait(t, "the first summary", htmlFrame("summary", "2 routes in table main"))
	var cmds []string
	for i := range 30 {
		cmds = append(cmds, fmt.Sprintf("route add 172.20.0.%d/32 via 10.20.0.2 table 200", i+1))
	}
	for _, c := range cmds { // one process each: changes apart in time, not one batch
		ns.Batch([]string{c})
	}
	ns.IP("route", "add", "192.0.2.128/26", "via", "10.20.0.2")
	// Frames arrive in order: whatever the table 200 routes sent came
	// before the rows of the route in the prefix.
	late := 0
	v.wait(t, "rows with 192.0.2.128/26", func(m map[string]any) bool {
		if m["type"] == "html" && m["target"] == "summary" {
			late++
		}
		h, _ := m["html"].(string)
		return m["type"] == "rows" && strings.Contains(h, "192.0.2.128/26")
	})
	if late > 0 {
		t.Errorf("%d summary frames for routes added to table 200, want none", late)
	}
	v.wait(t, "the summary of 3 routes", htmlFrame("summary", "3 routes in table main"))

	ns.IP("addr", "del", "10.30.0.1/24", "dev", "v2")
	v.waitRows(t, 30*time.Second, func(h string) bool {
		return !strings.Contains(h, "192.0.2.64/26") && strings.Contains(h, "192.0.2.128/26")
	})
}

// A view held back for changes it cannot show renders them late: the
// model's count in its summary follows routes added to another table.
func TestAViewShowsTheModelsCountOfChangesItCannotShowLate(t *testing.T) {
	setSlowEvery(t, 50*time.Millisecond)
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up", "addr add 10.20.0.1/24 dev v0"})
	// The kernel adds IPv6 routes for the links as they come up, in its
	// own time: the count before the change must hold all of them (once,
	// under CI's load, the summary counted one more than the test
	// expected, and it waited in vain).
	ns.SettledIPState()
	store, ta, _, ts := liveServer(t, ns)

	v := dialPage(t, ts, ta.viewer, "routes", "table=main")
	v.waitRows(t, 30*time.Second, func(h string) bool { return strings.Contains(h, "10.20.0.0/24") })
	before := store.RouteCount()
	ns.IP("route", "add", "172.20.0.1/32", "via", "10.20.0.2", "table", "200")
	// At least one more: the kernel may add or drop a route of its own
	// (IPv6, under CI's load) in the meantime, which the count follows too.
	v.wait(t, "the summary with the model's new count", func(m map[string]any) bool {
		h, _ := m["html"].(string)
		got := modelCount.FindStringSubmatch(h)
		if m["target"] != "summary" || got == nil {
			return false
		}
		n, err := strconv.Atoi(strings.ReplaceAll(got[1], ",", ""))
		return err == nil && n > before
	})
}

var modelCount = regexp.MustCompile(`\(([\d,]+) in the model\)`)

// setSlowEvery sets slowEvery for a test and puts it back after the hub
// the test starts next has stopped (cleanups run last first).
func setSlowEvery(t *testing.T, d time.Duration) { setFor(t, &slowEvery, d) }

// A change that lands between a flush's reading of the generations and
// its reading of the events is left to the next flush, whose generations
// count it: that flush finds its event and renders the view at once. (The
// first flush saw only an address change, which the view does not follow.)
func TestAChangeBetweenAFlushsReadsIsShownByTheNext(t *testing.T) {
	store := model.NewStore()
	hb := &Hub{store: store, clients: map[*client]struct{}{}}
	c := &client{key: "routes?table=main", spec: handlers.Live{Kinds: []model.Kind{model.KindRoute},
		Shows: func(url.Values) func(*model.Event) bool {
			return func(e *model.Event) bool { return e.Route != nil && e.Route.Table == 254 }
		}}}
	hb.clients[c] = struct{}{}
	addr := model.Addr{LinkIndex: 1, Family: unix.AF_INET, Prefix: netip.MustParsePrefix("10.20.0.1/24")}
	route := model.Route{Table: 254, Family: unix.AF_INET, Dst: netip.MustParsePrefix("192.0.2.0/24")}

	seq := store.Versions().Seq
	store.Update(func(a *model.Applier) { a.Addr(addr, false) })
	v1 := store.Versions()
	store.Update(func(a *model.Applier) { a.Route(route, false, false) }) // after the generations were read
	hb.showable([]model.Kind{model.KindAddr}, nil, &seq, v1.Seq)
	v2 := store.Versions()
	if shows, _ := hb.showable([]model.Kind{model.KindRoute}, nil, &seq, v2.Seq); !shows(c) {
		t.Fatal("the flush that counts a route of table main does not show it to a view of table main")
	}
}
