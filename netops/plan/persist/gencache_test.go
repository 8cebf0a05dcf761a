package persist_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"golang.org/x/sys/unix"
)

// churn is a model store a test changes at random, with what it holds,
// and a manager over it and its files.
type churn struct {
	t      *testing.T
	rng    *rand.Rand
	store  *model.Store
	tables atomic.Pointer[rttables.Tables]
	m      *persist.Manager
	opts   persist.Options
	links  []model.Link // but lo
	routes []model.Route
	addrs  []model.Addr
	rules  []model.Rule
	mp     *model.Route // a multipath route the next change removes
	step   string       // what the last step did, for failures
}

func newChurn(t *testing.T, seed uint64) *churn {
	c := &churn{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	lo := link(1, "lo", "")
	lo.LinkType, lo.RawFlags = "loopback", unix.IFF_UP|unix.IFF_LOOPBACK|unix.IFF_RUNNING
	br0 := link(2, "br0", "bridge")
	eth0 := link(3, "eth0", "")
	eth0.MasterIndex = 2
	c.links = []model.Link{br0, eth0}
	for i := int32(4); i < 9; i++ {
		c.links = append(c.links, link(i, fmt.Sprintf("eth%d", i-3), ""))
	}
	st := model.State{Links: append([]model.Link{lo}, c.links...), Rules: hostState().Rules}
	// A rule of a table no route uses goes to home's file.
	st.Rules = append(st.Rules, model.Rule{Family: unix.AF_INET, Priority: 900, Action: unix.FR_ACT_TO_TBL, Table: 300,
		SuppressPrefixLen: -1, Mark: 0x40, Mask: 0xffffffff, HasMark: true, HasMask: true})
	for i, l := range c.links {
		a := permanent(l.Index, fmt.Sprintf("10.%d.0.1/24", 100+i))
		st.Addrs = append(st.Addrs, a)
		c.addrs = append(c.addrs, a)
	}
	for range 40 {
		r := c.randomRoute()
		if !slices.ContainsFunc(st.Routes, func(x model.Route) bool { return sameKey(x, r) }) {
			st.Routes = append(st.Routes, r)
		}
	}
	c.routes = slices.Clone(st.Routes)
	c.rules = slices.Clone(st.Rules)
	c.tables.Store(rttables.New(rttables.Entry{ID: 100, Name: "wanforce"}))
	c.store = model.NewStoreFrom(st)
	root := t.TempDir()
	c.opts = persist.Options{
		NetworkDir: filepath.Join(root, "network"), ConfDir: filepath.Join(root, "networkd.conf.d"),
		BackupDir: filepath.Join(root, "backup"), Target: networkd.Target{Version: 252, How: "test"},
		Now: func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC) },
	}
	for _, d := range []string{c.opts.NetworkDir, c.opts.ConfDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c.m = persist.New(c.opts, c.store, c.tables.Load)
	return c
}

func sameKey(a, b model.Route) bool {
	return a.Table == b.Table && a.Family == b.Family && a.Dst == b.Dst && a.Priority == b.Priority && a.Tos == b.Tos
}

// randomRoute is a route of one of three tables through a random link,
// now and then a blackhole (which goes to no link's file but home's) or
// a default route of the main table (of one of three metrics: the best
// one's link is the uplink, home if saved), and now and then IPv6.
func (c *churn) randomRoute() model.Route {
	tables := []uint32{254, 100, 200}
	r := model.Route{Family: unix.AF_INET, Table: tables[c.rng.IntN(3)], Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
		Dst:      netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(c.rng.IntN(4)), byte(c.rng.IntN(50)), 0}), 24),
		Priority: uint32(c.rng.IntN(3) * 100)}
	if c.rng.IntN(8) == 0 {
		r.Type = unix.RTN_BLACKHOLE
		return c.maybeSix(r)
	}
	i := c.rng.IntN(len(c.links))
	r.LinkIndex = c.links[i].Index
	r.Gateway = netip.AddrFrom4([4]byte{10, byte(100 + i), 0, byte(2 + c.rng.IntN(200))})
	if c.rng.IntN(6) == 0 {
		r.Protocol = unix.RTPROT_BOOT
	}
	if c.rng.IntN(6) == 0 { // a default route: the best one's link, if saved, is home
		r.Table, r.Dst = 254, netip.MustParsePrefix("0.0.0.0/0")
	}
	if c.rng.IntN(10) == 0 { // left out, with a notice naming the link and the table
		r.Extra = &model.RouteExtra{NhID: 7}
	}
	return c.maybeSix(r)
}

// maybeSix is r, or now and then its IPv6 twin: a device-less one
// through lo, as the kernel dumps them, a gateway link-local.
func (c *churn) maybeSix(r model.Route) model.Route {
	if c.rng.IntN(5) > 0 {
		return r
	}
	v4 := r.Dst.Addr().As4()
	r.Family = unix.AF_INET6
	r.Dst = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, v4[1], v4[2]}), 48)
	if r.Dst.Bits() == 0 || v4 == [4]byte{} {
		r.Dst = netip.MustParsePrefix("::/0")
	}
	if r.Gateway.IsValid() {
		gw := r.Gateway.As4()
		r.Gateway = netip.AddrFrom16([16]byte{0xfe, 0x80, 14: gw[2], 15: gw[3]})
	}
	if r.Type == unix.RTN_BLACKHOLE {
		r.LinkIndex = 1
	}
	return r
}

