package web

import (
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// setFor sets *p to v for a test and puts it back after the hub the test
// starts next has stopped (cleanups run last first).
func setFor[T any](t *testing.T, p *T, v T) {
	was := *p
	t.Cleanup(func() { *p = was })
	*p = v
}

// mainRoute is a route of table main to 10.I.I.0/24 (I < 65,536).
func mainRoute(i int) model.Route {
	return model.Route{Table: 254, Family: unix.AF_INET, Protocol: unix.RTPROT_STATIC,
		Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)}
}

// While a flush is armed, changes do not wake the hub: the flush reads
// the model anyway. With the flushes held back an hour, two hundred route
// changes, each its own update some time apart, wake the hub once (the
// first, which arms the flush); a hub that took every wake-up took about
// two hundred.
func TestChangesDoNotWakeTheHubWhileAFlushIsArmed(t *testing.T) {
	setFor(t, &coalesce, time.Hour)
	store := model.NewStore()
	ta := newTestAuth(t)
	s := newServer(t, store, nil, ta)
	runHub(t, s)
	ts := newHTTPTestServer(t, s)
	v := dialPage(t, ts, ta.viewer, "routes", "table=main")
	v.wait(t, "the first summary", htmlFrame("summary", "0 routes"))

	for i := range 200 {
		store.Update(func(a *model.Applier) { a.Route(mainRoute(i), false, false) })
		time.Sleep(100 * time.Microsecond) // apart: a hub listening takes each
	}
	if n := s.Hub().hooks.wakes.Load(); n != 1 {
		t.Fatalf("the hub took %d of the model's wake-ups for 200 changes while its flush was armed, want 1", n)
	}
}

// The last change is always shown: views coalesced under a storm of
// changes converge to the model. Two thousand routes added one update at
// a time, then every other one deleted, as fast as the test can: the
// view of 10.7.192.0/18 in table main ends with the eight of its sixteen
// left, the last route added among its rows and the last deleted not,
// and its summary counts the thousand in the model.
func TestCoalescedViewsShowTheLastChange(t *testing.T) {
	store := model.NewStore()
	ts, ta := newTestServer(t, store, nil)
	v := dialPage(t, ts, ta.viewer, "routes", "table=main&within=10.7.192.0/18")
	v.wait(t, "the first summary", htmlFrame("summary", "0 routes"))

	const n = 2000
	for i := range n {
		store.Update(func(a *model.Applier) { a.Route(mainRoute(i), false, false) })
	}
	for i := range n / 2 {
		store.Update(func(a *model.Applier) { a.Route(mainRoute(2*i), true, false) })
	}
	lastAdded, lastDeleted := mainRoute(n-1).Dst.String(), mainRoute(n-2).Dst.String()
	// The last delete is the last change: rows with the last route added
	// and without it are the model's, and its summary comes after them.
	v.waitRows(t, 30*time.Second, func(h string) bool {
		return strings.Contains(h, lastAdded) && !strings.Contains(h, lastDeleted)
	})
	v.wait(t, "the summary of the 8 routes left of the 1,000", htmlFrame("summary", "8 routes in table main (1,000 in the model)"))
}

// A change made right after a flush read the model's versions is shown:
// its wake-up is not lost to that flush, which did not count it. The
// flushes are held back a second: the test makes change 0; right after
// the flush that first counts it reads the versions, the hook makes
// change 1, and right after the (timer's) flush that counts change 1, change 2,
// with nothing else happening. A hub that dropped the wake-up a flush
// left behind never showed change 2.
func TestAChangeRightAfterAFlushReadTheModelIsShown(t *testing.T) {
	setFor(t, &coalesce, time.Second)
	store := model.NewStore()
	ta := newTestAuth(t)
	s := newServer(t, store, nil, ta)
	base := store.LastSeq()
	var made atomic.Int64 // changes the hook made
	s.Hub().hooks.afterVersions = func(v model.Versions) {
		n := made.Load()
		if n < 2 && v.Seq >= base+1+uint64(n) { // counts change n
			store.Update(func(a *model.Applier) { a.Route(mainRoute(int(n)+1), false, false) })
			made.Add(1)
		}
	}
	runHub(t, s)
	ts := newHTTPTestServer(t, s)
	v := dialPage(t, ts, ta.viewer, "routes", "table=main")
	v.wait(t, "the first summary", htmlFrame("summary", "0 routes"))

	store.Update(func(a *model.Applier) { a.Route(mainRoute(0), false, false) })
	last := mainRoute(2).Dst.String()
	v.waitRows(t, 30*time.Second, func(h string) bool { return strings.Contains(h, last) })
	if n := made.Load(); n != 2 {
		t.Fatalf("the hook made %d changes, want 2", n)
	}
}

// A flush reads the changes whose wake-ups waited while it was armed: a
// burst costs no second, empty flush. Flushes held back a second: right
// after the first flush (the view's) read the model the hook makes change
// 0, whose wake-up arms the next flush; change 1 comes while it is armed.
// That flush reads both, and the hub then waits with no flush armed and
// no wake-up pending (a hub that took the waiting wake-up after the flush
// armed a flush and flushed again a second later, with nothing changed).
func TestABurstReadByAFlushWakesTheHubOnce(t *testing.T) {
	setFor(t, &coalesce, time.Second)
	store := model.NewStore()
	ta := newTestAuth(t)
	s := newServer(t, store, nil, ta)
	hb := s.Hub()
	var flushes, lastSeq atomic.Uint64
	hb.hooks.afterVersions = func(v model.Versions) {
		if flushes.Add(1) == 1 {
			store.Update(func(a *model.Applier) { a.Route(mainRoute(0), false, false) })
		}
		lastSeq.Store(v.Seq)
	}
	idle := make(chan struct{}, 1) // the hub waits for nothing after the second flush
	hb.hooks.waiting = func(quiet bool) {
		if quiet && flushes.Load() >= 2 {
			select {
			case idle <- struct{}{}:
			default:
			}
		}
	}
	runHub(t, s)
	ts := newHTTPTestServer(t, s)
	v := dialPage(t, ts, ta.viewer, "routes", "table=main")
	v.wait(t, "the first summary", htmlFrame("summary", "route"))
	for hb.hooks.wakes.Load() < 1 { // change 0's: the flush is armed
		time.Sleep(time.Millisecond)
	}
	store.Update(func(a *model.Applier) { a.Route(mainRoute(1), false, false) })
	last := mainRoute(1).Dst.String()
	v.waitRows(t, 30*time.Second, func(h string) bool { return strings.Contains(h, last) })
	if n, seq := flushes.Load(), lastSeq.Load(); n != 2 || seq != store.LastSeq() {
		t.Fatalf("%d flushes, the last read event %d; want 2, the second reading event %d", n, seq, store.LastSeq())
	}
	select {
	case <-idle:
	case <-time.After(30 * time.Second):
		t.Fatal("the hub never went back to waiting with nothing armed after the burst")
	}
	if n, w := flushes.Load(), hb.hooks.wakes.Load(); n != 2 || w != 1 {
		t.Fatalf("after the burst the hub took %d wake-ups and flushed %d times, want 1 and 2", w, n)
	}
}
