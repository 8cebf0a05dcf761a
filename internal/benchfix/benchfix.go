// Package benchfix is the route set netpanel's benchmarks share: the same
// realistic million routes as `ip -batch` lines for a kernel namespace and
// as model objects for in-process benchmarks, so a render measured without
// a kernel is measured against the model a sync of the namespace builds.
//
// The set is what a busy router holds: routes in main and five more
// tables, mixed prefix lengths (mostly /32 and /30, some /28, /26, /24,
// /20 and /16), metrics, several protocols, a few percent IPv6,
// device-only and blackhole routes, through a few hundred links (veth
// pairs, one end of each addressed).
package benchfix

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// Pairs is the number of veth pairs: 2*Pairs links besides lo.
const Pairs = 150

// Tables are the route tables the set fills, main first.
var Tables = []uint32{unix.RT_TABLE_MAIN, 100, 101, 102, 103, 104}

// LinkName names link i of the 2*Pairs: npKa and npKb for pair K.
func LinkName(i int) string {
	return fmt.Sprintf("np%d%c", i/2, 'a'+byte(i%2))
}

// SetupLines are the `ip -batch` lines that make the links and their
// addresses.
func SetupLines() []string {
	out := []string{"link set lo up"}
	for k := range Pairs {
		a, b := LinkName(2*k), LinkName(2*k+1)
		out = append(out,
			"link add "+a+" type veth peer name "+b,
			"link set "+a+" up", "link set "+b+" up",
			fmt.Sprintf("addr add 10.254.%d.1/24 dev %s", k, a),
			fmt.Sprintf("addr add 2001:db8:ffff:%x::1/64 dev %s nodad", k, a),
		)
	}
	return out
}

// Route is route i of the set, described once for both forms.
type Route struct {
	Table    uint32
	Dst      netip.Prefix
	Pair     int // the pair whose addressed end carries it; -1 for blackhole
	Gateway  bool
	Metric   uint32
	Protocol uint8
}

var protos = [...]uint8{unix.RTPROT_BOOT, unix.RTPROT_STATIC, unix.RTPROT_STATIC, unix.RTPROT_BOOT, 186, unix.RTPROT_BOOT, 12}
var metrics = [...]uint32{0, 0, 0, 100, 0, 200, 1024, 0, 10, 0, 50}

// bitsOf spreads prefix lengths: 55% /32, 10% each of /30, /28, /26 and
// /24, 4% /20 and 1% /16.
func bitsOf(i int) int {
	switch r := (i * 7919) % 100; {
	case r < 55:
		return 32
	case r < 65:
		return 30
	case r < 75:
		return 28
	case r < 85:
		return 26
	case r < 95:
		return 24
	case r < 99:
		return 20
	default:
		return 16
	}
}

// Set is a route set of n routes; At(i) describes route i. Destinations
// are distinct per table and prefix length.
type Set struct {
	n    int
	seen map[[2]int]int // (table, bits) -> routes so far
	v6   map[uint32]int
}

// NewSet returns a set of n routes (at most ~2.5M).
func NewSet(n int) *Set { return &Set{n: n, seen: map[[2]int]int{}, v6: map[uint32]int{}} }

// Len is the number of routes.
func (s *Set) Len() int { return s.n }

// At describes route i; routes must be asked for in order 0..n-1.
func (s *Set) At(i int) Route {
	r := Route{Pair: (i * 31) % Pairs, Gateway: i%10 != 3, Metric: metrics[i%len(metrics)], Protocol: protos[i%len(protos)]}
	switch t := i % 20; {
	case t < 6:
		r.Table = unix.RT_TABLE_MAIN
	default:
		r.Table = Tables[1+(t-6)%5]
	}
	if i%20 == 7 {
		// A few percent IPv6 (2001:db8::/32, documentation space).
		c := s.v6[r.Table]
		s.v6[r.Table] = c + 1
		var a [16]byte
		a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8
		a[4], a[5], a[6], a[7] = byte(c>>16), byte(c>>8), byte(c), 0
		r.Dst = netip.PrefixFrom(netip.AddrFrom16(a), 64)
		if r.Metric == 0 {
			r.Metric = 1024 // the kernel's default for IPv6
		}
		return r
	}
	bits := bitsOf(i)
	key := [2]int{int(r.Table), bits}
	c := s.seen[key]
	s.seen[key] = c + 1
	// Within 10.0.0.0/8 minus 10.254.0.0/16 (the links' subnets): the
	// c-th block of this length, wrapping below 10.254.
	space := uint32(1) << (bits - 8) // blocks of this length in 10/8
	blocks := space - space/256*2
	blk := uint32(c) % blocks
	// Short prefixes run out of blocks: the next round of the same
	// destinations differs by metric, as the kernel allows.
	r.Metric += uint32(c) / blocks * 2000
	addr := 0x0a000000 + blk<<(32-bits)
	r.Dst = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)}), bits)
	if i%200 == 11 {
		r.Pair = -1 // a blackhole
	}
	return r
}

// Line is route r as an `ip -batch` line.
func (r Route) Line() string {
	metric := fmt.Sprintf(" metric %d", r.Metric)
	proto := fmt.Sprintf(" proto %d", r.Protocol)
	table := fmt.Sprintf(" table %d", r.Table)
	if r.Pair < 0 {
		return "route add blackhole " + r.Dst.String() + table + metric + proto
	}
	dev := LinkName(2 * r.Pair)
	via := ""
	if r.Gateway {
		if r.Dst.Addr().Is4() {
			via = fmt.Sprintf(" via 10.254.%d.2", r.Pair)
		} else {
			via = fmt.Sprintf(" via 2001:db8:ffff:%x::2", r.Pair)
		}
	}
	return "route add " + r.Dst.String() + via + " dev " + dev + table + metric + proto
}

