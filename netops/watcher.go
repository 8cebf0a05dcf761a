package netops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/netpanel/netpanel/netops/rtnl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Watcher keeps a Store equal to the kernel state of one namespace: it
// subscribes to every rtnetlink group netpanel shows, dumps, and applies
// events. Any sign that events were lost (a receive error such as ENOBUFS,
// an interrupted dump, a closed socket) leads to a fresh subscription and a
// full dump that replaces the model.
type Watcher struct {
	ns    netns.NsHandle
	store *Store
	log   *slog.Logger
	// RecvBuf is the event socket's receive buffer in bytes.
	RecvBuf int
	// NeighRefresh is how often the neighbour tables are dumped again:
	// the kernel creates some entries (multicast NOARP ones) and changes
	// proxy entries without telling anyone. 0 disables the re-dump.
	NeighRefresh time.Duration

	dumpMu sync.Mutex
	dumper *rtnl.Conn

	// mu guards the running session's event socket and the callers
	// waiting for a neighbour re-dump.
	mu      sync.Mutex
	ev      *rtnl.Conn
	waiters []chan error
}

// groups are the multicast groups the model follows. There is no rule
// subscription in vishvananda/netlink; the rule groups are joined here.
var groups = []uint{
	unix.RTNLGRP_LINK,
	unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR,
	unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV6_ROUTE,
	unix.RTNLGRP_IPV4_RULE, unix.RTNLGRP_IPV6_RULE,
	unix.RTNLGRP_NEIGH,
	// RTNLGRP_NEXTHOP is joined apart (see session): older kernels lack it.
}

// NewWatcher prepares a watcher for the namespace ns (netns.None() for the
// caller's own). The caller keeps ownership of ns.
func NewWatcher(ns netns.NsHandle, store *Store, log *slog.Logger) *Watcher {
	store.mu.Lock()
	store.ns, store.hasNS = ns, true
	store.mu.Unlock()
	return &Watcher{ns: ns, store: store, log: log, RecvBuf: 32 << 20, NeighRefresh: 30 * time.Second}
}

// Store returns the model the watcher maintains.
func (w *Watcher) Store() *Store { return w.store }

// Run keeps the model current until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	reason := "initial sync"
	failures := 0
	for {
		err := w.session(ctx, reason)
		if ctx.Err() != nil {
			return nil
		}
		reason = err.Error()
		w.log.Warn("netlink state may be stale; resyncing", "reason", reason)
		w.store.beginResync(reason)
		failures++
		// Back off only when sessions fail immediately and repeatedly, so a
		// broken namespace does not spin a core.
		if failures > 3 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(min(time.Duration(failures)*200*time.Millisecond, 5*time.Second)):
			}
		}
	}
}

