package web

import (
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
)

// The hub refreshes each page at the period its declaration names: it
// ticks at the shortest one and counts ticks for the longer ones.
func TestHubRefreshesEachPageAtItsDeclaredPeriod(t *testing.T) {
	pages := []handlers.Page{
		{Name: "counters", Live: handlers.Live{Counters: time.Second}},
		{Name: "slow", Live: handlers.Live{Every: 2 * time.Second}},
		{Name: "events only", Live: handlers.Live{Events: true}},
	}
	hb := &Hub{tick: tickOf(pages)}
	if hb.tick != time.Second {
		t.Fatalf("tick %v, want the shortest period, 1s", hb.tick)
	}
	var every1, every2, never []int64
	for range 6 {
		hb.ticks++
		if hb.due(time.Second) {
			every1 = append(every1, hb.ticks)
		}
		if hb.due(2 * time.Second) {
			every2 = append(every2, hb.ticks)
		}
		if hb.due(0) {
			never = append(never, hb.ticks)
		}
	}
	if len(every1) != 6 || len(every2) != 3 || len(never) != 0 {
		t.Errorf("due at ticks: 1s %v, 2s %v, never %v", every1, every2, never)
	}
	if tk := tickOf(nil); tk != defaultTick {
		t.Errorf("without periods the hub ticks at %v, want %v", tk, defaultTick)
	}
	if tk := tickOf([]handlers.Page{{Live: handlers.Live{Every: time.Millisecond}}}); tk != minTick {
		t.Errorf("a 1ms period makes the hub tick at %v, want %v", tk, minTick)
	}
}