// multipath is a route through two links: while the model holds one, a
// route's class does not name every link it uses, and files are made by
// a walk.
func (c *churn) multipath() model.Route {
	r := c.randomRoute()
	r.Type = unix.RTN_UNICAST
	j := c.rng.IntN(len(c.links))
	r.Extra = &model.RouteExtra{Multipath: []model.Nexthop{
		{LinkIndex: c.links[0].Index, Gateway: netip.MustParseAddr("10.100.0.3")},
		{LinkIndex: c.links[j].Index, Gateway: netip.AddrFrom4([4]byte{10, byte(100 + j), 0, 3})}}}
	r.Dst, r.Gateway, r.LinkIndex = netip.MustParsePrefix("10.99.0.0/24"), netip.Addr{}, 0
	return r
}

func (c *churn) update(fn func(a *model.Applier)) { c.store.Update(fn) }

// change makes one random change of the model, the table names or the
// files on disk, and says which.
func (c *churn) change() {
	if c.mp != nil { // gone again, with this step's change
		r := *c.mp
		c.mp = nil
		c.update(func(a *model.Applier) { a.Route(r, true, false) })
	}
	switch k := c.rng.IntN(19); {
	case k < 3: // a route added or replaced
		r := c.randomRoute()
		c.routes = slices.DeleteFunc(c.routes, func(x model.Route) bool { return sameKey(x, r) })
		c.routes = append(c.routes, r)
		c.update(func(a *model.Applier) { a.Route(r, false, true) })
		c.step = "route added " + r.Dst.String()
	case k < 5 && len(c.routes) > 0: // a route removed
		i := c.rng.IntN(len(c.routes))
		r := c.routes[i]
		c.routes = slices.Delete(c.routes, i, i+1)
		c.update(func(a *model.Applier) { a.Route(r, true, false) })
		c.step = "route removed " + r.Dst.String()
	case k < 7 && len(c.routes) > 0: // a route moved to another link
		i := c.rng.IntN(len(c.routes))
		old := c.routes[i]
		r := old
		j := c.rng.IntN(len(c.links))
		r.Type, r.LinkIndex = unix.RTN_UNICAST, c.links[j].Index
		r.Gateway = netip.AddrFrom4([4]byte{10, byte(100 + j), 0, 9})
		if r.Family == unix.AF_INET6 {
			r.Gateway = netip.MustParseAddr("fe80::9")
		}
		c.routes[i] = r
		c.update(func(a *model.Applier) { a.Route(old, true, false); a.Route(r, false, false) })
		c.step = "route moved " + r.Dst.String() + " to " + c.links[j].Name
	case k == 7: // an address added or removed
		l := c.links[c.rng.IntN(len(c.links))]
		a := permanent(l.Index, fmt.Sprintf("172.16.%d.%d/24", c.rng.IntN(4), 1+c.rng.IntN(3)))
		del := slices.Contains(c.addrs, a)
		if del {
			c.addrs = slices.DeleteFunc(c.addrs, func(x model.Addr) bool { return x == a })
		} else {
			c.addrs = append(c.addrs, a)
		}
		c.update(func(ap *model.Applier) { ap.Addr(a, del) })
		c.step = fmt.Sprintf("address %s on %s, removed %t", a.Prefix, l.Name, del)
	case k == 8: // a rule added or removed
		r := model.Rule{Family: unix.AF_INET, Priority: uint32(1000 + c.rng.IntN(3)), Action: unix.FR_ACT_TO_TBL,
			Table: []uint32{100, 200}[c.rng.IntN(2)], SuppressPrefixLen: -1, Mark: 0x10, Mask: 0xffffffff, HasMark: true, HasMask: true}
		i := slices.IndexFunc(c.rules, func(x model.Rule) bool { return x.Priority == r.Priority })
		if i >= 0 {
			r = c.rules[i]
			c.rules = slices.Delete(c.rules, i, i+1)
		} else {
			c.rules = append(c.rules, r)
		}
		c.update(func(a *model.Applier) { a.Rule(r, i >= 0) })
		c.step = fmt.Sprintf("rule %d, removed %t", r.Priority, i >= 0)
	case k == 9: // a link renamed
		i := 2 + c.rng.IntN(len(c.links)-2)
		l := c.links[i]
		if strings.HasPrefix(l.Name, "eth") {
			l.Name = "wan" + l.Name[3:]
		} else {
			l.Name = "eth" + l.Name[3:]
		}
		c.links[i] = l
		c.update(func(a *model.Applier) { a.Link(l, false) })
		c.step = "link renamed " + l.Name
	case k == 10: // the table names edited
		names := []rttables.Entry{{ID: 100, Name: "wanforce"}}
		if c.rng.IntN(2) == 0 {
			names = append(names, rttables.Entry{ID: 200, Name: fmt.Sprintf("t%d", c.rng.IntN(3))})
		}
		c.tables.Store(rttables.New(names...))
		c.step = fmt.Sprintf("table names %v", names)
	case k == 11: // a file on disk edited, removed or rewritten as it is
		c.editFile()
	case k == 13: // a resync: every link's count of changes starts again
		c.step = "resync"
		if len(c.routes) > 0 && c.rng.IntN(2) == 0 { // of a state a route missed
			i := c.rng.IntN(len(c.routes))
			c.step = "resync without " + c.routes[i].Dst.String()
			c.routes = slices.Delete(c.routes, i, i+1)
		}
		d := model.NewDump()
		lo := link(1, "lo", "")
		lo.LinkType, lo.RawFlags = "loopback", unix.IFF_UP|unix.IFF_LOOPBACK|unix.IFF_RUNNING
		for _, l := range append([]model.Link{lo}, c.links...) {
			d.Link(l, false)
		}
		for _, a := range c.addrs {
			d.Addr(a, false)
		}
		for _, r := range c.routes {
			d.Route(r, false, true)
		}
		for _, r := range c.rules {
			d.Rule(r, false)
		}
		c.store.Replace(d, "test")
	case k == 14: // a link's MTU changed, or the link down or up again
		i := c.rng.IntN(len(c.links))
		l := c.links[i]
		if c.rng.IntN(2) == 0 {
			l.MTU = 1500 + 7500 - l.MTU // 1500, 9000
		} else {
			l.RawFlags ^= unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_LOWER_UP
			l.OperState = map[bool]string{true: "UP", false: "DOWN"}[l.RawFlags&unix.IFF_UP != 0]
		}
		c.links[i] = l
		c.update(func(a *model.Applier) { a.Link(l, false) })
		c.step = fmt.Sprintf("link %s, mtu %d, flags %#x", l.Name, l.MTU, l.RawFlags)
	case k == 15: // a drop-in of a link's file added or removed
		l := c.links[c.rng.IntN(len(c.links))]
		dir := filepath.Join(c.opts.NetworkDir, "10-"+l.Name+".network.d")
		path := filepath.Join(dir, "50-extra.conf")
		if _, err := os.Stat(path); err == nil {
			if err := os.Remove(path); err != nil {
				c.t.Fatal(err)
			}
			c.step = "drop-in removed " + path
			break
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			c.t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("[Route]\nDestination=10.1.7.0/24\nGateway=10.100.0.7\n"), 0o644); err != nil {
			c.t.Fatal(err)
		}
		c.step = "drop-in added " + path
	case k == 12:
		r := c.multipath()
		c.mp = &r
		c.update(func(a *model.Applier) { a.Route(r, false, true) })
		c.step = "multipath route added"
	default: // the previewed files written
		p, err := c.m.Preview(persist.Selection{Links: c.names()})
		if err != nil {
			c.t.Fatal(err)
		}
		if len(p.Plan.Changes) > 0 && len(p.Plan.Refused()) == 0 {
			if _, err := c.m.Write(p, p.Digest); err != nil {
				c.t.Fatal(err)
			}
		}
		c.step = "saved"
	}
}

