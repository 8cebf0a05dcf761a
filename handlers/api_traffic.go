package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/netpanel/netpanel/netops/traffic"
)

// TrafficHistory is the recent traffic of every link (*traffic.History).
type TrafficHistory interface {
	Rates(idx int32, since time.Time) []traffic.Point
}

// noHistory is the TrafficHistory where nothing samples the counters:
// charts start empty and fill from the live stream.
type noHistory struct{}

func (noHistory) Rates(int32, time.Time) []traffic.Point { return nil }

// trafficAPI serves the traffic charts' history.
type trafficAPI struct {
	*frame
	hist TrafficHistory
}

// LinkTraffic is one link's traffic history in the API: columns, as
// charts take them. T are unix milliseconds at the end of each interval;
// rates are bits per second over it.
type LinkTraffic struct {
	Index int32     `json:"ifindex"`
	Name  string    `json:"ifname"`
	T     []int64   `json:"t"`
	Rx    []float64 `json:"rx_bps"`
	Tx    []float64 `json:"tx_bps"`
}

// serve answers GET /api/v1/traffic[?dev=NAME][&seconds=N]: the last N
// seconds (at most, and by default, traffic.Window) of every link or of
// one.
func (a *trafficAPI) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	window := traffic.Window
	if s := q.Get("seconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || time.Duration(n)*time.Second > traffic.Window {
			apiError(w, http.StatusBadRequest, fmt.Errorf("seconds: %q is not a whole number from 1 to %d", s, int(traffic.Window.Seconds())))
			return
		}
		window = time.Duration(n) * time.Second
	}
	links := a.store.Links()
	if dev := q.Get("dev"); dev != "" {
		l, ok := a.store.LinkByName(dev)
		if !ok {
			apiError(w, http.StatusNotFound, errors.New("dev: no interface named "+strconv.Quote(dev)))
			return
		}
		links = links[:0]
		links = append(links, l)
	}
	since := time.Now().Add(-window)
	out := make([]LinkTraffic, 0, len(links))
	for _, l := range links {
		pts := a.hist.Rates(l.Index, since)
		lt := LinkTraffic{Index: l.Index, Name: l.Name, T: make([]int64, len(pts)), Rx: make([]float64, len(pts)), Tx: make([]float64, len(pts))}
		for i, p := range pts {
			// A bit per second is as fine as a chart or a script needs.
			lt.T[i], lt.Rx[i], lt.Tx[i] = p.T, math.Round(p.Rx), math.Round(p.Tx)
		}
		out = append(out, lt)
	}
	writeJSON(w, http.StatusOK, map[string]any{"window_s": int(window.Seconds()), "links": out})
}
