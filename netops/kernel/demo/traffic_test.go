package demo

import (
	"context"
	"testing"
	"time"
)

// wanBytes reads wan's byte counters in the demo namespace with ip -s.
func wanBytes(t *testing.T, ns string) (rx, tx float64) {
	t.Helper()
	links := ipJSON(t, ns, "-s", "link", "show", "wan")
	if len(links) != 1 {
		t.Fatalf("ip -s link show wan: %v", links)
	}
	st := links[0]["stats64"].(map[string]any)
	return st["rx"].(map[string]any)["bytes"].(float64), st["tx"].(map[string]any)["bytes"].(float64)
}

func TestTrafficFlowsBothWaysOverWan(t *testing.T) {
	d := createForTest(t, newName(t))
	rx0, tx0 := wanBytes(t, d.Name())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := d.Traffic(ctx); err != nil {
		t.Fatal(err)
	}
	// At its lowest the download is 50 kbit/s: a few datagrams a second.
	deadline := time.Now().Add(10 * time.Second)
	for {
		rx, tx := wanBytes(t, d.Name())
		if rx-rx0 >= 10*datagram && tx-tx0 >= 2*datagram {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s wan received %.0f and sent %.0f bytes of demo traffic", rx-rx0, tx-tx0)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