// editFile edits one of the generated files on disk.
func (c *churn) editFile() {
	entries, _ := os.ReadDir(c.opts.NetworkDir)
	entries = slices.DeleteFunc(entries, func(e os.DirEntry) bool { return e.IsDir() }) // drop-in directories
	if len(entries) == 0 {
		c.step = "no file to edit"
		return
	}
	path := filepath.Join(c.opts.NetworkDir, entries[c.rng.IntN(len(entries))].Name())
	data, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatal(err)
	}
	switch c.rng.IntN(4) {
	case 0:
		data = bytes.Replace(data, []byte("Gateway=10."), []byte("Gateway=11."), 1)
	case 1:
		data = append(data, "\n[Route]\nDestination=10.250.0.0/24\nGateway=10.100.0.9\n"...)
	case 2:
		if err := os.Remove(path); err != nil {
			c.t.Fatal(err)
		}
		c.step = "removed " + path
		return
	}
	// case 3: the same bytes again, a new identity
	if err := os.WriteFile(path, data, 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.step = "edited " + path
}

// names are the links a save can select: all but lo.
func (c *churn) names() []string {
	var out []string
	for _, l := range c.links {
		out = append(out, l.Name)
	}
	return out
}

// selection is every link, or now and then a few of them.
func (c *churn) selection() []string {
	names := c.names()
	if c.rng.IntN(4) > 0 {
		return names
	}
	var sel []string
	for _, n := range names {
		if n != "eth0" && c.rng.IntN(2) == 0 || n == "br0" {
			sel = append(sel, n)
		}
	}
	return sel
}

// samePreview fails unless got (the manager's, from what it kept) is
// the preview want (made without keeping anything) shows; dir is where
// the .network files are.
func samePreview(t *testing.T, step, dir string, got, want *persist.Preview) {
	t.Helper()
	type change struct {
		Rel, Abs           string
		Old, New           string
		Foreign, TakenOver bool
	}
	changes := func(p *persist.Preview) []change {
		var out []change
		for _, c := range p.Plan.Changes {
			out = append(out, change{c.Rel, c.Abs, string(c.Old), string(c.New), c.Foreign, c.TakenOver})
		}
		return out
	}
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"changes", changes(got), changes(want)},
		{"digest", got.Digest, want.Digest},
		{"commands", got.Commands, want.Commands},
		{"notices", got.Notices, want.Notices},
		{"placements", got.Placements, want.Placements},
		{"lost count", got.LostCount, want.LostCount},
		{"lost", got.Lost, want.Lost},
		{"missing", got.Missing, want.Missing},
		{"prediction", got.Prediction, want.Prediction},
		{"target", got.Target, want.Target},
		{"selection", got.Selection, want.Selection},
	} {
		if !reflect.DeepEqual(f.got, f.want) {
			t.Fatalf("after %s: the %s differ:\n got %+v\nwant %+v", step, f.name, f.got, f.want)
		}
	}
	// Every file it left out unread (Apply reads them again, to refuse a
	// stale plan) the uncached plan left out as well, as holding the same
	// content: not the converse, for the uncached manager makes every
	// file, and leaves out unread one that the manager read, unchanged,
	// because it changed on disk after the files on disk it keeps were
	// read (both plans are then of the same disk).
	for _, u := range got.Plan.Unread {
		if !slices.Contains(want.Plan.Unread, u) {
			t.Fatalf("after %s: %s left out unread as holding %x, which the uncached plan does not:\n got %+v\nwant %+v", step, u.Rel, u.Sum, got.Plan.Unread, want.Plan.Unread)
		}
	}
	// Every file it made is the one made without the cache; every file it
	// did not make is on disk as made without the cache.
	for rel, data := range want.Files {
		if mine, made := got.Files[rel]; made {
			if !bytes.Equal(mine, data) {
				t.Fatalf("after %s: %s differs from the uncached one:\n%s\nwant\n%s", step, rel, mine, data)
			}
			continue
		}
		if disk, err := os.ReadFile(filepath.Join(dir, rel)); err != nil || !bytes.Equal(disk, data) {
			t.Fatalf("after %s: %s was not made, but the disk holds another (%v):\n%s\nwant\n%s", step, rel, err, disk, data)
		}
	}
	if len(got.Files) > len(want.Files) {
		t.Fatalf("after %s: made %d files, the uncached manager %d", step, len(got.Files), len(want.Files))
	}
}

