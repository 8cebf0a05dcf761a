package networkd

import (
	"bytes"
	"testing"

	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/netops/model"
)

// BenchmarkGenerateOneLink1M is Generate of one link (np0a, its share of
// the million routes of internal/benchfix) from the store: what a save
// preview of one link does twice (the files, and whether the link can
// be saved). It should cost that link's routes, not the million's.
func BenchmarkGenerateOneLink1M(b *testing.B) {
	store := model.NewStoreFrom(benchfix.State(1_000_000))
	links := []string{benchfix.LinkName(0)}
	g, err := Generate(store, links, nil, target252)
	if err != nil {
		b.Fatal(err)
	}
	routes := 0
	for _, data := range g.Files {
		routes += countRoutes(data)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Generate(store, links, nil, target252); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(routes), "routes")
}

func countRoutes(data []byte) int { return bytes.Count(data, []byte("[Route]")) }

// BenchmarkPredictOneLink1M is Predict of one link's new files (np0a's,
// as Generate writes them) over no files, from the million-route store:
// the other half of a one-link save preview.
//
// It parses the new files, as a prediction of files Generate did not
// make does; a preview takes Generate's structures (PredictOf).
func BenchmarkPredictOneLink1M(b *testing.B) {
	store, g, c := oneLink1M(b)
	b.ReportAllocs()
	b.ResetTimer()
	effects := 0
	for b.Loop() {
		effects = len(Predict(c, g.Files, store, DaemonConf{}).Effects)
	}
	b.ReportMetric(float64(effects), "effects")
}

// BenchmarkPredictOfOneLink1M is PredictOf of np0a's new files with
// Generate's structures and kept runs, as a preview of one link runs it
// over the million-route store; BenchmarkForeignOfOneLink1M is the
// foreign view of the same files, its counts and first page.
func BenchmarkPredictOfOneLink1M(b *testing.B) {
	store, g, c := oneLink1M(b)
	b.ReportAllocs()
	b.ResetTimer()
	effects := 0
	for b.Loop() {
		effects = len(PredictOf(c, g.Files, g, store, DaemonConf{}).Effects)
	}
	b.ReportMetric(float64(effects), "effects")
}

func BenchmarkForeignOfOneLink1M(b *testing.B) {
	store, g, c := oneLink1M(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		fv := NewForeignViewOf(c, g.Files, g, store, nil)
		fv.Page(nil, 0, 1000)
		fv.Count()
	}
}

// oneLink1M is the million-route store, np0a's generated files and no
// files on disk.
func oneLink1M(b *testing.B) (*model.Store, *Generated, *Config) {
	store := model.NewStoreFrom(benchfix.State(1_000_000))
	g, err := Generate(store, []string{benchfix.LinkName(0)}, nil, target252)
	if err != nil {
		b.Fatal(err)
	}
	c, err := Load([]string{b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	return store, g, c
}
