package persist_test

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// BenchmarkExport writes the export archive of the shared route set
// (internal/benchfix: a few hundred links, routes in main and five more
// tables) into io.Discard, at 100k and at 1M routes, and reports how much
// heap the export holds beyond the model at its peak, with its time and
// allocations (ns/op, B/op and allocs/op are those of the exports at the
// default GOGC; the peak is measured on one more export, see below).
//
// How the peak is measured: the live heap is what survives a collection,
// and only a collection tells it. So that collections happen often enough
// to catch the peak, the benchmark sets GOGC=5 while the export runs: a
// collection starts whenever the heap has grown 5% beyond what the last
// one left live (about 7 MB over the 1M-route model). A goroutine reads
// runtime/metrics "/gc/heap/live:bytes" after every collection (it polls
// "/gc/cycles/total:gc-cycles" every 100 us; a collection takes longer)
// and keeps the largest; peak-live-MB is that maximum less the live heap
// after a runtime.GC() just before the export (the model and the
// fixture). What the export holds between two collections is at most the
// 5% more, so the true peak lies within peak-live-MB and peak-live-MB
// plus 5% of the heap. peak-objects-MB is the same for
// "/memory/classes/heap/objects:bytes", sampled every 100 us: live objects
// and garbage not yet swept, an upper bound the live peak cannot exceed
// at the moment sampled. largest-file-MB is the largest file of the
// archive, read back from the stream as it is written (a gzip and a tar
// reader, some 100 kB, are inside the peak).
func BenchmarkExport(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("routes=%s", count(n)), func(b *testing.B) {
			m := exportBenchManager(b, n)
			export := func() {
				if err := m.Export(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				export()
			}
			// The peak is measured on one more export, outside the
			// time and the allocations: GOGC=5 slows it many times.
			b.StopTimer()
			var largest int64
			peakLive, peakObjects := peakDuring(func() { largest = exportLargest(b, m) })
			b.ReportMetric(peakLive/1e6, "peak-live-MB")
			b.ReportMetric(float64(largest)/1e6, "largest-file-MB")
			b.ReportMetric(peakObjects/1e6, "peak-objects-MB")
			b.ReportMetric(float64(n), "routes")
		})
	}
}

func count(n int) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return fmt.Sprintf("%dk", n/1000)
}

// exportBenchManager is a manager over n routes of the shared set, with
// one file of netpanel's on disk beside the generated ones.
func exportBenchManager(b *testing.B, n int) *persist.Manager {
	b.Helper()
	store := model.NewStoreFrom(benchfix.State(n))
	root := b.TempDir()
	opts := persist.Options{
		NetworkDir: filepath.Join(root, "network"), ConfDir: filepath.Join(root, "networkd.conf.d"),
		DockerDir: filepath.Join(root, "docker"), BackupDir: filepath.Join(root, "backup"),
		Target: networkd.Target{Version: 252, How: "benchmark"},
	}
	if err := os.MkdirAll(opts.NetworkDir, 0o755); err != nil {
		b.Fatal(err)
	}
	names := rttables.New()
	return persist.New(opts, store, func() *rttables.Tables { return names })
}

// peakDuring runs fn and returns the largest live heap seen after a
// collection while it ran, and the largest heap objects sampled, each
// less the live heap before it (see BenchmarkExport).
func peakDuring(fn func()) (live, objects float64) {
	old := debug.SetGCPercent(5)
	defer debug.SetGCPercent(old)
	runtime.GC()
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(samples)
	base := float64(samples[0].Value.Uint64())
	cycles := samples[2].Value.Uint64()
	maxLive, maxObjects := base, float64(samples[1].Value.Uint64())
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			if c := samples[2].Value.Uint64(); c != cycles {
				cycles = c
				maxLive = max(maxLive, float64(samples[0].Value.Uint64()))
			}
			maxObjects = max(maxObjects, float64(samples[1].Value.Uint64()))
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	return maxLive - base, maxObjects - base
}

// exportLargest exports m and returns the size of the archive's largest
// file, read from the stream as it is written.
func exportLargest(b *testing.B, m *persist.Manager) int64 {
	pr, pw := io.Pipe()
	largest := make(chan int64, 1)
	go func() {
		var most int64
		defer func() { _, _ = io.Copy(io.Discard, pr); largest <- most }()
		zr, err := gzip.NewReader(pr)
		if err != nil {
			return
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err != nil {
				return
			}
			most = max(most, h.Size)
		}
	}()
	err := m.Export(pw)
	pw.CloseWithError(err)
	if err != nil {
		b.Fatal(err)
	}
	return <-largest
}
