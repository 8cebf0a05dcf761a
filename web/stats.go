package web

import (
	"encoding/json"
	"time"
)

// refreshStats re-reads the link counters off the hub goroutine: the
// netlink dump waits for the watcher's own dumps, which take a while on a
// large routing table. One refresh at a time.
func (hb *Hub) refreshStats() {
	if hb.stats == nil || hb.statsBusy {
		return
	}
	hb.statsBusy = true
	ctx, stats, done := hb.ctx, hb.stats, hb.statsDone
	go func() {
		err := stats.RefreshStats()
		select {
		case done <- err:
		case <-ctx.Done():
		}
	}()
}

// statsRefreshed sends the new rates to the pages that stream counters.
func (hb *Hub) statsRefreshed(err error) {
	hb.statsBusy = false
	if err != nil {
		hb.log.Warn("refreshing link counters failed", "err", err)
		return
	}
	type rate struct {
		RxBps     float64 `json:"rx_bps"`
		TxBps     float64 `json:"tx_bps"`
		RxBytes   uint64  `json:"rx_bytes"`
		TxBytes   uint64  `json:"tx_bytes"`
		RxPackets uint64  `json:"rx_packets"`
		TxPackets uint64  `json:"tx_packets"`
	}
	links := map[string]rate{}
	var at time.Time
	for idx, r := range hb.store.Rates() {
		links[itoa(idx)] = rate{r.RxBps, r.TxBps, r.RxBytes, r.TxBytes, r.RxPackets, r.TxPackets}
		at = r.At
	}
	msg, _ := json.Marshal(map[string]any{"type": "stats", "t": at.UnixMilli(), "links": links})
	for c := range hb.clients {
		if c.spec.Counters > 0 {
			hb.emit(c, msg)
		}
	}
}
