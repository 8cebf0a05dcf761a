// Package nsnames names the network namespaces that a namespace's links
// lead into, as ip does: a veth whose peer lives elsewhere carries the
// peer namespace's id (IFLA_LINK_NETNSID), an id that only means
// something to the namespace that gave it, and ip prints "link-netns
// NAME" for it when an entry of /run/netns is that namespace (asking the
// kernel for the id of each entry, RTM_GETNSID), or "link-netnsid N".
//
// Names keeps that answer for readers that must not do I/O (the live
// pages' renders on the WebSocket hub): NetnsName only reads a map. Run
// refreshes it when it can be stale: when /run/netns changes (ip netns
// add, attach, del) and when the kernel announces that the namespace gave
// or dropped an id (RTM_NEWNSID, RTM_DELNSID on RTNLGRP_NSID).
package nsnames

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/files/safefile"
	"github.com/netpanel/netpanel/netops/rtnl"
	"github.com/netpanel/netpanel/netops/watch"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Dir is where ip netns keeps its names.
const Dir = "/run/netns"

const (
	// settle lets a burst (ip netns add makes the file, then mounts the
	// namespace on it) end before the names are read again.
	settle = 100 * time.Millisecond
	// retry is the pause before reading again when an entry was not a
	// namespace yet (its mount, which sends no file event, was pending);
	// retries bounds how often.
	retry   = 200 * time.Millisecond
	retries = 10
	// failedFirst is the pause before reading again after the kernel could
	// not be asked (errQuery), doubled at each failure in a row up to
	// failedMax: no other event may come to repair the names.
	failedFirst = time.Second
	failedMax   = time.Minute
)

// Names maps the namespace ids of one namespace to the names of
// /run/netns. The zero value is not usable; use New.
type Names struct {
	ns  netns.NsHandle
	dir string
	log *slog.Logger

	byID  atomic.Pointer[map[int32]string]
	wakes watch.Wakes

	mu      sync.Mutex // one refresh at a time, over one query socket
	conn    watch.Lazy[*rtnl.Conn]
	open    func(path string) (*os.File, error) // safefile.OpenNamespace; tests: any opener
	skipped map[string]string                   // entries skipped at the last refresh: why, logged once

	refreshed func() // tests: called after each of Run's refreshes
}

// New names the ids of the namespace ns (netns.None(): the caller's own)
// from the entries of dir (Dir). It knows no names until Refresh or Run.
// The caller keeps ownership of ns.
func New(ns netns.NsHandle, dir string, log *slog.Logger) *Names {
	n := &Names{ns: ns, dir: dir, log: log, open: safefile.OpenNamespace}
	n.byID.Store(&map[int32]string{})
	n.conn.Dial = func() (*rtnl.Conn, error) { return rtnl.Dial(ns) }
	return n
}

// NetnsName returns the name of the namespace with id nsid, as ip prints
// it after link-netns; ok is false when no entry of /run/netns is that
// namespace. It does no I/O.
func (n *Names) NetnsName(nsid int32) (name string, ok bool) {
	name, ok = (*n.byID.Load())[nsid]
	return name, ok
}

// Subscribe wakes the caller after the names changed.
func (n *Names) Subscribe() (<-chan struct{}, func()) { return n.wakes.Subscribe() }

// errPending means an entry of the directory was not a namespace yet.
var errPending = errors.New("a /run/netns entry is not mounted yet")

// Refresh reads the names again: each entry of the directory is opened
// (through safefile: a network namespace file, nothing else) and the
// kernel asked which id the namespace gives it. Subscribers are woken when
// the names changed. When two entries are one namespace, the first by name
// wins. An entry that is no network namespace, or for which the kernel
// refuses the question, is skipped (logged once at debug level): it costs
// no other entry its name. Only a failure of the socket fails the whole
// reading (errQuery), and keeps the names read before.
//
// The directory is listed with os.ReadDir: a listing reads names only,
// opens no entry and follows no link; each name is then opened with
// safefile.OpenNamespace, and shown only as text.
func (n *Names) Refresh() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	entries, err := os.ReadDir(n.dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("listing %s: %w", n.dir, err)
	}
	byID := map[int32]string{}
	skipped := map[string]string{}
	var pending bool
	for _, e := range entries {
		path := filepath.Join(n.dir, e.Name())
		id, err := n.idOf(path)
		switch {
		case errors.Is(err, safefile.ErrNotNamespace):
			pending = true
		case errors.Is(err, errQuery):
			return err
		case err != nil:
			skipped[path] = err.Error()
			if n.skipped[path] != skipped[path] {
				n.log.Debug("not a network namespace name", "path", path, "err", err)
			}
		case id >= 0:
			if _, dup := byID[id]; !dup {
				byID[id] = e.Name()
			}
		}
	}
	n.skipped = skipped
	if !maps.Equal(*n.byID.Load(), byID) {
		n.byID.Store(&byID)
		n.wakes.Wake()
	}
	if pending {
		return errPending
	}
	return nil
}