// TestPreviewFromKeptFilesIsTheUncachedPreview changes the model (routes
// added, removed, moved between links, IPv4 and IPv6, blackholes, default
// routes, addresses, rules, link names, MTUs, links down and up), the
// table names and the files on disk (edited, removed, drop-ins) at
// random, saves now and then, and after every step compares the manager's preview, which makes
// again only the files whose inputs or disk copy changed, with a
// manager's that makes every file (networkd.Generate): the same changes,
// bytes, digest, commands, notices, placements, lost objects and counts,
// missing links and prediction. The save checks the digest of the plan
// it makes again: Plan's digest must be the preview's too.
func TestPreviewFromKeptFilesIsTheUncachedPreview(t *testing.T) {
	made, steps, recounted, uplinked := 0, 0, 0, 0
	for seed := range uint64(6) {
		c := newChurn(t, seed)
		if seed >= 3 {
			persist.SetBatchRoutes(t, 4*int(seed)) // generations in batches of a link or a few
		}
		if seed == 4 {
			persist.SetKeptNotices(t, 0) // a link with a left-out route is made every time
		}
		if seed%2 == 1 {
			c.m.SetForeignPage(1 + int(seed)) // pages that end within a group, past several
		}
		for range 60 {
			c.change()
			sel := persist.Selection{Links: c.selection()}
			before, counted := c.m.Made(), c.m.Recounted()
			got, err := c.m.Preview(sel)
			if err != nil {
				t.Fatalf("seed %d, after %s: %v", seed, c.step, err)
			}
			made += c.m.Made() - before
			recounted += c.m.Recounted() - counted
			steps++
			want, err := c.m.Uncached().Preview(sel)
			if err != nil {
				t.Fatalf("seed %d, after %s: the uncached preview fails: %v", seed, c.step, err)
			}
			samePreview(t, fmt.Sprintf("seed %d, %s", seed, c.step), c.opts.NetworkDir, got, want)
			if slices.ContainsFunc(got.Placements, func(p networkd.Placement) bool { return strings.Contains(p.Reason, "is the uplink") }) {
				uplinked++
			}
			sameForeign(t, fmt.Sprintf("seed %d, %s", seed, c.step), c.m)
			plan, err := c.m.Plan(sel)
			if err != nil || plan.Digest != got.Digest {
				t.Fatalf("seed %d, after %s: Plan's digest %v (%v), the preview's %s", seed, c.step, plan.Digest, err, got.Digest)
			}
		}
	}
	// Not a timing: that the comparisons above compared kept files, not
	// only files made every time. Made and Recounted count the files and
	// links of the cached paths alone: none means the manager never took
	// them (the model no longer read as the cache reads it).
	if made == 0 || recounted == 0 {
		t.Errorf("the manager made %d .network files and counted %d links' foreign routes through its caches: it bypassed them", made, recounted)
	}
	if made >= steps*6 || recounted >= steps*7 {
		t.Errorf("the manager made %d .network files and counted %d links' foreign routes in %d previews: it keeps none", made, recounted, steps)
	}
	// That the home of the device-less routes and of the rules no table
	// places moved with the uplink (a default route's link, saved) and
	// back.
	if uplinked == 0 || uplinked == steps {
		t.Errorf("the rules went to the uplink's file in %d previews of %d: the uplink was never or always home", uplinked, steps)
	}
	t.Logf("%d .network files made, %d links' foreign routes counted, in %d previews; home was the uplink in %d",
		made, recounted, steps, uplinked)
}

// savedChurn is newChurn with the files of a save of every link on disk,
// and that selection.
func savedChurn(t *testing.T, seed uint64) (*churn, persist.Selection) {
	c := newChurn(t, seed)
	sel := persist.Selection{Links: c.names()}
	p, err := c.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.m.Write(p, p.Digest); err != nil {
		t.Fatal(err)
	}
	return c, sel
}

