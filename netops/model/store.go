package model

import (
	"bytes"
	"cmp"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/netpanel/netpanel/netops/watch"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Store is the in-memory model of one network namespace. The monitor is
// its only writer (through the methods in update.go); readers take
// snapshots through the query methods.
type Store struct {
	mu     sync.RWMutex
	links  map[int32]*Link
	addrs  map[AddrKey]*Addr
	routes *routeSet
	rules  []Rule // in kernel order per family: IPv4 first, then IPv6
	neighs map[NeighKey]*Neigh
	// proxies are the proxy entries (`ip neigh show proxy`), apart from
	// neighbours because an address can be both at once.
	proxies  map[NeighKey]*Neigh
	nexthops map[uint32]*NexthopObject
	gen      [numKinds]uint64
	silent   [numKinds]uint64 // see Versions
	status   Status
	// names are the last Names built, for the link and nexthop
	// generations namesGen (see Names).
	namesMu  sync.Mutex
	names    *Names
	namesGen [2]uint64
	rates    map[int32]LinkRate

	events eventRing
	totals totals // for monitoring: see Totals

	wakes watch.Wakes

	// ns is the namespace modelled, once a watcher is attached.
	ns    netns.NsHandle
	hasNS bool
}

// NetNS returns the network namespace the store models (set when a
// watcher is attached), for changes that must speak netlink there
// directly; ok is false for a store filled without one (tests, fixtures).
func (s *Store) NetNS() (ns netns.NsHandle, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ns, s.hasNS
}

// Status says whether the model is current.
type Status struct {
	State      string // "syncing", "live", "resyncing"
	Synced     bool   // a full dump has completed at least once
	Objects    int    // objects read by the dump in progress
	Resyncs    int    // resyncs after the first sync
	LastReason string // why the last resync happened
	LastSync   time.Time
	ReadOnly   bool
}

// LinkRate is an interface's traffic rate from the last two samples.
type LinkRate struct {
	RxBps, TxBps         float64 // bits per second
	RxBytes, TxBytes     uint64
	RxPackets, TxPackets uint64
	RxErrors, TxErrors   uint64
	RxDropped, TxDropped uint64
	At                   time.Time
}

// snapshot is a complete object set built by a dump, swapped in whole.
type snapshot struct {
	links    map[int32]*Link
	addrs    map[AddrKey]*Addr
	routes   *routeSet
	rules    []Rule
	neighs   map[NeighKey]*Neigh
	proxies  map[NeighKey]*Neigh
	nexthops map[uint32]*NexthopObject
}

func newSnapshot() *snapshot {
	return &snapshot{
		links:    map[int32]*Link{},
		addrs:    map[AddrKey]*Addr{},
		routes:   newRouteSet(),
		neighs:   map[NeighKey]*Neigh{},
		proxies:  map[NeighKey]*Neigh{},
		nexthops: map[uint32]*NexthopObject{},
	}
}

// NewStore returns an empty store in the "syncing" state.
func NewStore() *Store {
	s := &Store{rates: map[int32]LinkRate{}}
	s.install(newSnapshot())
	s.status.State = "syncing"
	s.events.init(4096)
	return s
}

func (s *Store) install(sn *snapshot) {
	s.links, s.addrs, s.routes, s.rules, s.neighs = sn.links, sn.addrs, sn.routes, sn.rules, sn.neighs
	s.proxies, s.nexthops = sn.proxies, sn.nexthops
}

// live returns the installed object set, for an applier to update in place.
func (s *Store) live() *snapshot {
	return &snapshot{links: s.links, addrs: s.addrs, routes: s.routes, rules: s.rules, neighs: s.neighs,
		proxies: s.proxies, nexthops: s.nexthops}
}

// sameSlot reports whether two routes share table, family, destination,
// tos, metric and source prefix: they differ only in the device part of
// an IPv6 key, or are aliases of one IPv4 slot. An NLM_F_REPLACE replaces
// one route of the slot.
func sameSlot(a, b *Route) bool {
	return a.Table == b.Table && a.Family == b.Family && a.Dst == b.Dst && a.Tos == b.Tos &&
		a.Priority == b.Priority && a.SrcPrefix() == b.SrcPrefix()
}

// Subscribe returns a channel that receives a wake-up (coalesced, never
// blocking the writer) after every change, and a function to unsubscribe.
func (s *Store) Subscribe() (<-chan struct{}, func()) { return s.wakes.Subscribe() }

func (s *Store) wake() { s.wakes.Wake() }

// Gens returns every kind's generation at once.
func (s *Store) Gens() [numKinds]uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gen
}

// Versions are the model's change counters read at one instant.
type Versions struct {
	// Gen counts the changes of each kind (Gens).
	Gen [numKinds]uint64
	// Silent counts the changes of each kind that no event of that kind
	// tells: what the kernel drops with a link, an address or a nexthop,
	// a neighbour re-dump, a full resync. A reader that decides from the
	// events since Seq what a change can touch must take these as
	// touching anything.
	Silent [numKinds]uint64
	// Seq is the newest event's sequence number (LastSeq); every event
	// up to it is counted in Gen.
	Seq uint64
}

