package monitor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/vishvananda/netlink"
)

// After Sync the model holds every change the kernel acknowledged before
// it: the safe-apply engine computes each change's inverse from the model
// right after applying the previous change, so a model one event behind
// records a wrong inverse. Without Sync the model lags (skip=true shows
// how often, as a log line; it is not asserted).
func TestSyncWaitsForTheModelToCatchUp(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.IP("link", "add", "s0", "type", "veth", "peer", "name", "s1")
	store, w := startWatcher(t, ns, 0)
	h, err := netlink.NewHandleAt(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	l, err := h.LinkByName("s0")
	if err != nil {
		t.Fatal(err)
	}
	for _, skip := range []bool{true, false} {
		behind := 0
		for i := range 300 {
			mtu := 1000 + i
			if err := h.LinkSetMTU(l, mtu); err != nil {
				t.Fatal(err)
			}
			if !skip {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := w.Sync(ctx)
				cancel()
				if err != nil {
					t.Fatal(err)
				}
			}
			if got, _ := store.LinkByName("s0"); got.MTU != uint32(mtu) {
				if !skip {
					t.Fatalf("after Sync the model says MTU %d, the kernel %d", got.MTU, mtu)
				}
				behind++
			}
		}
		if skip {
			t.Logf("without Sync the model was behind after %d of 300 changes", behind)
		}
	}
}

// Sync calls in flight when events overflow the socket (the session ends,
// unanswered) return after the resync's dump, and the model then holds
// what the kernel holds. The burst goes out while the reader is held (see
// holdingReader), so the overflow happens every run and Sync calls are
// waiting when it does.
func TestSyncAcrossAResync(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "addr add 10.0.0.1/16 dev v0"})
	store, w := startWatcher(t, ns, 4096) // tiny: a burst overflows it
	before := store.Status().Resyncs
	const n = 5000
	lines := make([]string, 0, n)
	for i := range n {
		lines = append(lines, fmt.Sprintf("route add 10.%d.%d.0/24 via 10.0.0.2 table 100", 32+i/256, i%256))
	}
	stop := make(chan struct{})
	synced := make(chan int)
	go func() {
		calls := 0
		for {
			select {
			case <-stop:
				synced <- calls
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			if err := w.Sync(ctx); err != nil {
				t.Error(err)
			}
			cancel()
			calls++
		}
	}()
	holdingReader(store, func() { ns.Batch(lines) })
	close(stop)
	t.Logf("%d Sync calls returned during and after the burst", <-synced)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if d := compareWithIP(t, ns, store); d != "" {
		t.Fatalf("after Sync the model differs from the kernel:\n%s", d)
	}
	if store.Status().Resyncs <= before {
		t.Fatal("the burst did not overflow the socket: no resync happened (test proves nothing)")
	}
}