// TestPreviewMakesOnlyTheFileOfTheChangedLink: once the files are saved,
// a route changed through one link makes that link's file again and no
// other, and the preview shows that one change.
func TestPreviewMakesOnlyTheFileOfTheChangedLink(t *testing.T) {
	c, sel := savedChurn(t, 7)
	p, err := c.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Plan.Changes) != 0 {
		t.Fatalf("after the save, changes %v", p.Plan.Changes)
	}
	before, counted := c.m.Made(), c.m.Recounted()
	r := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
		Dst: netip.MustParsePrefix("10.77.0.0/24"), Gateway: netip.MustParseAddr("10.104.0.7"), LinkIndex: 6} // eth3
	c.update(func(a *model.Applier) { a.Route(r, false, false) })
	if p, err = c.m.Preview(sel); err != nil {
		t.Fatal(err)
	}
	if n := c.m.Made() - before; n != 1 {
		t.Errorf("one route added made %d .network files, want 1", n)
	}
	if n := c.m.Recounted() - counted; n != 1 {
		t.Errorf("one route added counted the foreign routes of %d links, want 1", n)
	}
	if len(p.Plan.Changes) != 1 || p.Plan.Changes[0].Rel != "10-eth3.network" {
		t.Fatalf("changes %v, want 10-eth3.network", p.Plan.Changes)
	}
	if _, ok := p.Files["10-eth1.network"]; ok {
		t.Errorf("the preview made 10-eth1.network, whose link did not change")
	}
	want, err := c.m.Uncached().Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	samePreview(t, "one route added", c.opts.NetworkDir, p, want)
}

// movingSource is a model store whose routes or files change once while
// a generation reads them: at the at-th RouteStamps (the second is the
// start of a generation's second batch; the first is read before any
// file is generated), or the at-th Links when onLinks (each view of what
// no file describes reads them), move runs; back, if any, at the next.
//
// A preview reads it from two goroutines at once (the foreign view and
// the prediction): the count is under mu.
type movingSource struct {
	*model.Store
	mu      sync.Mutex
	at      int
	onLinks bool
	calls   int
	move    func()
	back    func()
	moved   bool
}

func (s *movingSource) RouteStamps() model.RouteStamps {
	if !s.onLinks {
		s.tick()
	}
	return s.Store.RouteStamps()
}

func (s *movingSource) Links() []model.Link {
	if s.onLinks {
		s.tick()
	}
	return s.Store.Links()
}

func (s *movingSource) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls == s.at && !s.moved {
		s.moved = true
		s.move()
	}
	if s.calls == s.at+1 && s.moved && s.back != nil {
		s.back()
	}
}

// movingRoute adds a route to dst through br0 to c's store, and is the
// store whose move moves it to eth4 (as `ip route replace ... dev`).
func movingRoute(c *churn, dst string) *movingSource {
	r := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
		Dst: netip.MustParsePrefix(dst), Gateway: netip.MustParseAddr("10.100.0.8"), LinkIndex: 2} // br0
	c.update(func(a *model.Applier) { a.Route(r, false, false) })
	moved := r
	moved.LinkIndex, moved.Gateway = 7, netip.MustParseAddr("10.105.0.8") // eth4
	return &movingSource{Store: c.store, move: func() {
		c.update(func(a *model.Applier) { a.Route(r, true, false); a.Route(moved, false, false) })
	}}
}

// TestPreviewOfBatchesThatReadTwoStatesIsMadeAgain: a route moves from
// the link of the first batch to one of a later batch between the two;
// the preview must not hold it in both files (the batches read two
// states), but be the uncached preview of the state after the move.
func TestPreviewOfBatchesThatReadTwoStatesIsMadeAgain(t *testing.T) {
	c := newChurn(t, 11)
	persist.SetBatchRoutes(t, 1) // a link a batch: br0 first
	src := movingRoute(c, "10.88.0.0/24")
	src.at = 2
	m := persist.New(c.opts, src, c.tables.Load)
	sel := persist.Selection{Links: c.names()}
	got, err := m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if !src.moved {
		t.Fatal("the route did not move during the generation: the test tests nothing")
	}
	for _, name := range []string{"10-br0.network", "10-eth4.network"} {
		has := bytes.Contains(got.Files[name], []byte("Destination=10.88.0.0/24"))
		if has != (name == "10-eth4.network") {
			t.Errorf("%s holds the moved route: %t", name, has)
		}
	}
	want, err := m.Uncached().Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	samePreview(t, "a route moved between two batches", c.opts.NetworkDir, got, want)
}

// flippingSource is a model store that runs flip at every reading of
// the routes' stamps while the generations read the model's generations
// at most three times: the first two generations of batches (each reads
// them at its start and, after the stamps, at its end), not the whole
// one after them nor what no file describes.
//
// A preview reads it from two goroutines at once (see persist.Source):
// the counts, and flip, are under mu.
type flippingSource struct {
	*model.Store
	mu          sync.Mutex
	gens, flips int
	flip        func()
}

func (s *flippingSource) Gens() [model.NumKinds]uint64 {
	s.mu.Lock()
	s.gens++
	s.mu.Unlock()
	return s.Store.Gens()
}

func (s *flippingSource) RouteStamps() model.RouteStamps {
	s.mu.Lock()
	if s.gens >= 1 && s.gens <= 3 {
		s.flips++
		s.flip()
	}
	s.mu.Unlock()
	return s.Store.RouteStamps()
}

