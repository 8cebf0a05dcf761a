package model

import (
	"time"

	"github.com/vishvananda/netns"
)

// This file is the store's writer side, used by package monitor: it
// installs whole dumps, applies event batches and records the sync state.

// Applier applies kernel objects, as package codec decodes them, to an
// object set: a dump being read (Dump) or the live model (Store.Update).
type Applier struct{ a applier }

// Link adds, replaces or (del) removes a link, and what goes with it.
func (w *Applier) Link(l Link, del bool) { w.a.link(l, del) }

// Addr adds or removes an address.
func (w *Applier) Addr(a Addr, del bool) { w.a.addr(a, del) }

// Route adds or removes a route; replace is NLM_F_REPLACE.
func (w *Applier) Route(r Route, del, replace bool) { w.a.route(r, del, replace) }

// Stale returns why the changes applied so far left the model unsure of
// the kernel's state, or "": a non-empty answer asks for a full resync.
func (w *Applier) Stale() string { return w.a.stale }

// Rule adds or removes a policy rule.
func (w *Applier) Rule(r Rule, del bool) { w.a.rule(r, del) }

// Neigh adds or removes a neighbour or proxy entry.
func (w *Applier) Neigh(n Neigh, del bool) { w.a.neigh(n, del) }

// Nexthop adds or removes a nexthop object.
func (w *Applier) Nexthop(n NexthopObject, del bool) { w.a.nexthop(n, del) }

// Dump is an object set being read from the kernel; Store.Replace (or
// Store.ReplaceNeighs) installs it whole.
type Dump struct{ Applier }

// NewDump starts an empty object set for a full dump.
func NewDump() *Dump {
	sn := newSnapshot()
	sn.routes.uncounted = true
	return &Dump{Applier{applier{sn: sn}}}
}

// NewNeighDump starts an empty set of neighbour and proxy entries, for a
// re-dump of the neighbour tables alone.
func NewNeighDump() *Dump {
	return &Dump{Applier{applier{sn: &snapshot{neighs: map[NeighKey]*Neigh{}, proxies: map[NeighKey]*Neigh{}}}}}
}

// Replace installs a complete dump, replacing (not merging) the model.
// Before it does, it counts the dump's routes by class and builds their
// link index (65-150 ms at a million routes), which every first read
// after a sync needs: built after the install, as the watcher's Prepare
// did, the model was shown synced and woke its pages while the build ran,
// and their first reads waited for it on the index's lock. Until the
// install, readers see the state from before the sync, unblocked. (No
// garbage collection is forced here: the one the dump's garbage starts
// ends within the build, its mark takes about 1 ms since the model holds
// next to no pointers, and none was seen overlapping the first answers
// after it; issue 17.)
func (s *Store) Replace(d *Dump, reason string) {
	d.a.sn.routes.ensureCounts()
	s.replace(d.a.sn, reason)
}

// ReplaceNeighs installs a neighbour re-dump (see NewNeighDump).
func (s *Store) ReplaceNeighs(d *Dump) { s.replaceNeighs(d.a.sn.neighs, d.a.sn.proxies) }

// Update applies one batch of changes (a datagram's events) under a
// single lock, records them as events and wakes the subscribers once.
func (s *Store) Update(fn func(*Applier)) {
	s.mu.Lock()
	w := &Applier{applier{sn: s.live(), events: &s.events, now: time.Now()}}
	fn(w)
	s.install(w.a.sn)
	for k, d := range w.a.dirty {
		if d {
			s.gen[k]++
		}
		if w.a.silent[k] {
			s.silent[k]++
		}
	}
	s.mu.Unlock()
	s.wake()
}

// SetNetNS records the namespace the store models, for changes that must
// speak netlink there (see NetNS). The caller keeps ownership.
func (s *Store) SetNetNS(ns netns.NsHandle) {
	s.mu.Lock()
	s.ns, s.hasNS = ns, true
	s.mu.Unlock()
}
