package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/netpanel/netpanel/internal/testenv"
)

// sendTraffic sends UDP datagrams from a to b's 10.20.30.2 over the veth
// v0 until the test ends, so v0 has traffic to chart.
func sendTraffic(t *testing.T, a *testenv.NS) {
	t.Helper()
	var c net.Conn
	a.Do(func() {
		var err error
		// The socket belongs to the namespace it was made in.
		if c, err = net.Dial("udp", "10.20.30.2:9"); err != nil {
			t.Fatalf("dialing in %s: %v", a.Name, err)
		}
	})
	done := make(chan struct{})
	stopped := make(chan struct{})
	t.Cleanup(func() { close(done); <-stopped; c.Close() })
	go func() {
		defer close(stopped)
		buf := make([]byte, 1200)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				c.Write(buf)
			}
		}
	}()
}

// chart is a chart as traffic.js describes it (window.netpanelCharts).
type chart struct {
	Key  string    `json:"key"`
	Kind string    `json:"kind"`
	Name string    `json:"name"`
	T    []float64 `json:"t"`
	Rx   []float64 `json:"rx"`
	Tx   []float64 `json:"tx"`
	// Axes are the tick labels each axis drew last: x first, then y.
	Axes [][]string `json:"axes"`
}

// The traffic history the server keeps is drawn: a chart opened now
// starts with samples from before the page, with axes in bit/s, an RX/TX
// legend and the values under the cursor.
func TestTrafficChartShowsHistory(t *testing.T) {
	a, b := testenv.NewNS(t), testenv.NewNS(t)
	a.Batch([]string{"link add v0 type veth peer name v1 netns " + b.Name, "addr add 10.20.30.1/24 dev v0", "link set v0 up"})
	b.Batch([]string{"addr add 10.20.30.2/24 dev v1", "link set v1 up"})
	p := startPanel(t, "--netns", a.Name)
	token := p.token(t)
	sendTraffic(t, a)

	// History builds up on the server with no page open.
	var hist struct {
		Links []struct {
			Index int       `json:"ifindex"`
			T     []int64   `json:"t"`
			Tx    []float64 `json:"tx_bps"`
		} `json:"links"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code := p.apiCall(t, token, "GET", "/api/v1/traffic?dev=v0", nil, &hist); code != 200 {
			t.Fatalf("GET /api/v1/traffic: status %d", code)
		}
		if len(hist.Links) == 1 && len(hist.Links[0].T) >= 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server kept no history of v0 within 30 s: %+v", hist)
		}
		time.Sleep(500 * time.Millisecond)
	}
	key := strconv.Itoa(hist.Links[0].Index)
	sent := 0.0
	for _, v := range hist.Links[0].Tx {
		sent = max(sent, v)
	}
	// 1200-byte datagrams every 10 ms: near a megabit per second.
	if sent < 100_000 {
		t.Errorf("the history's highest TX rate is %.0f bit/s, want the ~1 Mbit/s sent", sent)
	}

	tab := newBrowser(t)
	errs := watchProblems(t, tab)
	p.login(t, tab)
	opened := float64(time.Now().UnixMilli()) / 1000
	openLive(t, tab, p.URL+"/interfaces/v0")
	waitJS(t, tab, "the large chart is drawn with the history", `(window.netpanelCharts?.list() || []).some(c => c.kind === 'large' && c.t.length >= 6)`)
	charts := evalJS[[]chart](t, tab, `window.netpanelCharts.list()`)
	var big *chart
	for i := range charts {
		if charts[i].Kind == "large" {
			big = &charts[i]
		}
	}
	if big == nil || big.Key != key || big.Name != "v0" {
		t.Fatalf("charts %+v, want a large one of v0 (ifindex %s)", charts, key)
	}
	if len(big.Rx) != len(big.T) || len(big.Tx) != len(big.T) {
		t.Fatalf("the chart's columns differ in length: %d, %d, %d", len(big.T), len(big.Rx), len(big.Tx))
	}
	before := 0
	for i, ts := range big.T {
		if ts < opened-2 && big.Tx[i] > 0 {
			before++
		}
	}
	if before < 4 {
		t.Errorf("the chart holds %d samples with traffic from before the page was opened (at %.0f; first sample %.0f), want the server's history",
			before, opened, big.T[0])
	}

	t.Run("it has axes in bit/s and an RX/TX legend", func(t *testing.T) {
		// uPlot draws the axes on the canvas: their tick labels are read
		// from the chart.
		waitJS(t, tab, "the y axis is labelled in bit/s", `window.netpanelCharts.list().some(c => c.kind === 'large' &&
			c.axes.length === 2 && c.axes[0].length > 1 && c.axes[1].some(l => /^[\d.]+ (k|M)?bit\/s$/.test(l)))`)
		legend := evalJS[string](t, tab, `document.querySelector('[data-traffic] .u-legend').textContent`)
		for _, want := range []string{"RX (received)", "TX (sent)", "bit/s"} {
			if !strings.Contains(legend, want) {
				t.Errorf("the legend %q lacks %q", legend, want)
			}
		}
	})
	t.Run("hovering shows the values at that time", func(t *testing.T) {
		box := evalJS[[]float64](t, tab, `(() => { const r = document.querySelector('[data-traffic] .u-over').getBoundingClientRect();
			window.scrollTo(0, 0); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
		do(t, tab, "moving the mouse over the chart", chromedp.MouseEvent("mouseMoved", box[0], box[1], chromedp.ButtonNone))
		waitJS(t, tab, "the legend shows a time instead of now", `(() => {
			const v = document.querySelector('[data-traffic] .u-legend .u-series .u-value');
			return v && /\d+:\d\d:\d\d/.test(v.textContent);
		})()`)
		do(t, tab, "moving the mouse away", chromedp.KeyEvent(kb.Escape), chromedp.MouseEvent("mouseMoved", 1, 1, chromedp.ButtonNone))
	})
	t.Run("the interfaces table's sparkline starts with history too", func(t *testing.T) {
		opened := float64(time.Now().UnixMilli())/1000 - 2
		openLive(t, tab, p.URL+"/interfaces")
		waitJS(t, tab, "v0's sparkline starts before the page", fmt.Sprintf(
			`(window.netpanelCharts?.list() || []).some(c => c.kind === 'spark' && c.key === %q && c.t.filter(t => t < %f).length >= 4)`, key, opened))
	})
	for _, e := range errs.take() {
		t.Errorf("browser: %s", e)
	}
}
