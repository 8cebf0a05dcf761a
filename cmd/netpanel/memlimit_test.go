package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

func TestParseMemoryLimit(t *testing.T) {
	good := map[string]memoryLimit{
		"auto":      {auto: true},
		"off":       {},
		"300MiB":    {bytes: 300 << 20},
		"1GiB":      {bytes: 1 << 30},
		"67108864":  {bytes: 64 << 20},
		"67108864B": {bytes: 64 << 20},
		"65536KiB":  {bytes: 64 << 20},
		"2TiB":      {bytes: 2 << 40},
	}
	for in, want := range good {
		got, err := parseMemoryLimit(in)
		if err != nil || got != want {
			t.Errorf("parseMemoryLimit(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                 "want auto, off, or a size",
		"300MB":            "want auto, off, or a size",
		"-1GiB":            "want auto, off, or a size",
		"0":                "want auto, off, or a size",
		"1MiB":             "at least 64MiB",
		"9999999999999TiB": "want auto, off, or a size",
		"Auto":             "want auto, off, or a size",
	}
	for in, msg := range bad {
		if _, err := parseMemoryLimit(in); err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), "--memory-limit") {
			t.Errorf("parseMemoryLimit(%q): error %v, want one naming the flag and saying %q", in, err, msg)
		}
	}
}

func TestAutoMemoryLimitFollowsTheModel(t *testing.T) {
	if got := autoMemoryLimit(10 << 20); got != memoryFloor {
		t.Errorf("a small model gets %d, want the floor %d", got, memoryFloor)
	}
	// A million routes: about 146 MB live; two million: twice that, and
	// the limit must leave the collector room above what is live, and
	// keep the RSS of a million routes under 200 MB.
	for _, live := range []uint64{146e6, 292e6, 4 << 30} {
		if got := autoMemoryLimit(live); got < int64(live)*5/4 {
			t.Errorf("live heap %d: limit %d leaves the collector no room", live, got)
		}
	}
	if got := autoMemoryLimit(146e6); got > 195e6 {
		t.Errorf("a million routes (146 MB live) get a limit of %d, over what keeps the RSS under 200 MB", got)
	}
}

func FuzzParseMemoryLimit(f *testing.F) {
	for _, s := range []string{"auto", "off", "300MiB", "1GiB", "67108864", "1MiB", "9999999999999TiB", "B", "KiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lim, err := parseMemoryLimit(s)
		if err != nil {
			return
		}
		if !lim.auto && lim.bytes != 0 && lim.bytes < 64<<20 {
			t.Fatalf("%q accepted as %d bytes, under the 64MiB floor", s, lim.bytes)
		}
	})
}

// The follower of "auto" looks at the model's status after a sync, not
// after each of the thousands of changes a second a routing daemon makes:
// two hundred route changes, each its own update some time apart, wake
// it once per memoryLookGap (a follower that took every wake-up took
// about two hundred).
func TestTheMemoryFollowerIsNotWokenByEachChange(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	store := model.NewStore()
	ctx, cancel := context.WithCancel(context.Background())
	hooks := &memoryHooks{}
	done := applyMemoryLimit(ctx, memoryLimit{auto: true}, store, slog.New(slog.NewTextHandler(io.Discard, nil)), hooks)
	defer func() { cancel(); <-done }()
	start := time.Now()
	for i := range 200 {
		r := model.Route{Table: 254, Family: unix.AF_INET, Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)}
		store.Update(func(a *model.Applier) { a.Route(r, false, false) })
		time.Sleep(100 * time.Microsecond) // apart: a follower listening takes each
	}
	// One look per gap begun: on a busy host the changes may take longer.
	want := 1 + int64(time.Since(start)/memoryLookGap)
	if n := hooks.looks.Load(); n > want {
		t.Errorf("the follower looked %d times for 200 changes over %v, want at most %d", n, time.Since(start).Round(time.Millisecond), want)
	}
}

// The limit "auto" sets follows the live heap at each collection: with 64 MiB live after the
// sync of an empty model, the next collection raises it to cover them. Until then the
// collector ran several times a second, the limit a few MiB over the
// live heap (seen in BenchmarkEndToEnd1M after the page views).
func TestTheMemoryLimitFollowsTheLiveHeapAtEachCollection(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	store := model.NewStore()
	ctx, cancel := context.WithCancel(context.Background())
	done := applyMemoryLimit(ctx, memoryLimit{auto: true}, store, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	// The limit is put back once the follower stopped: it may yet set
	// one after cancel (deferred calls run last first).
	defer func() { cancel(); <-done }()
	store.Replace(model.NewDump(), "test")
	limit := func() int64 { return debug.SetMemoryLimit(-1) }
	deadline := time.Now().Add(30 * time.Second)
	for limit() == math.MaxInt64 { // the sync's
		if time.Now().After(deadline) {
			t.Fatal("no limit set after the sync")
		}
		time.Sleep(time.Millisecond)
	}
	want := autoMemoryLimit(64 << 20)
	if limit() >= want {
		t.Fatalf("limit %d MiB after the sync of an empty model, want less than %d MiB", limit()>>20, want>>20)
	}
	held := make([]byte, 64<<20)
	for i := range held {
		held[i] = 1
	}
	for limit() < want {
		if time.Now().After(deadline) {
			t.Fatalf("limit %d MiB after collections with 64 MiB live, want at least %d MiB", limit()>>20, want>>20)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	runtime.KeepAlive(held)
}