// TestPreviewOfBatchesThatNeverReadOneStateIsMadeWhole: a route moves
// between two links and back at every batch of two generations in a
// row; the third generation is made whole, at once, and the preview is
// the uncached one of the state after.
func TestPreviewOfBatchesThatNeverReadOneStateIsMadeWhole(t *testing.T) {
	c := newChurn(t, 17)
	persist.SetBatchRoutes(t, 1) // a link a batch
	r := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
		Dst: netip.MustParsePrefix("10.87.0.0/24"), Gateway: netip.MustParseAddr("10.100.0.8"), LinkIndex: 2} // br0
	moved := r
	moved.LinkIndex, moved.Gateway = 7, netip.MustParseAddr("10.105.0.8") // eth4
	c.update(func(a *model.Applier) { a.Route(r, false, false) })
	there := false
	src := &flippingSource{Store: c.store, flip: func() {
		from, to := r, moved
		if there {
			from, to = moved, r
		}
		there = !there
		c.update(func(a *model.Applier) { a.Route(from, true, false); a.Route(to, false, false) })
	}}
	m := persist.New(c.opts, src, c.tables.Load)
	sel := persist.Selection{Links: c.names()}
	got, err := m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if m.Wholes() != 1 || src.flips < 6 {
		t.Fatalf("%d whole generations after %d moves: want one, after a few", m.Wholes(), src.flips)
	}
	want, err := m.Uncached().Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	samePreview(t, "a route moved at every batch of two generations", c.opts.NetworkDir, got, want)
}

// TestPreviewOfBatchesOfALinkRenamedAndBackIsMadeAgain: a saved link is
// renamed between two batches of a generation, and back before the next
// reading: the second batch cannot prepare the selection, which is the
// state changing under the generation, not a bad selection; the preview
// is the uncached one of the state after.
func TestPreviewOfBatchesOfALinkRenamedAndBackIsMadeAgain(t *testing.T) {
	c := newChurn(t, 13)
	persist.SetBatchRoutes(t, 1) // a link a batch
	eth3 := c.links[slices.IndexFunc(c.links, func(l model.Link) bool { return l.Name == "eth3" })]
	renamed := eth3
	renamed.Name = "wan3"
	src := &movingSource{Store: c.store, at: 2,
		move: func() { c.update(func(a *model.Applier) { a.Link(renamed, false) }) },
		back: func() { c.update(func(a *model.Applier) { a.Link(eth3, false) }) }}
	m := persist.New(c.opts, src, c.tables.Load)
	sel := persist.Selection{Links: c.names()}
	got, err := m.Preview(sel)
	if err != nil {
		t.Fatalf("a link renamed and back during the generation: %v", err)
	}
	if !src.moved {
		t.Fatal("the link was not renamed during the generation: the test tests nothing")
	}
	want, err := m.Uncached().Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	samePreview(t, "a link renamed and back between two batches", c.opts.NetworkDir, got, want)
}

// TestPreviewOfBatchesWhoseHomeMovedIsMadeAgain: the device-less routes
// go to the uplink's file (the link of the best default route) when it
// is saved, to the first saved link otherwise. The best default route,
// through a link outside the selection, goes away between two batches of
// a generation: the next default route's link, saved, becomes home. The
// preview must not put the blackhole in two files (the batches read two
// homes), but be the uncached preview of the state after.
func TestPreviewOfBatchesWhoseHomeMovedIsMadeAgain(t *testing.T) {
	c := newChurn(t, 12)
	persist.SetBatchRoutes(t, 1) // a link a batch
	def := func(idx int32, gw string, metric uint32) model.Route {
		return model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr(gw), LinkIndex: idx, Priority: metric}
	}
	best, next := def(8, "10.107.0.1", 50), def(5, "10.104.0.1", 100) // eth5, eth2
	hole := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_BLACKHOLE, Protocol: unix.RTPROT_STATIC,
		Dst: netip.MustParsePrefix("10.250.0.0/24")}
	c.update(func(a *model.Applier) {
		for _, r := range c.routes { // the churn's own default routes
			if r.Table == 254 && r.Dst.Bits() == 0 {
				a.Route(r, true, false)
			}
		}
		a.Route(best, false, false)
		a.Route(next, false, false)
		a.Route(hole, false, false)
	})
	src := &movingSource{Store: c.store, at: 3, move: func() { // the third batch's start
		c.update(func(a *model.Applier) { a.Route(best, true, false) })
	}}
	m := persist.New(c.opts, src, c.tables.Load)
	sel := persist.Selection{Links: slices.DeleteFunc(c.names(), func(n string) bool { return n == "eth5" })}
	got, err := m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if !src.moved {
		t.Fatal("the default route did not go during the generation: the test tests nothing")
	}
	var holders []string
	for name, data := range got.Files {
		if bytes.Contains(data, []byte("Destination=10.250.0.0/24")) {
			holders = append(holders, name)
		}
	}
	if !slices.Equal(holders, []string{"10-eth2.network"}) {
		t.Errorf("the blackhole is in %v, want the new uplink's file alone", holders)
	}
	want, err := m.Uncached().Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	samePreview(t, "the uplink outside the selection went between two batches", c.opts.NetworkDir, got, want)
}

