package nftables

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/netpanel/netpanel/netops/watch"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Watcher keeps a Store equal to the nftables ruleset of one namespace: it
// subscribes to NFNLGRP_NFTABLES, dumps, and applies notifications. Any
// sign that notifications were lost (a receive error such as ENOBUFS, a
// notification it cannot decode, a closed socket) leads to a fresh
// subscription and a full dump that replaces the model.
type Watcher struct {
	ns    netns.NsHandle
	store *Store
	log   *slog.Logger
	// RecvBuf is the notification socket's receive buffer in bytes.
	RecvBuf int

	dumpMu sync.Mutex
	dumper watch.Lazy[*netlink.Conn]
	dumps  atomic.Uint64
}

// NewWatcher prepares a watcher for the namespace ns (netns.None() for the
// caller's own). The caller keeps ownership of ns.
func NewWatcher(ns netns.NsHandle, store *Store, log *slog.Logger) *Watcher {
	w := &Watcher{ns: ns, store: store, log: log, RecvBuf: 8 << 20}
	w.dumper.Dial = func() (*netlink.Conn, error) { return dial(ns) }
	return w
}

// Store returns the model the watcher maintains.
func (w *Watcher) Store() *Store { return w.store }

// Run keeps the model current until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	watch.Loop(ctx, w.log, "nftables", w.session, w.store.beginResync, func(failures int, err error) time.Duration {
		if errors.Is(err, os.ErrPermission) {
			// Without CAP_NET_ADMIN nftables cannot be read at all; retry
			// rarely instead of logging every few seconds.
			return time.Minute
		}
		return watch.Backoff(failures)
	})
	return nil
}

func (w *Watcher) session(ctx context.Context, reason string, synced func()) error {
	ev, err := dial(w.ns)
	if err != nil {
		return err
	}
	defer ev.Close()
	if err := ev.JoinGroup(unix.NFNLGRP_NFTABLES); err != nil {
		return fmt.Errorf("subscribing to nftables notifications: %w", err)
	}
	if w.RecvBuf > 0 {
		if err := setReadBuffer(ev, w.RecvBuf); err != nil {
			w.log.Warn("cannot set the nftables netlink receive buffer", "bytes", w.RecvBuf, "err", err)
		}
	}
	stop := context.AfterFunc(ctx, func() { ev.Close() })
	defer stop()

	// Subscribe before dumping: notifications that race with the dump wait
	// in the socket and are applied afterwards. Each carries a whole table,
	// chain, set or element, and rules are dumped again per chain, so
	// applying one the dump already reflects converges to the same state.
	rs, err := w.Dump()
	if err != nil {
		return err
	}
	w.store.replace(rs, reason)
	t, c, r, s := rs.Counts()
	w.log.Info("nftables state synced", "reason", reason, "gen", rs.Gen, "tables", t, "chains", c, "rules", r, "sets", s)
	synced()

	for {
		msgs, err := ev.Receive()
		if len(msgs) > 0 {
			if aerr := w.applyBatch(msgs); aerr != nil {
				return aerr
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("receiving nftables notifications: %w", err)
		}
	}
}

// applyBatch applies one datagram's notifications and reads the rules of
// the chains they touched.
func (w *Watcher) applyBatch(msgs []netlink.Message) error {
	a := newApplier(w.store.Ruleset())
	for _, m := range msgs {
		a.apply(m)
	}
	if len(a.errs) > 0 {
		return fmt.Errorf("a notification could not be decoded: %w", errors.Join(a.errs...))
	}
	if len(a.dirty) > 0 {
		w.dumpMu.Lock()
		err := w.redumpChains(a)
		w.dumpMu.Unlock()
		if err != nil {
			return err
		}
	}
	w.store.install(a.rs)
	return nil
}

func (w *Watcher) redumpChains(a *applier) error {
	c, err := w.dumper.Get()
	if err != nil {
		return err
	}
	for k := range a.dirty {
		rules, err := dumpChainRules(c, k.fam, k.table, k.chain)
		switch {
		case isNotFound(err):
			// The chain is gone; its deletion is on its way.
			rules = nil
		case errors.Is(err, errInterrupted):
			// The chain changed again meanwhile: a later notification
			// marks it again, and the dump is complete even if flagged.
		case err != nil:
			w.dumper.Close()
			return fmt.Errorf("reading the rules of chain %s: %w", k.chain, err)
		}
		a.setRules(k, rules)
	}
	return nil
}

// Dump reads the whole ruleset now, consistently, without installing it:
// for a caller that needs current counters.
func (w *Watcher) Dump() (*Ruleset, error) {
	w.dumps.Add(1)
	w.dumpMu.Lock()
	defer w.dumpMu.Unlock()
	c, err := w.dumper.Get()
	if err != nil {
		return nil, err
	}
	rs, err := dumpRuleset(c)
	if err != nil {
		w.dumper.Close()
		return nil, err
	}
	return rs, nil
}

// Dumps counts the calls of Dump so far: each reads the whole ruleset,
// which costs its size whether or not anything changed.
func (w *Watcher) Dumps() uint64 { return w.dumps.Load() }

// Close releases the watcher's dump socket.
func (w *Watcher) Close() {
	w.dumpMu.Lock()
	defer w.dumpMu.Unlock()
	w.dumper.Close()
}