// Versions returns the change counters and the newest event together.
func (s *Store) Versions() Versions {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Versions{Gen: s.gen, Silent: s.silent, Seq: s.events.next - 1}
}

// Status returns the sync status.
func (s *Store) Status() Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.status
}

// SetProgress records how many objects the dump in progress has read.
func (s *Store) SetProgress(n int) {
	s.mu.Lock()
	s.status.Objects = n
	s.mu.Unlock()
	s.wake()
}

// BeginResync marks the model as possibly stale until the next Replace.
func (s *Store) BeginResync(reason string) {
	s.mu.Lock()
	if s.status.Synced {
		s.status.State = "resyncing"
		s.status.Resyncs++
	}
	s.status.LastReason = reason
	s.status.Objects = 0
	s.mu.Unlock()
	s.wake()
}

// replace installs a complete dump, replacing (not merging) the model.
func (s *Store) replace(sn *snapshot, reason string) {
	s.mu.Lock()
	s.install(sn)
	for k := range s.gen {
		s.gen[k]++
		s.silent[k]++
	}
	s.status.State = "live"
	s.status.Synced = true
	s.status.LastSync = time.Now()
	s.events.add(Event{Time: time.Now(), Resync: true, Text: reason})
	s.mu.Unlock()
	s.wake()
}

// replaceNeighs installs re-dumped neighbour and proxy entries; pages
// re-render only when something differs.
func (s *Store) replaceNeighs(neighs, proxies map[NeighKey]*Neigh) {
	s.mu.Lock()
	changed := !sameNeighs(s.neighs, neighs) || !sameNeighs(s.proxies, proxies)
	if changed {
		s.neighs, s.proxies = neighs, proxies
		s.gen[KindNeigh]++
		s.silent[KindNeigh]++
	}
	s.mu.Unlock()
	if changed {
		s.wake()
	}
}

func sameNeighs(a, b map[NeighKey]*Neigh) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || x.State != y.State || x.Flags != y.Flags || x.FlagsExt != y.FlagsExt || x.Protocol != y.Protocol ||
			x.Type != y.Type || !bytes.Equal(x.HWAddr, y.HWAddr) {
			return false
		}
	}
	return true
}

// SetReadOnly records that netpanel lacks CAP_NET_ADMIN.
func (s *Store) SetReadOnly(ro bool) {
	s.mu.Lock()
	s.status.ReadOnly = ro
	s.mu.Unlock()
}

// Counts returns how many objects of each kind the model holds.
func (s *Store) Counts() map[Kind]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return map[Kind]int{
		KindLink: len(s.links), KindAddr: len(s.addrs), KindRoute: s.routes.Len(),
		KindRule: len(s.rules), KindNeigh: len(s.neighs), KindNexthop: len(s.nexthops),
	}
}

// Links returns all links ordered by index.
func (s *Store) Links() []Link {
	s.mu.RLock()
	defer s.mu.RUnlock()
	// Sorted as pointers, copied once: pages call this on every render,
	// and sorting the structs themselves (via reflection) cost more than
	// the rest of a routes frame.
	ps := make([]*Link, 0, len(s.links))
	for _, l := range s.links {
		ps = append(ps, l)
	}
	slices.SortFunc(ps, func(a, b *Link) int { return cmp.Compare(a.Index, b.Index) })
	out := make([]Link, len(ps))
	for i, l := range ps {
		out[i] = *l
	}
	return out
}

// Link returns one link by index.
func (s *Store) Link(idx int32) (Link, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.links[idx]
	if !ok {
		return Link{}, false
	}
	return *l, true
}

// LinkByName finds a link by name.
func (s *Store) LinkByName(name string) (Link, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, l := range s.links {
		if l.Name == name {
			return *l, true
		}
	}
	return Link{}, false
}

// Addrs returns all addresses ordered by link, family, then address.
func (s *Store) Addrs() []Addr {
	s.mu.RLock()
	out := make([]Addr, 0, len(s.addrs))
	for _, a := range s.addrs {
		out = append(out, *a)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return addrLess(&out[i], &out[j]) })
	return out
}

func addrLess(a, b *Addr) bool {
	if a.LinkIndex != b.LinkIndex {
		return a.LinkIndex < b.LinkIndex
	}
	if a.Family != b.Family {
		return a.Family < b.Family
	}
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c < 0
	}
	return a.Prefix.Bits() < b.Prefix.Bits()
}

// Rules returns the rules of one family (0 for both) in kernel order.
func (s *Store) Rules(family uint8) []Rule {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Rule, 0, len(s.rules))
	for _, r := range s.rules {
		if family == 0 || r.Family == family {
			out = append(out, r)
		}
	}
	return out
}

// Neighs returns the neighbour entries ordered by link and address.
func (s *Store) Neighs() []Neigh {
	s.mu.RLock()
	out := values(s.neighs)
	s.mu.RUnlock()
	sortNeighs(out)
	return out
}