// TestSaveRefusesAKeptFileEditedSinceThePreview: a file the preview did
// not make (kept: the disk held it as generated) is edited before the
// save; the save, which plans again, must see it and refuse the digest
// the admin reviewed, writing nothing.
func TestSaveRefusesAKeptFileEditedSinceThePreview(t *testing.T) {
	c, sel := savedChurn(t, 5)
	r := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
		Dst: netip.MustParsePrefix("10.66.0.0/24"), Gateway: netip.MustParseAddr("10.104.0.6"), LinkIndex: 6} // eth3
	c.update(func(a *model.Applier) { a.Route(r, false, false) })
	p, err := c.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if _, made := p.Files["10-eth1.network"]; made || len(p.Plan.Changes) != 1 {
		t.Fatalf("the preview made 10-eth1.network (%t) or changes %d files, not eth3's alone", made, len(p.Plan.Changes))
	}
	// Unedited, the save's plan is the preview's: the refusal below is
	// the edit's.
	if again, err := c.m.Plan(sel); err != nil || again.Digest != p.Digest {
		t.Fatalf("the plan before the edit: %v, digest %v, the preview's %s", err, again.Digest, p.Digest)
	}
	path := filepath.Join(c.opts.NetworkDir, "10-eth1.network")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, "\n[Route]\nDestination=10.251.0.0/24\nGateway=10.102.0.9\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	before := tree(t, c.opts.NetworkDir)
	if _, err := c.m.Save(context.Background(), sel, p.Digest); !errors.Is(err, persist.ErrChanged) {
		t.Fatalf("Save after a kept file was edited: %v, want ErrChanged", err)
	}
	sameTree(t, before, tree(t, c.opts.NetworkDir))
}

// TestSaveRefusesAKeptFileEditedDuringItsGeneration: a file the
// preview kept (the disk held it as generated) is edited while the save
// generates the others, after the manager compared it with the disk;
// the save must see the edit, as a plan that reads every file does, and
// refuse the digest the admin reviewed, writing nothing.
func TestSaveRefusesAKeptFileEditedDuringItsGeneration(t *testing.T) {
	c, sel := savedChurn(t, 5)
	path := filepath.Join(c.opts.NetworkDir, "10-eth1.network")
	src := &movingSource{Store: c.store}
	m := persist.New(c.opts, src, c.tables.Load)
	r := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
		Dst: netip.MustParsePrefix("10.66.0.0/24"), Gateway: netip.MustParseAddr("10.104.0.6"), LinkIndex: 6} // eth3
	c.update(func(a *model.Applier) { a.Route(r, false, false) })
	if _, err := m.Preview(sel); err != nil { // what the manager keeps: every file on disk
		t.Fatal(err)
	}
	p, err := m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if _, made := p.Files["10-eth1.network"]; made || len(p.Plan.Changes) != 1 {
		t.Fatalf("the preview made 10-eth1.network (%t) or changes %d files, not eth3's alone", made, len(p.Plan.Changes))
	}
	// The save's first reading of the model's routes comes after it
	// compared the kept files with the disk, before it generates.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := append(data, "\n[Route]\nDestination=10.251.0.0/24\nGateway=10.102.0.9\n"...)
	src.calls, src.at = 0, 1
	src.move = func() {
		if err := os.WriteFile(path, edited, 0o644); err != nil {
			t.Error(err)
		}
	}
	before := tree(t, c.opts.NetworkDir)
	before["10-eth1.network"] = string(edited) // the edit alone
	if _, err := m.Save(context.Background(), sel, p.Digest); !errors.Is(err, persist.ErrChanged) {
		t.Fatalf("Save after a kept file was edited during its generation: %v, want ErrChanged", err)
	}
	if !src.moved {
		t.Fatal("the file was not edited during the generation: the test tests nothing")
	}
	sameTree(t, before, tree(t, c.opts.NetworkDir))
	// The next preview shows the edit undone.
	again, err := m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Uncached().Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	samePreview(t, "a kept file edited during a save", c.opts.NetworkDir, again, want)
}

// TestPreviewOfAFileSavedDuringItsGenerationReadsItSaved: a file the
// preview makes again is written as made (a concurrent save) while the
// preview generates, after it read the files on disk: the plan finds it
// unchanged, so what networkd would delete and is expected to do must
// read it as saved, not the copy read before, and be the uncached
// preview's of the files on disk after.
func TestPreviewOfAFileSavedDuringItsGenerationReadsItSaved(t *testing.T) {
	c, sel := savedChurn(t, 5)
	src := &movingSource{Store: c.store}
	m := persist.New(c.opts, src, c.tables.Load)
	if _, err := m.Preview(sel); err != nil {
		t.Fatal(err)
	}
	r := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
		Dst: netip.MustParsePrefix("10.67.0.0/24"), Gateway: netip.MustParseAddr("10.104.0.6"), LinkIndex: 6} // eth3
	c.update(func(a *model.Applier) { a.Route(r, false, false) })
	saved, err := m.Uncached().Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	data, ok := saved.Files["10-eth3.network"]
	if !ok || saved.LostCount.Routes == 0 {
		t.Fatalf("the route added is not in eth3's file (%t), or nothing else is lost (%+v): the test tests nothing", ok, saved.LostCount)
	}
	src.calls, src.at = 0, 1 // once the files on disk are read, before the generation
	src.move = func() {
		if err := os.WriteFile(filepath.Join(c.opts.NetworkDir, "10-eth3.network"), data, 0o644); err != nil {
			t.Error(err)
		}
	}
	got, err := m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if !src.moved || len(got.Plan.Changes) != 0 {
		t.Fatalf("eth3's file was not saved during the generation (%t), or the plan changes %d files", src.moved, len(got.Plan.Changes))
	}
	want, err := m.Uncached().Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	samePreview(t, "eth3's file saved during the generation", c.opts.NetworkDir, got, want)
}

