// Package monitor keeps a model.Store equal to the kernel: it subscribes to
// rtnetlink, dumps, applies events, and resyncs whenever events may have
// been lost.
package monitor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"github.com/netpanel/netpanel/netops/watch"
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
	store *model.Store
	log   *slog.Logger
	// RecvBuf is the event socket's receive buffer in bytes.
	RecvBuf int
	// NeighRefresh is how often what changes without an event is dumped
	// again: the neighbour tables (the kernel creates some entries,
	// multicast NOARP ones, and changes proxy entries without telling
	// anyone) and the links' alternative names (see refreshAltNames).
	// 0 disables the re-dump.
	NeighRefresh time.Duration
	// SyncGCPercent, when above 0, is the collector's percentage while a
	// first full sync (the model holds no route yet) dumps the routes
	// over two sockets (see gcpace.go): a setting of the whole process,
	// which the process's wiring chooses (ProcessSyncGCPercent); 0, the
	// default, leaves it alone.
	SyncGCPercent int

	dumpMu sync.Mutex
	dumper watch.Lazy[*rtnl.Conn]
	// splitter is the second socket of a full sync's route dump (see
	// dumpSplit); routeDump says how the last one went, for tests.
	splitter  watch.Lazy[*rtnl.Conn]
	routeDump string
	// noSplit: the kernel refused a split dump's request (errSplitRefused);
	// the routes are dumped on one socket from then on.
	noSplit bool
	// tablesWarned: a split dump could not list the IPv4 tables, and said
	// so; the later ones (every session's sync) say it at Debug.
	tablesWarned atomic.Bool

	syncMu sync.Mutex
	ev     *rtnl.Conn               // the current session's event socket
	pings  map[uint32]chan struct{} // sent on ev, by sequence number
	later  []chan struct{}          // released by the next session's dump
	// mu guards the event socket that neighbour re-dumps wake, and the
	// callers waiting for a re-dump.
	mu      sync.Mutex
	nev     *rtnl.Conn
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
func NewWatcher(ns netns.NsHandle, store *model.Store, log *slog.Logger) *Watcher {
	store.SetNetNS(ns)
	w := &Watcher{ns: ns, store: store, log: log, RecvBuf: 32 << 20, NeighRefresh: 30 * time.Second}
	w.dumper.Dial = func() (*rtnl.Conn, error) { return dialDumper(ns, log) }
	w.splitter.Dial = func() (*rtnl.Conn, error) { return dialDumper(ns, log) }
	return w
}

// Store returns the model the watcher maintains.
func (w *Watcher) Store() *model.Store { return w.store }

// Run keeps the model current until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	// Loop calls session, then stale with the session's error, on this
	// goroutine: stale counts the resync by what ended the session.
	var ended error
	session := func(ctx context.Context, reason string, synced func()) error {
		ended = w.session(ctx, reason, synced)
		return ended
	}
	stale := func(reason string) {
		w.store.NoteResync(resyncCause(ended))
		w.store.BeginResync(reason)
	}
	watch.Loop(ctx, w.log, "netlink", session, stale,
		func(failures int, _ error) time.Duration { return watch.Backoff(failures) })
	return nil
}