// values copies a map's objects.
func values[K comparable, V any](m map[K]*V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, *v)
	}
	return out
}

func sortNeighs(out []Neigh) {
	sort.Slice(out, func(i, j int) bool {
		if out[i].LinkIndex != out[j].LinkIndex {
			return out[i].LinkIndex < out[j].LinkIndex
		}
		return out[i].IP.Less(out[j].IP)
	})
}

// Proxies returns the proxy neighbour entries (`ip neigh show proxy`)
// ordered by link and address.
func (s *Store) Proxies() []Neigh {
	s.mu.RLock()
	out := values(s.proxies)
	s.mu.RUnlock()
	sortNeighs(out)
	return out
}

// Nexthops returns the nexthop objects ordered by id.
func (s *Store) Nexthops() []NexthopObject {
	s.mu.RLock()
	out := values(s.nexthops)
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RouteCount returns the number of routes in the model.
func (s *Store) RouteCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.routes.Len()
}

// EachRoute streams every route in table order to fn, until fn returns
// false. It holds the read lock only while it decodes a chunk of routes
// (eachRouteChunk), and calls fn on the chunk after, so fn may take its
// time and call back into the store: a walk over a million routes that
// does real work per route (a networkd export's, seconds) once held the
// lock throughout, and a writer waiting for it (the watcher applying a
// kernel event) held every other reader, every live page, behind it. As
// in a netlink dump, a route that changes during the walk is seen before
// or after its change, or not at all when it comes or goes; every route
// that stays is seen once, in order. The *Route fn gets is valid only
// during the call: fn must copy the value to keep it, never the pointer.
func (s *Store) EachRoute(fn func(*Route) bool) {
	var chunk []Route
	var after *Route // the last route of the chunk before
	for {
		chunk = chunk[:0]
		take := func(r *Route) bool { chunk = append(chunk, *r); return len(chunk) < eachRouteChunk }
		s.mu.RLock()
		if after == nil {
			s.routes.Ascend(take)
		} else {
			s.routes.AscendAfter(after, take)
		}
		s.mu.RUnlock()
		for i := range chunk {
			if !fn(&chunk[i]) {
				return
			}
		}
		if len(chunk) < eachRouteChunk {
			return
		}
		last := chunk[len(chunk)-1]
		after = &last
	}
}

// eachRouteChunk is how many routes EachRoute decodes under one hold of
// the read lock: about 0.5 MB of them, read in about a millisecond.
const eachRouteChunk = 4096

// Tables returns the table ids that hold at least one route.
func (s *Store) Tables() []uint32 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tablesLocked()
}

func (s *Store) tablesLocked() []uint32 {
	var out []uint32
	o := s.routes.order
	for p := 0; p < o.Len(); {
		t := o.route(p).table
		out = append(out, t)
		if t == ^uint32(0) {
			break
		}
		p = o.Rank(&packedRoute{table: t + 1})
	}
	return out
}

// Rates returns the last measured traffic rates per link index.
func (s *Store) Rates() map[int32]LinkRate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := make(map[int32]LinkRate, len(s.rates))
	for k, v := range s.rates {
		m[k] = v
	}
	return m
}

// UpdateStats applies fresh counters; it does not count as a link change
// (pages update rates from the rate stream, not by re-rendering rows).
func (s *Store) UpdateStats(stats map[int32]LinkStats, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for idx, st := range stats {
		l, ok := s.links[idx]
		if !ok {
			continue
		}
		prev, had := s.rates[idx]
		r := LinkRate{RxBytes: st.RxBytes, TxBytes: st.TxBytes, RxPackets: st.RxPackets, TxPackets: st.TxPackets,
			RxErrors: st.RxErrors, TxErrors: st.TxErrors, RxDropped: st.RxDropped, TxDropped: st.TxDropped, At: at}
		if had {
			if dt := at.Sub(prev.At).Seconds(); dt > 0 {
				r.RxBps = float64(st.RxBytes-min(prev.RxBytes, st.RxBytes)) * 8 / dt
				r.TxBps = float64(st.TxBytes-min(prev.TxBytes, st.TxBytes)) * 8 / dt
			}
		}
		s.rates[idx] = r
		cp := *l
		cp.Stats = st
		s.links[idx] = &cp
	}
}

// FindRoute returns the route with r's key.
func (s *Store) FindRoute(r Route) (Route, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.routes.Get(&r)
}

// RoutesTo returns the routes in a table whose destination is exactly dst,
// whatever their metric, tos or device.
func (s *Store) RoutesTo(table uint32, dst netip.Prefix) []Route {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Route
	fam := uint8(unix.AF_INET)
	if dst.Addr().Is6() {
		fam = unix.AF_INET6
	}
	s.routes.AscendGreaterOrEqual(&Route{Table: table, Family: fam, Dst: dst}, func(r *Route) bool {
		if r.Table != table || r.Family != fam || r.Dst != dst {
			return false
		}
		out = append(out, *r)
		return true
	})
	return out
}
