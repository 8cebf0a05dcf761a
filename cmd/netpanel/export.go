package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// runExport writes the archive the Save page offers, from the live state
// of the host or of --netns, to stdout.
func runExport(cfg config, stdout, stderr io.Writer) error {
	if cfg.demo {
		return errors.New("--demo: the demo namespace exists only while the panel runs; use --netns")
	}
	if f, ok := stdout.(*os.File); ok && isTerminal(f) {
		return errors.New("refusing to write a gzip archive to a terminal; redirect it: netpanel export > config.tar.gz")
	}
	ns := netns.None()
	if cfg.netns != "" {
		h, err := netns.GetFromName(cfg.netns)
		if err != nil {
			return fmt.Errorf("opening network namespace %q: %w", cfg.netns, err)
		}
		defer h.Close()
		if err := checkNetns(h, cfg.netns); err != nil {
			return err
		}
		ns = h
	}
	store, err := syncOnce(ns)
	if err != nil {
		return err
	}
	dirs := []string(cfg.tablesDir)
	if len(dirs) == 0 {
		dirs = rttables.DefaultDirs
	}
	tables, errs := rttables.Load(dirs...)
	for _, e := range errs {
		fmt.Fprintln(stderr, "netpanel export: rt_tables:", e)
	}
	if tables == nil {
		tables = rttables.New()
	}
	opts := persistOptions(cfg)
	opts.Kinds = append(opts.Kinds, app.NftablesKind(nftablesPath(cfg), func() (*nftables.Ruleset, error) {
		if !hasCaps(unix.CAP_NET_ADMIN) {
			return nil, errors.New("netpanel reads nftables only with CAP_NET_ADMIN")
		}
		return nftables.Dump(ns)
	}, nil))
	mgr := persist.New(opts, store, func() *rttables.Tables { return tables })
	defer mgr.Close()
	return app.NewFiles(mgr, nil).Export(stdout)
}

// syncOnce reads the namespace's state once, as the server does at start.
func syncOnce(ns netns.NsHandle) (*model.Store, error) {
	store := model.NewStore()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := monitor.NewWatcher(ns, store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.SyncGCPercent = monitor.ProcessSyncGCPercent()
	defer w.Close()
	wake, unsub := store.Subscribe()
	defer unsub()
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	for !store.Status().Synced {
		select {
		case <-wake:
		case err := <-errc:
			return nil, fmt.Errorf("reading the network state: %w", err)
		case <-ctx.Done():
			return nil, errors.New("reading the network state took too long")
		}
	}
	cancel()
	return store, nil
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
