package networkd

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/netops/model"
)

// savedState writes into a new directory the files a save of every link
// of internal/benchfix's million routes writes, and returns it with the
// number of routes they describe.
func savedState(b *testing.B) (dir string, routes int) {
	b.Helper()
	store := model.NewStoreFrom(benchfix.State(1_000_000))
	var links []string
	for i := range 2 * benchfix.Pairs {
		links = append(links, benchfix.LinkName(i))
	}
	g, err := Generate(store, links, nil, target252)
	if err != nil {
		b.Fatal(err)
	}
	dir = b.TempDir()
	for rel, data := range g.Files {
		routes += countRoutes(data)
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir, routes
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkLoaderSaved1M is a Loader's first Load of the files a save of
// every link writes at a million routes (300 files), and what the Loader
// keeps of them: retained-B/route is the heap the parsed files hold,
// per route they describe (the Loader keeps it between Loads).
func BenchmarkLoaderSaved1M(b *testing.B) {
	dir, routes := savedState(b)
	var retained uint64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		before := heapInUse()
		b.StartTimer()
		ld := NewLoader([]string{dir})
		c, err := ld.Load()
		if err != nil {
			b.Fatal(err)
		}
		if len(c.Errors) > 0 {
			b.Fatal(c.Errors)
		}
		b.StopTimer()
		retained = heapInUse() - before
		runtime.KeepAlive(ld)
		b.StartTimer()
	}
	b.ReportMetric(float64(retained)/float64(routes), "retained-B/route")
	b.ReportMetric(float64(routes), "routes")
}

// BenchmarkLoaderSavedAgain1M is a Load of the same saved files once the
// Loader has read them: what each page that reads the files pays while
// they do not change: watched, nothing but a read of the inotify queue
// and a stat of the directory; not (stat every file), a stat per file,
// every parse shared.
func BenchmarkLoaderSavedAgain1M(b *testing.B) {
	dir, _ := savedState(b)
	time.Sleep(racyWindow + 100*time.Millisecond) // none of them racy: not read again
	for _, c := range []struct {
		name string
		new  func([]string) *Loader
	}{{"watched", NewLoader}, {"stat every file", newLoader}} {
		b.Run(c.name, func(b *testing.B) {
			ld := c.new([]string{dir})
			defer ld.Close()
			if _, err := ld.Load(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ld.Load(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