// errQuery wraps a failed RTM_GETNSID socket: it is reopened next time.
var errQuery = errors.New("asking the kernel for a namespace id")

// idOf asks the kernel which id the namespace gives the namespace at path
// (-1: none). The kernel's refusal is this entry's error, not errQuery:
// the socket works.
func (n *Names) idOf(path string) (int32, error) {
	f, err := n.open(path)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	c, err := n.conn.Get()
	if err != nil {
		return -1, fmt.Errorf("%w: %w", errQuery, err)
	}
	id, derr := int32(-1), error(nil)
	err = c.Query(unix.RTM_GETNSID, 0, codec.EncodeNsidRequest(int(f.Fd())), func(m rtnl.Message) {
		if m.Type == unix.RTM_NEWNSID {
			id, derr = codec.DecodeNsid(m.Body)
		}
	})
	if refused(err) {
		return -1, fmt.Errorf("the kernel gives no namespace id for %s: %w", path, err)
	}
	if err != nil {
		n.conn.Close()
		return -1, fmt.Errorf("%w for %s: %w", errQuery, path, err)
	}
	return id, derr
}

// refused tells the kernel's answer to a query (an errno, bare or with
// its extended message, as rtnl.Conn.Query returns it) from a failure of
// the socket (which Query returns wrapped, or as another error).
func refused(err error) bool {
	if _, ok := err.(unix.Errno); ok {
		return true
	}
	var ext *rtnl.ExtAckError
	return errors.As(err, &ext)
}

// Close releases the query socket.
func (n *Names) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.conn.Close()
}

// Run refreshes the names at once and whenever they can be stale, until
// ctx ends; a reading that failed (the kernel could not be asked) is
// tried again after a pause growing from failedFirst to failedMax, since
// no event may come to repair the names.
func (n *Names) Run(ctx context.Context) error {
	kick := make(chan struct{}, 1)
	wake := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching %s: %w", n.dir, err)
	}
	defer fsw.Close()
	n.watchDir(fsw)
	ctx, cancel := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		watch.Loop(ctx, n.log, "namespace id", func(ctx context.Context, _ string, synced func()) error { return n.follow(ctx, wake, synced) },
			func(string) { wake() }, func(failures int, _ error) time.Duration { return watch.Backoff(failures) })
	}()
	defer func() { cancel(); <-followed }()

	// The first reading follows the first subscription (follow wakes
	// it), so no id given in between is missed.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	tries, failures := 0, 0
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case ev, ok := <-fsw.Events:
			if !ok {
				return errors.New("the /run/netns watcher closed")
			}
			if ev.Name == n.dir || filepath.Dir(ev.Name) == n.dir {
				n.watchDir(fsw)
				tries = 0
				timer.Reset(settle)
			}
		case err, ok := <-fsw.Errors:
			if !ok {
				return errors.New("the /run/netns watcher closed")
			}
			n.log.Warn("watching namespace names", "err", err)
			timer.Reset(settle) // events may be lost: read again
		case <-kick:
			tries = 0
			timer.Reset(settle)
		case <-timer.C:
			err := n.Refresh()
			if n.refreshed != nil {
				n.refreshed()
			}
			switch {
			case errors.Is(err, errPending) && tries < retries:
				failures = 0
				tries++
				timer.Reset(retry)
			case err != nil && !errors.Is(err, errPending):
				failures++
				wait := failedBackoff(failures)
				n.log.Warn("reading namespace names", "err", err, "retry in", wait)
				timer.Reset(wait)
			default:
				failures = 0
			}
		}
	}
}

// failedBackoff is the pause after failures failed readings in a row:
// failedFirst, doubled each time, at most failedMax.
func failedBackoff(failures int) time.Duration {
	return min(failedFirst<<min(max(failures-1, 0), 16), failedMax)
}

// watchDir watches the directory, or its parent until it exists (the
// first ip netns add makes it).
func (n *Names) watchDir(fsw *fsnotify.Watcher) {
	if err := fsw.Add(n.dir); err == nil {
		return
	}
	if err := fsw.Add(filepath.Dir(n.dir)); err != nil {
		n.log.Warn("cannot watch for namespace names", "dir", filepath.Dir(n.dir), "err", err)
	}
}

// follow subscribes to the namespace's id announcements and wakes the
// refresh at each, until the subscription fails.
func (n *Names) follow(ctx context.Context, wake, synced func()) error {
	c, err := rtnl.Dial(n.ns, unix.RTNLGRP_NSID)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	wake() // the first reading, or ids given while no one listened
	synced()
	for {
		if err := c.Receive(func(rtnl.Message) { wake() }); err != nil {
			return err
		}
	}
}
