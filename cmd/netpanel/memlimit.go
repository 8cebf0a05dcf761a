package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/netpanel/netpanel/netops/model"
)

// The Go runtime lets the heap grow to twice what is live before it
// collects: with a million routes (~136 MB live) and page views' garbage
// the server's RSS went to ~330 MB although it needs ~170. A soft memory
// limit makes it collect, and return memory to the kernel, sooner.
//
// "auto" sets it after every completed sync and after each collection
// (the live heap is known anew only then), to memoryHeadroom times the
// heap the last collection found live plus memorySlack (the runtime's own
// memory counts too), at least memoryFloor:
// it follows the model's size, growing or shrinking with events between
// syncs (a BGP feed arriving after a small first dump), so a model larger
// than a fixed limit never makes the collector run without end. With a
// million routes (~146 MB live) that is ~191 MB: the RSS stays under
// 200 MB where 1.5 times let it reach ~226 MB; the collector runs more
// often under churn, each time for tens of ms of one core. GOMEMLIMIT in
// the environment, when set, wins over "auto".
const (
	memoryFloor    = 64 << 20
	memoryHeadroom = 1.25
	memorySlack    = 8 << 20
	memoryLookGap  = time.Second
)

// memoryHooks lets a test see what the follower of "auto" does; nil in
// production.
type memoryHooks struct {
	looks atomic.Int64 // the model's wake-ups the follower took
}

// memoryLimit is --memory-limit: auto, off, or a size in bytes.
type memoryLimit struct {
	auto  bool
	bytes int64 // 0 with auto false: no limit
}

// parseMemoryLimit reads "auto", "off", or a size as GOMEMLIMIT writes
// it: a number of bytes with an optional B, KiB, MiB, GiB or TiB suffix.
func parseMemoryLimit(s string) (memoryLimit, error) {
	switch s {
	case "auto":
		return memoryLimit{auto: true}, nil
	case "off":
		return memoryLimit{}, nil
	}
	num, mult := s, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return memoryLimit{}, fmt.Errorf("--memory-limit %q: want auto, off, or a size such as 300MiB or 1GiB", s)
	}
	if n*mult < 64<<20 {
		return memoryLimit{}, fmt.Errorf("--memory-limit %q: at least 64MiB (below that the collector would run all the time)", s)
	}
	return memoryLimit{bytes: n * mult}, nil
}

// applyMemoryLimit sets a fixed limit at once, or with auto follows the
// store's syncs until ctx ends. The channel it returns is closed once
// nothing sets the limit any more (a test puts its limit back then).
// hooks is nil but in tests.
func applyMemoryLimit(ctx context.Context, lim memoryLimit, store *model.Store, log *slog.Logger, hooks *memoryHooks) <-chan struct{} {
	done := make(chan struct{})
	if !lim.auto {
		if lim.bytes > 0 {
			debug.SetMemoryLimit(lim.bytes)
		}
		close(done)
		return done
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		close(done)
		return done
	}
	wakes, stop := store.Subscribe()
	go func() {
		defer close(done)
		defer stop()
		var last model.Status
		var set int64
		// A sync ends now and then, while the model may change thousands
		// of times a second: after a look, the next waits memoryLookGap
		// (the channel keeps a wake-up meanwhile), so the changes do not
		// each wake this goroutine to read the status.
		listen, resume := wakes, (<-chan time.Time)(nil)
		gcs := make(chan struct{}, 1)
		afterEachGC(gcs, ctx.Done())
		follow := func() {
			if ctx.Err() != nil {
				return // a collection came with the end: the select took it
			}
			if n := autoMemoryLimit(liveHeap()); n != set {
				debug.SetMemoryLimit(n)
				if set == 0 || n > set*21/20 || n < set*19/20 {
					log.Debug("soft memory limit set", "bytes", n, "routes", store.RouteCount())
				}
				set = n
			}
		}
		for {
			if st := store.Status(); st.Synced && st.LastSync != last.LastSync {
				last = st
				// A collection now finds what the model holds (the
				// sync's garbage aside) and gives the rest back.
				debug.FreeOSMemory()
				follow()
			}
			select {
			case <-ctx.Done():
				return
			case <-listen:
				if hooks != nil {
					hooks.looks.Add(1)
				}
				listen, resume = nil, time.After(memoryLookGap)
			case <-resume:
				listen, resume = wakes, nil
			case <-gcs:
				// The live heap is known anew: a limit set for a smaller
				// one (the model before the page views built their
				// caches) made the collector run several times a second.
				if last.Synced {
					follow()
				}
			}
		}
	}()
	return done
}

// gcSentinel is an object dropped at once, whose finalizer tells of the
// collection that found it unreachable (it holds a pointer: the tiny
// allocator's objects may never be finalized).
type gcSentinel struct{ _ *byte }

// afterEachGC sends on ch, without waiting, after each garbage
// collection until stop is closed.
func afterEachGC(ch chan<- struct{}, stop <-chan struct{}) {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		select {
		case <-stop:
			return
		default:
		}
		select {
		case ch <- struct{}{}:
		default:
		}
		afterEachGC(ch, stop)
	})
}

// autoMemoryLimit is the limit "auto" sets for a live heap of live bytes.
func autoMemoryLimit(live uint64) int64 {
	return max(memoryFloor, int64(float64(live)*memoryHeadroom)+memorySlack)
}

// liveHeap is the heap the last collection found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
