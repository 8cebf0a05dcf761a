package handlers

import (
	"context"
	"io"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/app"
)

// BenchmarkOverviewRender1M measures the overview over a million routes
// (target: 20 ms): the full page as a browser gets it, and the live view
// the hub renders on every route change and every two seconds. The counts
// that walk every route come from the tally, made beforehand, as they are
// in the running server.
func BenchmarkOverviewRender1M(b *testing.B) {
	tally := fakeTally{
		Foreign:   app.Count{Known: true, N: 1_000_002, ByKind: map[string]int{"route": 1_000_002}, At: time.Now(), Took: 900 * time.Millisecond},
		Conflicts: app.Count{Known: true, At: time.Now()},
	}
	h := New(Deps{Store: millionRoutes(), Tally: tally})
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			pageHandler(h, "overview")(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != 200 {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			_, _ = io.Copy(io.Discard, rec.Body)
		}
	})
	b.Run("live view", func(b *testing.B) {
		for b.Loop() {
			if _, err := h.Live(context.Background(), "overview", nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkInterfaceViewRender1M measures an interface's view over a
// million routes, half of which leave by it: the routes query walks them
// all, so its live view renders off the hub's goroutine (Live.IO).
func BenchmarkInterfaceViewRender1M(b *testing.B) {
	h := New(Deps{Store: millionRoutes()})
	for b.Loop() {
		if _, err := h.Live(context.Background(), "interface", url.Values{"name": {"wan"}}); err != nil {
			b.Fatal(err)
		}
	}
}
