package handlers

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"github.com/netpanel/netpanel/views"
)

// BenchmarkSavePreview1M measures the save preview (POST
// /networkd/preview) over the million-route model: of every link and of
// one link (np0a, its share of the routes), when no file exists yet
// (every line new) and when the files exist and one route line differs
// (a small diff of a large file, the common case). It reports the HTML
// size, the peak heap while it runs above the heap before (sampled) and the diff computation
// alone (configfiles.UnifiedDiff over the plan's changes) and the page's
// rendering alone, from the plan.
func BenchmarkSavePreview1M(b *testing.B) {
	var all []string
	for i := range 2 * benchfix.Pairs {
		all = append(all, benchfix.LinkName(i))
	}
	for _, sel := range []struct {
		name  string
		links []string
	}{{"all links", all}, {"one link", []string{benchfix.LinkName(0)}}} {
		for _, existing := range []bool{false, true} {
			name := sel.name + ", new files"
			if existing {
				name = sel.name + ", one route changed"
			}
			b.Run(name, func(b *testing.B) {
				h, opts, files := benchHandlersWith(b)
				if existing {
					writeWithOneChange(b, files, opts, sel.links)
				}
				preview := route(h, "POST", "/networkd/preview")
				form := url.Values{"link": sel.links}.Encode()
				pv, err := files.Preview(persist.Selection{Links: sel.links})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				for _, c := range pv.Plan.Changes {
					configfiles.UnifiedDiff(c.Rel, c.Old, c.New)
				}
				diffMS := float64(time.Since(start).Microseconds()) / 1e3
				// The page made of the plan, without planning: what the
				// bounds on the diffs keep small.
				start = time.Now()
				var page bytes.Buffer
				if err := views.NetworkdPreview(reloadingVM(pv, persist.Status{Active: true})).Render(context.Background(), &page); err != nil {
					b.Fatal(err)
				}
				renderMS := float64(time.Since(start).Microseconds()) / 1e3
				pv = nil
				runtime.GC()
				base := heapObjects()
				peak := heapSampler()
				size := 0
				for b.Loop() {
					req := httptest.NewRequest("POST", "/networkd/preview", strings.NewReader(form))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					rec := httptest.NewRecorder()
					preview(rec, asAdmin(req, "127.0.0.1"))
					if rec.Code != 200 {
						b.Fatalf("status %d: %.500s", rec.Code, rec.Body)
					}
					size = rec.Body.Len()
					_, _ = io.Copy(io.Discard, rec.Body)
				}
				b.ReportMetric(float64(size), "html-B")
				b.ReportMetric((peak()-base)/1e6, "peak-heap-MB")
				b.ReportMetric(diffMS, "diff-ms")
				b.ReportMetric(renderMS, "render-ms")
			})
		}
	}
}

// writeWithOneChange writes the files a save of links would write, then
// changes one route line in the middle of the largest one: the next
// preview's diff is one line of a large file.
func writeWithOneChange(b *testing.B, files interface {
	Preview(persist.Selection) (*persist.Preview, error)
}, opts persist.Options, links []string) {
	b.Helper()
	pv, err := files.Preview(persist.Selection{Links: links})
	if err != nil {
		b.Fatal(err)
	}
	largest := ""
	for rel, data := range pv.Files {
		if strings.Contains(rel, "/") {
			continue // the tables file of networkd.conf.d, not a .network
		}
		if len(data) > len(pv.Files[largest]) {
			largest = rel
		}
		if err := os.WriteFile(filepath.Join(opts.NetworkDir, rel), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	data := pv.Files[largest]
	i := bytes.Index(data[len(data)/2:], []byte("\nGateway=")) + len(data)/2
	if i < len(data)/2 {
		b.Fatalf("%s has no route line in its second half", largest)
	}
	changed := append(append(bytes.Clone(data[:i]), "\nGateway=10.254.0.99"...), data[bytes.IndexByte(data[i+1:], '\n')+i+1:]...)
	if err := os.WriteFile(filepath.Join(opts.NetworkDir, largest), changed, 0o644); err != nil {
		b.Fatal(err)
	}
}

// heapObjects is the heap's live and not yet swept objects, in bytes.
func heapObjects() float64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return float64(s[0].Value.Uint64())
}

// heapSampler samples the live heap every millisecond until the func it
// returns is called, which returns the largest sample in bytes.
func heapSampler() func() float64 {
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 { close(stop); <-done; return float64(peak.Load()) }
}