// session subscribes, dumps, and applies events until an error.
func (w *Watcher) session(ctx context.Context, reason string, synced func()) error {
	start := time.Now()
	ev, err := rtnl.Dial(w.ns, groups...)
	if err != nil {
		return fmt.Errorf("%w: %w", errSubscribe, err)
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
	waiting := w.startSession(ev)
	defer w.endSession()

	// Subscribe before dumping: events that race with the dump wait in the
	// socket and are applied afterwards, which converges because every
	// event carries the full object.
	sn, err := w.dumpAll()
	if err != nil {
		return err
	}
	w.store.Replace(sn, reason)
	synced()
	w.store.NoteSync(time.Since(start))
	w.log.Info("netlink state synced", "reason", reason, "counts", w.store.Counts())
	for _, ch := range waiting {
		close(ch)
	}

	w.attach(ev)
	defer w.detach()
	for {
		var batch []rtnl.Message
		var pongs []uint32
		err := ev.Receive(func(m rtnl.Message) {
			if m.Type == unix.NLMSG_ERROR {
				pongs = append(pongs, m.Seq)
				return
			}
			m.Body = append([]byte(nil), m.Body...)
			batch = append(batch, m)
		})
		var stale string
		if len(batch) > 0 {
			w.store.Update(func(a *model.Applier) {
				for _, m := range batch {
					apply(a, m, w.log)
				}
				stale = a.Stale()
			})
		}
		if stale != "" {
			// The events left the model unsure (an IPv4 replace among
			// several aliases): a full resync, as after lost events. The
			// pings answered wait for its dump (endSession).
			return errors.New(stale)
		}
		w.pong(pongs)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The periodic or an asked-for re-dump of what has no
			// events. Events that arrive meanwhile wait in the socket and
			// apply after it.
			waiters := w.takeWaiters()
			err = w.refreshSilent()
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

// Sync returns once the store holds every change the kernel made before
// the call: a caller that just changed the kernel (and got its
// acknowledgement) can then read the model and see its change. It asks the
// kernel for an acknowledgement on the event socket, which arrives behind
// the events already queued there; when no session runs, or the session
// ends first, the next session's full dump serves instead.
func (w *Watcher) Sync(ctx context.Context) error {
	ch := make(chan struct{})
	w.syncMu.Lock()
	var seq uint32
	err := errNoSession
	if w.ev != nil {
		seq, err = w.ev.Ping()
	}
	if err == nil {
		w.pings[seq] = ch
	} else {
		w.later = append(w.later, ch)
	}
	w.syncMu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		w.syncMu.Lock()
		delete(w.pings, seq)
		w.syncMu.Unlock()
		return fmt.Errorf("waiting for the model to catch up with the kernel: %w", ctx.Err())
	}
}

var errNoSession = errors.New("no session")

// startSession makes ev the socket Sync pings on and returns the waiters
// that the session's first dump releases.
func (w *Watcher) startSession(ev *rtnl.Conn) []chan struct{} {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.ev = ev
	if w.pings == nil {
		w.pings = map[uint32]chan struct{}{}
	}
	waiting := w.later
	w.later = nil
	return waiting
}

// endSession hands the pings still unanswered to the next session's dump.
func (w *Watcher) endSession() {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.ev = nil
	for seq, ch := range w.pings {
		w.later = append(w.later, ch)
		delete(w.pings, seq)
	}
}

// pong releases the Sync calls whose acknowledgements arrived, after the
// events before them were applied.
func (w *Watcher) pong(seqs []uint32) {
	if len(seqs) == 0 {
		return
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	for _, seq := range seqs {
		if ch, ok := w.pings[seq]; ok {
			close(ch)
			delete(w.pings, seq)
		}
	}
}

// attach makes ev the socket RefreshNeighbours wakes, and arms the
// periodic re-dump.
func (w *Watcher) attach(ev *rtnl.Conn) {
	w.mu.Lock()
	w.nev = ev
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
	for _, c := range w.takeWaitersAnd(func() { w.nev = nil }) {
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
// The links' alternative names are brought up to date with them
// (refreshAltNames).
func (w *Watcher) RefreshNeighbours(ctx context.Context) error {
	done := make(chan error, 1)
	w.mu.Lock()
	if w.nev == nil {
		w.mu.Unlock()
		return errors.New("not watching the kernel yet")
	}
	w.waiters = append(w.waiters, done)
	_ = w.nev.SetDeadline(time.Now())
	w.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// refreshSilent re-dumps what changes without events: the neighbour
// tables and the links' alternative names.
func (w *Watcher) refreshSilent() error {
	if err := w.refreshNeighs(); err != nil {
		return err
	}
	return w.refreshAltNames()
}

// refreshAltNames dumps the links and applies, as their event would be,
// those whose alternative names the model has wrong. The kernel tells of
// an altname added to or removed from a link only while the link is up
// (rtnl_linkprop calls netdev_state_change, which notifies only with
// IFF_UP), so a down link's altnames would stay stale until its next
// event, and with them networkd's Name= match, which tests altnames. Only
// the links whose altnames differ are applied: an unchanged link wakes no
// page.
func (w *Watcher) refreshAltNames() error {
	w.dumpMu.Lock()
	defer w.dumpMu.Unlock()
	c, err := w.dumper.Get()
	if err != nil {
		return err
	}
	var stale []rtnl.Message
	err = c.Dump(unix.RTM_GETLINK, make([]byte, unix.SizeofIfInfomsg), func(m rtnl.Message) {
		l, skip, err := codec.DecodeLink(m.Body)
		if err != nil || skip {
			return // as apply does
		}
		if was, known := w.store.Link(l.Index); known && !slices.Equal(was.AltNames, l.AltNames) {
			m.Body = append([]byte(nil), m.Body...)
			stale = append(stale, m)
		}
	})
	if errors.Is(err, rtnl.ErrDumpInterrupted) {
		err = nil // what was read is true; the next re-dump sees the rest
	}
	if err != nil {
		w.dumper.Close()
		return fmt.Errorf("dumping links: %w", err)
	}
	if len(stale) > 0 {
		w.store.Update(func(a *model.Applier) {
			for _, m := range stale {
				apply(a, m, w.log)
			}
		})
	}
	return nil
}

// refreshNeighs re-dumps the neighbour tables into the model.
func (w *Watcher) refreshNeighs() error {
	w.dumpMu.Lock()
	defer w.dumpMu.Unlock()
	c, err := w.dumper.Get()
	if err != nil {
		return err
	}
	var last error
	for range 5 {
		d := model.NewNeighDump()
		err := dumpNeighs(c, func(m rtnl.Message) { apply(&d.Applier, m, w.log) })
		if err == nil {
			w.store.ReplaceNeighs(d)
			return nil
		}
		if !errors.Is(err, rtnl.ErrDumpInterrupted) {
			w.dumper.Close()
			return fmt.Errorf("dumping neighbours: %w", err)
		}
		last = err
	}
	return last
}

// dumpAll reads every object into a fresh snapshot, repeating dumps the
// kernel flags as interrupted.
func (w *Watcher) dumpAll() (*model.Dump, error) {
	w.dumpMu.Lock()
	defer w.dumpMu.Unlock()
	c, err := w.dumper.Get()
	if err != nil {
		return nil, err
	}
	c2 := w.secondDumper(c)
	const attempts = 5
	var last error
	for range attempts {
		d := model.NewDump()
		n := 0
		// fn is never called twice at once, though two sockets dump.
		fn := func(m rtnl.Message) {
			apply(&d.Applier, m, w.log)
			if n++; n%65536 == 0 {
				w.store.SetProgress(n)
			}
		}
		var err error
		if c2 != nil {
			err = w.dumpSplit(c, c2, fn)
		} else {
			w.routeDump = "plain"
			err = dumpEach(c, fn)
		}
		if err == nil {
			return d, nil
		}
		if errors.Is(err, errSplitRefused) && c2 != nil {
			// A kernel that checks requests strictly but refuses a
			// table's (a backport without the route dump's filters, say):
			// the plain dump it answers instead, on fresh sockets, as the
			// refused dump may have left the other one mid-answer.
			w.log.Warn("the kernel refuses a split route dump: dumping the routes on one socket", "err", err)
			w.noSplit = true
			w.dumper.Close()
			w.splitter.Close()
			last = err
			var gerr error
			if c, gerr = w.dumper.Get(); gerr != nil {
				return nil, gerr
			}
			c2 = nil
			continue
		}
		if !errors.Is(err, rtnl.ErrDumpInterrupted) {
			w.dumper.Close()
			w.splitter.Close()
			return nil, fmt.Errorf("dumping: %w", err)
		}
		last = err
	}
	return nil, last
}

// secondDumper returns the socket that dumps routes beside c, or nil when
// the routes are dumped on c alone: the kernel does not check requests
// strictly (before 4.20, where it ignores the filters a split needs), or
// the socket cannot be had.
func (w *Watcher) secondDumper(c *rtnl.Conn) *rtnl.Conn {
	if !c.Strict() || w.noSplit {
		return nil
	}
	c2, err := w.splitter.Get()
	if err != nil {
		w.log.Warn("dumping routes on one socket", "err", err)
		return nil
	}
	if !c2.Strict() {
		return nil
	}
	return c2
}

// dumpSplit is dumpEach with the routes dumped over c and c2 at once
// (dumpRoutesSplit), in the same order otherwise: links, addresses and
// nexthop objects before the routes that name them, rules and neighbours
// after. The IPv4 tables are read while the first dumps run.
func (w *Watcher) dumpSplit(c, c2 *rtnl.Conn, fn func(rtnl.Message)) error {
	if w.store.RouteCount() == 0 {
		// Only a first sync, whose heap starts near empty: a resync's
		// collector already waits for twice the old model, and raised,
		// would let the heap grow to many times it.
		defer relaxGC(w.SyncGCPercent)()
	}
	tables := make(chan tablesResult, 1)
	go func() {
		t, err := fibTables(w.ns)
		if err != nil {
			// Correct, but slower: say why, so that the parser can be
			// taught a format it refused; once, as nothing changes it.
			level := slog.LevelWarn
			if w.tablesWarned.Swap(true) {
				level = slog.LevelDebug
			}
			w.log.Log(context.Background(), level, "route dump split by family: the IPv4 tables are unknown", "err", err)
		}
		tables <- tablesResult{t, err}
	}()
	steps := fullSteps()
	routes := slices.IndexFunc(steps, func(s dumpStep) bool { return s.typ == unix.RTM_GETROUTE })
	before := runDumps(c, steps[:routes], fn)
	if before != nil && !errors.Is(before, rtnl.ErrDumpInterrupted) {
		return before
	}
	how, err := dumpRoutesSplit(c, c2, tables, fn)
	w.routeDump = how
	if err != nil && !errors.Is(err, rtnl.ErrDumpInterrupted) {
		return err
	}
	after := runDumps(c, steps[routes+1:], fn)
	return cmp.Or(after, err, before)
}

// fibTables reads the IPv4 tables of a namespace (a variable for tests).
var fibTables = readFIBTables

// dumpEach runs the dumps in the order that lets later objects refer to
// earlier ones (links before addresses and routes).
func dumpEach(c *rtnl.Conn, fn func(rtnl.Message)) error {
	return runDumps(c, fullSteps(), fn)
}

// fullSteps are the dumps of a full sync, in order.
func fullSteps() []dumpStep {
	// Each request carries its type's full header, all zero (every
	// family, no filter), as a strictly checking socket demands; a plain
	// one reads the family from the first byte.
	steps := []dumpStep{
		{typ: unix.RTM_GETLINK, hdr: make([]byte, unix.SizeofIfInfomsg)},
		{typ: unix.RTM_GETADDR, hdr: make([]byte, unix.SizeofIfAddrmsg)},
		// Kernels before 5.3 have no nexthop objects and refuse the dump.
		{typ: unix.RTM_GETNEXTHOP, hdr: make([]byte, unix.SizeofNhmsg), optional: true},
		{typ: unix.RTM_GETROUTE, hdr: make([]byte, unix.SizeofRtMsg)},
		{typ: unix.RTM_GETRULE, hdr: make([]byte, sizeofFibRuleHdr)},
	}
	return append(steps, neighSteps()...)
}

// sizeofFibRuleHdr is struct fib_rule_hdr, a rule dump's header.
const sizeofFibRuleHdr = 12

// dialDumper opens the dump socket, checking requests strictly where the
// kernel can: a strict route dump leaves out the route exceptions (cached
// clones, which the model skips) that a plain one walks and sends.
func dialDumper(ns netns.NsHandle, log *slog.Logger) (*rtnl.Conn, error) {
	c, err := rtnl.Dial(ns)
	if err != nil {
		return nil, err
	}
	if err := strictCheck(c); err != nil {
		log.Info("netlink dumps without strict checking", "err", err)
	}
	return c, nil
}

// strictCheck turns on strict checking (a variable, so that tests can
// have a kernel without it).
var strictCheck = (*rtnl.Conn).StrictCheck

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

// RefreshStats dumps the links' counters and updates rates. Counters
// change without netlink events, so the interface page asks for this while
// someone watches it.
func (w *Watcher) RefreshStats() error {
	w.dumpMu.Lock()
	defer w.dumpMu.Unlock()
	c, err := w.dumper.Get()
	if err != nil {
		return err
	}
	stats := map[int32]model.LinkStats{}
	err = c.Dump(unix.RTM_GETLINK, make([]byte, unix.SizeofIfInfomsg), func(m rtnl.Message) {
		if l, skip, err := codec.DecodeLink(m.Body); err == nil && !skip {
			stats[l.Index] = l.Stats
		}
	})
	if err != nil && !errors.Is(err, rtnl.ErrDumpInterrupted) {
		w.dumper.Close()
		return err
	}
	w.store.UpdateStats(stats, time.Now())
	return nil
}

// Close releases the watcher's dump socket.
func (w *Watcher) Close() {
	w.dumpMu.Lock()
	defer w.dumpMu.Unlock()
	w.dumper.Close()
	w.splitter.Close()
}