// TestKeptFilesHoldAtMostKeptNoticesInAll: the route notices the
// manager keeps with the files (one per route a file leaves out) are
// capped in all, not per link: with routes left out through several
// links, each under the cap and all of them over it, the manager keeps
// no more than the cap, makes again the files it could not keep, and
// its previews are still the uncached ones.
func TestKeptFilesHoldAtMostKeptNoticesInAll(t *testing.T) {
	c, sel := savedChurn(t, 9)
	c.update(func(a *model.Applier) {
		for i, idx := range []int32{4, 5, 4, 5} { // eth1, eth2: left out, each with a notice
			a.Route(model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
				Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 70, byte(i), 0}), 24), LinkIndex: idx,
				Extra: &model.RouteExtra{NhID: 9}}, false, false)
		}
	})
	want, err := c.m.Uncached().Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string]int{}
	total := 0
	for _, n := range want.Notices {
		if n.Kind == "route" {
			byFile[n.Link]++
			total++
		}
	}
	most := 0
	for _, n := range byFile {
		most = max(most, n)
	}
	if len(byFile) < 2 || most >= total {
		t.Fatalf("route notices %v: the test needs them in two files at least", byFile)
	}
	persist.SetKeptNotices(t, total-1) // every file's under it, all of them over
	m := persist.New(c.opts, c.store, c.tables.Load)
	for i := range 2 {
		before := m.Made()
		got, err := m.Preview(sel)
		if err != nil {
			t.Fatal(err)
		}
		if n := m.KeptNotices(); n > total-1 || n == 0 {
			t.Fatalf("preview %d: the kept files hold %d route notices, want some and at most %d", i, n, total-1)
		}
		if i == 1 && m.Made() == before {
			t.Error("the second preview made no file again: a file whose notices did not fit was kept")
		}
		samePreview(t, fmt.Sprintf("preview %d with notices over the cap", i), c.opts.NetworkDir, got, want)
	}
}

// TestSummaryOfARouteMovedBetweenItsViewsCountsItOnce: what no file
// describes is counted in views of a few links each; a route no file
// describes moves from a link of the first view to one of a later view
// between the two. It must be counted once, under the link it went to:
// the summary is the uncached one of the state after.
func TestSummaryOfARouteMovedBetweenItsViewsCountsItOnce(t *testing.T) {
	c, _ := savedChurn(t, 15)
	persist.SetBatchRoutes(t, 1) // a link a view: br0 first
	src := movingRoute(c, "10.89.0.0/24")
	src.onLinks, src.at = true, 3 // the second view's
	m := persist.New(c.opts, src, c.tables.Load)
	sameForeign(t, "a route moved between two views", m)
	if !src.moved {
		t.Fatal("the route did not move during the count: the test tests nothing")
	}
}

// sameForeign fails unless m's ForeignSummary, which counts again only
// the links whose file or routes changed, is what a view of every file
// on disk (Foreign, of a manager keeping nothing) gives.
func sameForeign(t *testing.T, step string, m *persist.Manager) {
	t.Helper()
	const limit = 3
	got, err := m.ForeignSummary(limit)
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.Uncached().Foreign()
	if err != nil {
		t.Fatal(err)
	}
	want := persist.ForeignSummary{Count: v.Count(), Groups: v.Groups(), First: v.Page(nil, 0, limit), Others: map[networkd.ForeignGroup][]networkd.Foreign{}}
	for _, g := range want.Groups {
		if g.Kind != "route" {
			want.Others[g] = v.Page(func(x networkd.ForeignGroup) bool { return x == g }, 0, g.Count)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after %s: the summary of what no file on disk describes differs:\n got %+v\nwant %+v", step, got, want)
	}
}

// A drop-in waiting for a main file networkd has not got yet (no
// 10-eth2.network on disk) applies once the save writes it: the preview's
// count of what networkd would delete, made over its lean copies of the
// files, merges it as the uncached preview does. This one matches the
// file to no link, so eth2's address and routes would go.
func TestPreviewCountsWithTheDropInsWaitingForANewFile(t *testing.T) {
	c := newChurn(t, 3)
	dir := filepath.Join(c.opts.NetworkDir, "10-eth2.network.d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "m.conf"), []byte("[Match]\nName=\nName=nosuch0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sel := persist.Selection{Links: c.names()}
	p, err := c.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.m.Uncached().Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if want.LostCount.Addresses == 0 {
		t.Fatalf("the uncached preview loses no address (%+v): the drop-in was not merged, the test shows nothing", want.LostCount)
	}
	samePreview(t, "a drop-in waiting for 10-eth2.network", c.opts.NetworkDir, p, want)
}

// A device-less route replaced, between two views of a count, by a route
// through a link counted in the later view (a blackhole becoming a
// unicast route through eth4) is counted once: the device-less groups,
// which the first view gave, are taken again from a view after the
// change, as the links whose routes changed are.
func TestSummaryOfADevicelessRouteMovedToALinkCountsItOnce(t *testing.T) {
	c, _ := savedChurn(t, 15)
	persist.SetBatchRoutes(t, 1) // a link a view
	r := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_BLACKHOLE, Protocol: unix.RTPROT_STATIC,
		Dst: netip.MustParsePrefix("10.91.0.0/24")}
	c.update(func(a *model.Applier) { a.Route(r, false, false) })
	moved := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
		Dst: r.Dst, Gateway: netip.MustParseAddr("10.105.0.8"), LinkIndex: 7} // eth4
	src := &movingSource{Store: c.store, move: func() {
		c.update(func(a *model.Applier) { a.Route(r, true, false); a.Route(moved, false, false) })
	}}
	src.onLinks, src.at = true, 3 // the second view's
	m := persist.New(c.opts, src, c.tables.Load)
	sameForeign(t, "a blackhole replaced by a route through eth4 between two views", m)
	if !src.moved {
		t.Fatal("the route did not move during the count: the test tests nothing")
	}
}
