package model

import (
	"log/slog"
	"time"

	"github.com/netpanel/netpanel/netops/rtnl"
	"github.com/vishvananda/netns"
)

// This file is the store's writer side, used by package monitor: it
// installs whole dumps, applies event batches and records the sync state.

// Dump is an object set being read from the kernel; Store.Replace (or
// Store.ReplaceNeighs) installs it whole.
type Dump struct{ a applier }

// NewDump starts an empty object set for a full dump.
func NewDump(log *slog.Logger) *Dump {
	return &Dump{a: applier{sn: newSnapshot(), log: log, useSlab: true}}
}

// NewNeighDump starts an empty set of neighbour and proxy entries, for a
// re-dump of the neighbour tables alone.
func NewNeighDump(log *slog.Logger) *Dump {
	return &Dump{a: applier{sn: &snapshot{neighs: map[NeighKey]*Neigh{}, proxies: map[NeighKey]*Neigh{}}, log: log}}
}

// Apply adds one dumped message to the set.
func (d *Dump) Apply(m rtnl.Message) { d.a.apply(m) }

// Replace installs a complete dump, replacing (not merging) the model.
func (s *Store) Replace(d *Dump, reason string) { s.replace(d.a.sn, reason) }

// ReplaceNeighs installs a neighbour re-dump (see NewNeighDump).
func (s *Store) ReplaceNeighs(d *Dump) { s.replaceNeighs(d.a.sn.neighs, d.a.sn.proxies) }

// ApplyBatch applies one datagram's messages under a single lock.
func (s *Store) ApplyBatch(batch []rtnl.Message, log *slog.Logger) {
	s.mu.Lock()
	a := applier{sn: s.live(), log: log, events: &s.events, now: time.Now()}
	for _, m := range batch {
		a.apply(m)
	}
	s.install(a.sn)
	for k, d := range a.dirty {
		if d {
			s.gen[k]++
		}
	}
	s.mu.Unlock()
	s.wake()
}

// SetNetNS records the namespace the store models, for changes that must
// speak netlink there directly (see NetNS). The caller keeps ownership.
func (s *Store) SetNetNS(ns netns.NsHandle) {
	s.mu.Lock()
	s.ns, s.hasNS = ns, true
	s.mu.Unlock()
}
