package networkd

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// TestForeignViewOfGeneratedStatesCountsAsItWalks compares, over random
// states, the view read from a *model.Store (class counts, the named
// routes looked up one by one or read from their link's run, pages by
// position) with the walk of every route (a Source without counts): the
// same counts, groups and pages, at random offsets. The files name all
// of some links' routes (a save's selection: read from the runs), a few
// routes of another link (looked up) and device-less routes; some states
// have a multipath route (no runs: looked up).
func TestForeignViewOfGeneratedStatesCountsAsItWalks(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 17))
			links := []model.Link{{Index: 1, Name: "lo", LinkType: "loopback"}}
			for i := range 4 {
				links = append(links, model.Link{Index: int32(2 + i), Name: fmt.Sprintf("eth%d", i), LinkType: "ether", RawFlags: 0x10043})
			}
			var routes []model.Route
			seen := map[string]bool{}
			for range 150 + r.IntN(250) {
				rt := model.Route{Family: unix.AF_INET, Table: []uint32{254, 100, 101}[r.IntN(3)], Type: unix.RTN_UNICAST,
					Protocol: []uint8{unix.RTPROT_STATIC, unix.RTPROT_BOOT, unix.RTPROT_DHCP, unix.RTPROT_KERNEL}[r.IntN(4)],
					Dst:      pfx(fmt.Sprintf("10.%d.%d.0/24", r.IntN(4), r.IntN(256))), LinkIndex: int32(2 + r.IntN(4)), Priority: uint32(r.IntN(3))}
				if rt.Protocol == unix.RTPROT_KERNEL {
					rt.Scope = unix.RT_SCOPE_LINK
				} else {
					rt.Gateway = ip(fmt.Sprintf("192.0.2.%d", 1+r.IntN(3)))
				}
				if r.IntN(10) == 0 {
					rt.Type, rt.Gateway, rt.LinkIndex, rt.Scope = unix.RTN_BLACKHOLE, netip.Addr{}, 0, 0
				}
				key := fmt.Sprint(rt.Table, rt.Dst, rt.Priority, rt.Type)
				if seen[key] {
					continue
				}
				seen[key] = true
				routes = append(routes, rt)
			}
			if seed%4 == 3 {
				routes = append(routes, model.Route{Family: unix.AF_INET, Table: 100, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
					Dst: pfx("10.200.0.0/24"), Extra: &model.RouteExtra{Multipath: []model.Nexthop{{LinkIndex: 2, Gateway: ip("192.0.2.1")}, {LinkIndex: 3, Gateway: ip("192.0.2.2")}}}})
			}
			st := model.State{Links: links, Routes: routes}
			store := model.NewStoreFrom(st)
			walk := &fakeSource{links: links}
			store.EachRoute(func(r *model.Route) bool { walk.routes = append(walk.routes, *r); return true })

			// A save of one or two links names all their routes; a file
			// on disk names a few of another's, and two blackholes.
			sel := []string{links[1+r.IntN(4)].Name}
			if r.IntN(2) == 0 {
				sel = append(sel, links[1+r.IntN(4)].Name)
			}
			slices.Sort(sel)
			pending, err := genFiles(walk, slices.Compact(sel), nil)
			if err != nil {
				t.Fatal(err)
			}
			other := links[1+r.IntN(4)]
			var b strings.Builder
			b.WriteString("[Match]\nName=" + other.Name + "\n")
			for _, rt := range walk.routes {
				if r.IntN(8) != 0 || rt.Protocol == unix.RTPROT_KERNEL || (rt.LinkIndex != other.Index && rt.Type != unix.RTN_BLACKHOLE) {
					continue
				}
				fmt.Fprintf(&b, "\n[Route]\nDestination=%s\nTable=%d\nMetric=%d\n", rt.Dst, rt.Table, rt.Priority)
				if rt.Type == unix.RTN_BLACKHOLE {
					b.WriteString("Type=blackhole\n")
				} else {
					fmt.Fprintf(&b, "Gateway=%s\n", rt.Gateway)
				}
			}
			disk := configOf(t, map[string]string{"50-" + other.Name + ".network": b.String()})

			walked := NewForeignView(disk, pending, walk, nil)
			counted := NewForeignView(disk, pending, store, nil)
			if w, c := walked.Count(), counted.Count(); w != c {
				t.Fatalf("walked count %+v, counted %+v", w, c)
			}
			if w, c := walked.Groups(), counted.Groups(); !slices.Equal(w, c) {
				t.Fatalf("groups differ:\nwalked  %+v\ncounted %+v", w, c)
			}
			all := walked.Page(nil, 0, walked.Count().Total())
			if got := counted.Page(nil, 0, len(all)); !slices.Equal(got, all) {
				t.Fatalf("the counted view lists %d objects, the walk %d, or others", len(got), len(all))
			}
			for range 20 {
				off, n := r.IntN(len(all)+1), 1+r.IntN(40)
				if got, want := counted.Page(nil, off, n), walked.Page(nil, off, n); !slices.Equal(got, want) {
					t.Fatalf("page from %d of %d: counted %v, walked %v", off, n, got, want)
				}
			}
		})
	}
}

// The pages of a group are the same whichever way seekRows finds their
// start: by ranking the routes the files name in the run, or by reading
// the run from its start.
func TestForeignPagesEitherWayTheySeek(t *testing.T) {
	defer func(c int) { rankCost = c }(rankCost)
	for _, c := range []int{0, 1 << 30} {
		rankCost = c
		t.Run(fmt.Sprint("rank cost ", c), func(t *testing.T) {
			TestForeignPagesSeekAsTheyWalk(t)
			TestForeignViewOfGeneratedStatesCountsAsItWalks(t)
		})
	}
}
