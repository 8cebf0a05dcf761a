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
	msg := hb.statsMsg()
	hb.lastStats = msg
	if msg == nil {
		return
	}
	for c := range hb.clients {
		if c.spec.Counters > 0 {
			hb.emit(c, msg)
		}
	}
}

// statsMsg is the stats frame of the rates the model holds now, nil
// before the first sample.
func (hb *Hub) statsMsg() []byte {
	type rate struct {
		RxBps     float64 `json:"rx_bps"`
		TxBps     float64 `json:"tx_bps"`
		RxBytes   uint64  `json:"rx_bytes"`
		TxBytes   uint64  `json:"tx_bytes"`
		RxPackets uint64  `json:"rx_packets"`
		TxPackets uint64  `json:"tx_packets"`
		RxErrors  uint64  `json:"rx_errors"`
		TxErrors  uint64  `json:"tx_errors"`
		RxDropped uint64  `json:"rx_dropped"`
		TxDropped uint64  `json:"tx_dropped"`
	}
	rates := hb.store.Rates()
	if len(rates) == 0 {
		return nil
	}
	links := make(map[string]rate, len(rates))
	var at time.Time
	for idx, r := range rates {
		links[itoa(idx)] = rate{r.RxBps, r.TxBps, r.RxBytes, r.TxBytes, r.RxPackets, r.TxPackets, r.RxErrors, r.TxErrors, r.RxDropped, r.TxDropped}
		at = r.At
	}
	msg, _ := json.Marshal(map[string]any{"type": "stats", "t": at.UnixMilli(), "links": links})
	return msg
}