// session subscribes, dumps, and applies events until an error.
func (w *Watcher) session(ctx context.Context, reason string) error {
	ev, err := rtnl.Dial(w.ns, groups...)
	if err != nil {
		return fmt.Errorf("subscribing: %w", err)
	}
	defer ev.Close()
	if w.RecvBuf > 0 {
		if err := ev.SetReadBuffer(w.RecvBuf); err != nil {
			w.log.Warn("cannot set netlink receive buffer", "bytes", w.RecvBuf, "err", err)
		}
	}
	// Nexthop objects came with Linux 5.3; older kernels have no group.
	if err := ev.Join(unix.RTNLGRP_NEXTHOP); err != nil {
		w.log.Info("no nexthop object events", "err", err)
	}
	stop := context.AfterFunc(ctx, func() { ev.Close() })
	defer stop()

	// Subscribe before dumping: events that race with the dump wait in the
	// socket and are applied afterwards, which converges because every
	// event carries the full object.
	sn, err := w.dumpAll()
	if err != nil {
		return err
	}
	w.store.replace(sn, reason)
	w.log.Info("netlink state synced", "reason", reason, "counts", w.store.Counts())

	w.attach(ev)
	defer w.detach()
	for {
		var batch []rtnl.Message
		err := ev.Receive(func(m rtnl.Message) {
			m.Body = append([]byte(nil), m.Body...)
			batch = append(batch, m)
		})
		if len(batch) > 0 {
			w.store.applyBatch(batch, w.log)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The periodic or an asked-for neighbour re-dump. Events that
			// arrive meanwhile wait in the socket and apply after it.
			waiters := w.takeWaiters()
			err = w.refreshNeighs()
			for _, c := range waiters {
				c <- err
			}
			if err == nil {
				w.arm(ev)
				continue
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
}

// attach makes ev the socket RefreshNeighbours wakes, and arms the
// periodic re-dump.
func (w *Watcher) attach(ev *rtnl.Conn) {
	w.mu.Lock()
	w.ev = ev
	w.mu.Unlock()
	w.arm(ev)
}

// arm sets ev's deadline to the next periodic re-dump, or to now when
// someone is waiting for one.
func (w *Watcher) arm(ev *rtnl.Conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case len(w.waiters) > 0:
		_ = ev.SetDeadline(time.Now())
	case w.NeighRefresh > 0:
		_ = ev.SetDeadline(time.Now().Add(w.NeighRefresh))
	default:
		_ = ev.SetDeadline(time.Time{})
	}
}

// detach ends a session: callers still waiting learn it ended.
func (w *Watcher) detach() {
	for _, c := range w.takeWaitersAnd(func() { w.ev = nil }) {
		c <- errSessionEnded
	}
}

var errSessionEnded = errors.New("the netlink session ended before the neighbour re-dump; the model is being resynced")

func (w *Watcher) takeWaiters() []chan error { return w.takeWaitersAnd(nil) }

func (w *Watcher) takeWaitersAnd(fn func()) []chan error {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.waiters
	w.waiters = nil
	if fn != nil {
		fn()
	}
	return out
}

// RefreshNeighbours dumps the neighbour and proxy entries again and
// replaces them in the model, returning once that is done: entries the
// kernel made without an event then appear, as `ip neigh` would show them.
func (w *Watcher) RefreshNeighbours(ctx context.Context) error {
	done := make(chan error, 1)
	w.mu.Lock()
	if w.ev == nil {
		w.mu.Unlock()
		return errors.New("not watching the kernel yet")
	}
	w.waiters = append(w.waiters, done)
	_ = w.ev.SetDeadline(time.Now())
	w.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// refreshNeighs re-dumps the neighbour tables into the model.
func (w *Watcher) refreshNeighs() error {
	w.dumpMu.Lock()
	defer w.dumpMu.Unlock()
	c, err := w.dumpConn()
	if err != nil {
		return err
	}
	var last error
	for range 5 {
		sn := &snapshot{neighs: map[NeighKey]*Neigh{}, proxies: map[NeighKey]*Neigh{}}
		a := applier{sn: sn, log: w.log}
		err := dumpNeighs(c, a.apply)
		if err == nil {
			w.store.replaceNeighs(sn.neighs, sn.proxies)
			return nil
		}
		if !errors.Is(err, rtnl.ErrDumpInterrupted) {
			w.closeDumper()
			return fmt.Errorf("dumping neighbours: %w", err)
		}
		last = err
	}
	return last
}

// applyBatch applies one datagram's messages under a single lock.
func (s *Store) applyBatch(batch []rtnl.Message, log *slog.Logger) {
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

// dumpAll reads every object into a fresh snapshot, repeating dumps the
// kernel flags as interrupted.
func (w *Watcher) dumpAll() (*snapshot, error) {
	w.dumpMu.Lock()
	defer w.dumpMu.Unlock()
	c, err := w.dumpConn()
	if err != nil {
		return nil, err
	}
	const attempts = 5
	var last error
	for range attempts {
		sn := newSnapshot()
		a := applier{sn: sn, log: w.log, useSlab: true}
		n := 0
		fn := func(m rtnl.Message) {
			a.apply(m)
			if n++; n%65536 == 0 {
				w.store.setProgress(n)
			}
		}
		err := dumpEach(c, fn)
		if err == nil {
			return sn, nil
		}
		if !errors.Is(err, rtnl.ErrDumpInterrupted) {
			w.closeDumper()
			return nil, fmt.Errorf("dumping: %w", err)
		}
		last = err
	}
	return nil, last
}

// dumpEach runs the dumps in the order that lets later objects refer to
// earlier ones (links before addresses and routes).
func dumpEach(c *rtnl.Conn, fn func(rtnl.Message)) error {
	ifinfo := make([]byte, unix.SizeofIfInfomsg)
	rtgen := []byte{unix.AF_UNSPEC, 0, 0, 0}
	rtmsg := make([]byte, unix.SizeofRtMsg)
	nhmsg := make([]byte, sizeofNhmsg)
	steps := []dumpStep{
		{typ: unix.RTM_GETLINK, hdr: ifinfo},
		{typ: unix.RTM_GETADDR, hdr: rtgen},
		// Kernels before 5.3 have no nexthop objects and refuse the dump.
		{typ: unix.RTM_GETNEXTHOP, hdr: nhmsg, optional: true},
		{typ: unix.RTM_GETROUTE, hdr: rtmsg},
		{typ: unix.RTM_GETRULE, hdr: rtgen},
	}
	return runDumps(c, append(steps, neighSteps()...), fn)
}

// dumpNeighs dumps the neighbour entries, then the proxy entries.
func dumpNeighs(c *rtnl.Conn, fn func(rtnl.Message)) error {
	return runDumps(c, neighSteps(), fn)
}

func neighSteps() []dumpStep {
	ndmsg := make([]byte, unix.SizeofNdMsg)
	proxy := make([]byte, unix.SizeofNdMsg)
	proxy[10] = unix.NTF_PROXY // ndm_flags: the proxy table instead
	return []dumpStep{{typ: unix.RTM_GETNEIGH, hdr: ndmsg}, {typ: unix.RTM_GETNEIGH, hdr: proxy}}
}

type dumpStep struct {
	typ      uint16
	hdr      []byte
	optional bool // a refusal (EOPNOTSUPP, EINVAL) means "none here"
}

func runDumps(c *rtnl.Conn, steps []dumpStep, fn func(rtnl.Message)) error {
	var interrupted error
	for _, s := range steps {
		err := c.Dump(s.typ, s.hdr, fn)
		if errors.Is(err, rtnl.ErrDumpInterrupted) {
			interrupted = err
			continue
		}
		if err != nil && s.optional && (errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL)) {
			continue
		}
		if err != nil {
			return err
		}
	}
	return interrupted
}

func (w *Watcher) dumpConn() (*rtnl.Conn, error) {
	if w.dumper != nil {
		return w.dumper, nil
	}
	c, err := rtnl.Dial(w.ns)
	if err != nil {
		return nil, err
	}
	w.dumper = c
	return c, nil
}

func (w *Watcher) closeDumper() {
	if w.dumper != nil {
		w.dumper.Close()
		w.dumper = nil
	}
}

// RefreshStats dumps the links' counters and updates rates. Counters
// change without netlink events, so the interface page asks for this while
// someone watches it.
func (w *Watcher) RefreshStats() error {
	w.dumpMu.Lock()
	defer w.dumpMu.Unlock()
	c, err := w.dumpConn()
	if err != nil {
		return err
	}
	stats := map[int32]LinkStats{}
	err = c.Dump(unix.RTM_GETLINK, make([]byte, unix.SizeofIfInfomsg), func(m rtnl.Message) {
		if l, skip, err := ParseLink(m); err == nil && !skip {
			stats[l.Index] = l.Stats
		}
	})
	if err != nil && !errors.Is(err, rtnl.ErrDumpInterrupted) {
		w.closeDumper()
		return err
	}
	w.store.updateStats(stats, time.Now())
	return nil
}

// Close releases the watcher's dump socket.
func (w *Watcher) Close() {
	w.dumpMu.Lock()
	defer w.dumpMu.Unlock()
	w.closeDumper()
}