// Model is route r as the model holds it after a dump; index gives a
// link's ifindex by name.
func (r Route) Model(index func(string) int32) model.Route {
	m := model.Route{Dst: r.Dst, Table: r.Table, Priority: r.Metric, Protocol: r.Protocol, Type: unix.RTN_UNICAST,
		Family: unix.AF_INET, Scope: unix.RT_SCOPE_UNIVERSE}
	if r.Dst.Addr().Is6() {
		m.Family = unix.AF_INET6
	}
	if r.Pair < 0 {
		m.Type = unix.RTN_BLACKHOLE
		return m
	}
	m.LinkIndex = index(LinkName(2 * r.Pair))
	switch {
	case r.Gateway && m.Family == unix.AF_INET:
		m.Gateway = netip.AddrFrom4([4]byte{10, 254, byte(r.Pair), 2})
	case r.Gateway:
		a := netip.MustParseAddr(fmt.Sprintf("2001:db8:ffff:%x::2", r.Pair))
		m.Gateway = a
	case m.Family == unix.AF_INET:
		m.Scope = unix.RT_SCOPE_LINK
	}
	return m
}

// State is a model state with the links, their addresses and n routes of
// the set, as a sync of a namespace built from SetupLines and the set's
// lines holds it (less the kernel's own local and link-local routes).
func State(n int) model.State {
	return state(n, n, func(int, Route) bool { return true })
}

// Thinned is State(n) with one in every factor of its routes on each
// link, except that every route of the given pair and every device-less
// route (blackhole) is kept: the pair's addressed link carries the same
// routes as in State(n), and a file holding the device-less routes holds
// the same ones, while the model holds about n/factor routes. A cost of
// that link measured on both models tells work done per link from work
// done per route of the model.
func Thinned(n, pair, factor int) model.State {
	// Each run of Pairs consecutive routes has one route of each pair
	// (31 and Pairs are coprime): keeping whole runs thins every link
	// alike, where i%factor would keep the pairs a multiple of factor.
	return state(n, n/factor, func(i int, r Route) bool { return r.Pair == pair || r.Pair < 0 || i/Pairs%factor == 0 })
}

// state is State(n) holding route i of the set only if keep(i, route);
// about size of them are.
func state(n, size int, keep func(i int, r Route) bool) model.State {
	st := model.State{Links: []model.Link{{Index: 1, Name: "lo", RawFlags: unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING | unix.IFF_LOWER_UP,
		Flags: net.FlagUp | net.FlagLoopback | net.FlagRunning,
		MTU:   65536, OperState: "UNKNOWN", LinkType: "loopback"}}}
	byName := map[string]int32{"lo": 1}
	for i := range 2 * Pairs {
		idx := int32(2 + i)
		name := LinkName(i)
		byName[name] = idx
		peer := idx + 1
		if i%2 == 1 {
			peer = idx - 1
		}
		st.Links = append(st.Links, model.Link{Index: idx, Name: name, Kind: "veth", ParentIndex: peer, LinkNetNsID: -1,
			RawFlags: unix.IFF_UP | unix.IFF_BROADCAST | unix.IFF_MULTICAST | unix.IFF_RUNNING | unix.IFF_LOWER_UP,
			Flags:    net.FlagUp | net.FlagBroadcast | net.FlagMulticast | net.FlagRunning,
			MTU:      1500, OperState: "UP", LinkType: "ether", HWAddr: []byte{0x02, 0, 0, 0, byte(i >> 8), byte(i)}})
		if i%2 == 0 {
			k := i / 2
			st.Addrs = append(st.Addrs,
				model.Addr{LinkIndex: idx, Family: unix.AF_INET, Prefix: netip.MustParsePrefix(fmt.Sprintf("10.254.%d.1/24", k)),
					Scope: unix.RT_SCOPE_UNIVERSE, Flags: unix.IFA_F_PERMANENT, ValidLft: model.Forever, PreferredLft: model.Forever},
				model.Addr{LinkIndex: idx, Family: unix.AF_INET6, Prefix: netip.MustParsePrefix(fmt.Sprintf("2001:db8:ffff:%x::1/64", k)),
					Scope: unix.RT_SCOPE_UNIVERSE, Flags: unix.IFA_F_PERMANENT | unix.IFA_F_NODAD, ValidLft: model.Forever, PreferredLft: model.Forever})
		}
	}
	index := func(name string) int32 { return byName[name] }
	set := NewSet(n)
	st.Routes = make([]model.Route, 0, size)
	for i := range n {
		// Asked in order whatever is kept: the set numbers its
		// destinations as it goes.
		if r := set.At(i); keep(i, r) {
			st.Routes = append(st.Routes, r.Model(index))
		}
	}
	return st
}

// Fill makes the links in namespace ns (which must exist) and adds the
// set's n routes with `ip -batch`. Route insertion is kernel time under
// the RTNL lock, but iproute2's parsing overlaps with it: a few parallel
// batches on disjoint parts of the set save about a quarter.
func Fill(ns string, n int) error {
	if err := ipBatch(ns, SetupLines()); err != nil {
		return err
	}
	set := NewSet(n)
	const workers = 3
	parts := make([][]string, workers)
	for i := range n {
		parts[i%workers] = append(parts[i%workers], set.At(i).Line())
	}
	errs := make(chan error, workers)
	for _, lines := range parts {
		go func() { errs <- ipBatch(ns, lines) }()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func ipBatch(ns string, lines []string) error {
	cmd := exec.Command("ip", "-n", ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ip -batch: %v: %s", err, out)
	}
	return nil
}

// RSS is this process's resident set size in bytes (0 when unknown).
func RSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}
