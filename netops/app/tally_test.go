package app

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"golang.org/x/sys/unix"
)

// fakeForeign answers the foreign objects it holds and counts its calls.
type fakeForeign struct {
	mu    sync.Mutex
	list  []networkd.Foreign
	err   error
	calls int
}

func (f *fakeForeign) get() ([]networkd.Foreign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.list, f.err
}

func (f *fakeForeign) set(list []networkd.Foreign, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list, f.err = list, err
}

// wakes is a model's wake-up channel the test sends on.
type wakes chan struct{}

func (w wakes) subscribe() (<-chan struct{}, func()) { return w, func() {} }

func runTally(t *testing.T, tl *Tally) {
	t.Helper()
	tl.minGap = 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tl.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// until calls Get until ok says the state is the awaited one.
func until(t *testing.T, tl *Tally, what string, ok func(TallyState) bool) TallyState {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := tl.Get()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %+v", what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTally(t *testing.T) {
	route := networkd.Foreign{Kind: "route", Text: "10.9.0.0/24 via 10.0.0.1 dev wan"}
	rule := networkd.Foreign{Kind: "rule", Text: "from 10.1.0.0/16 lookup 100"}

	t.Run("a count is made on demand, by kind, and redone after a model change", func(t *testing.T) {
		f := &fakeForeign{list: []networkd.Foreign{route, route, rule}}
		w := make(wakes, 1)
		tl := NewTally(w.subscribe, f.get, nil)
		if s := tl.Get(); s.Foreign.Known || s.Foreign.Off || !s.Conflicts.Off {
			t.Fatalf("before Run: %+v, want an unknown count and Docker off", s)
		}
		runTally(t, tl)
		s := until(t, tl, "the first count", func(s TallyState) bool { return s.Foreign.Known })
		if s.Foreign.N != 3 || s.Foreign.ByKind["route"] != 2 || s.Foreign.ByKind["rule"] != 1 || s.Foreign.Stale || s.Foreign.At.IsZero() {
			t.Fatalf("first count %+v", s.Foreign)
		}
		f.set([]networkd.Foreign{rule}, nil)
		w <- struct{}{}
		s = until(t, tl, "the count after the change", func(s TallyState) bool { return s.Foreign.N == 1 && !s.Foreign.Stale })
		if s.Foreign.ByKind["route"] != 0 {
			t.Errorf("second count %+v", s.Foreign)
		}
	})
	t.Run("an error is kept as the count's message", func(t *testing.T) {
		f := &fakeForeign{err: errors.New("/etc/systemd/network: permission denied")}
		tl := NewTally(make(wakes).subscribe, f.get, nil)
		runTally(t, tl)
		s := until(t, tl, "the count", func(s TallyState) bool { return s.Foreign.Known })
		if s.Foreign.Err != f.err.Error() || s.Foreign.N != 0 {
			t.Errorf("count %+v", s.Foreign)
		}
	})
	t.Run("a caller cannot change the kept counts", func(t *testing.T) {
		f := &fakeForeign{list: []networkd.Foreign{route}}
		tl := NewTally(make(wakes).subscribe, f.get, nil)
		runTally(t, tl)
		s := until(t, tl, "the count", func(s TallyState) bool { return s.Foreign.Known })
		s.Foreign.ByKind["route"] = 99
		if got := tl.Get().Foreign.ByKind["route"]; got != 1 {
			t.Errorf("ByKind[route] = %d after a caller wrote to its copy", got)
		}
	})
	t.Run("with both features off it counts nothing and returns at once", func(t *testing.T) {
		tl := NewTally(make(wakes).subscribe, nil, nil)
		tl.Run(context.Background())
		if s := tl.Get(); !s.Foreign.Off || !s.Conflicts.Off {
			t.Errorf("state %+v", s)
		}
	})
	t.Run("Docker's conflicts are counted with what could be read", func(t *testing.T) {
		tl := NewTally(make(wakes).subscribe, nil, func(context.Context) ([]dockernet.Conflict, string, string) {
			return make([]dockernet.Conflict, 2), "Docker's API did not answer", "dial unix /run/docker.sock: no such file"
		})
		runTally(t, tl)
		s := until(t, tl, "the count", func(s TallyState) bool { return s.Conflicts.Known })
		if s.Conflicts.N != 2 || s.Conflicts.Note == "" || s.Conflicts.Why == "" || !s.Foreign.Off {
			t.Errorf("state %+v", s)
		}
	})
}

// The demo's trap: a VPN route inside the subnet of Docker's live bridge
// is one conflict, found without Docker's API.
func TestDockerConflictsOfTheLiveState(t *testing.T) {
	d := testDocker(t, &memAudit{}, nil)
	d.model = model.NewStoreFrom(model.State{
		Links: []model.Link{
			{Index: 2, Name: "docker0", Kind: linkkind.Bridge, OperState: "UP"},
			{Index: 3, Name: "vpn0", Kind: "tun", OperState: "UP"},
		},
		Addrs: []model.Addr{{LinkIndex: 2, Family: unix.AF_INET, Prefix: netip.MustParsePrefix("172.17.0.1/16")}},
		Routes: []model.Route{
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_KERNEL, Scope: unix.RT_SCOPE_LINK,
				Dst: netip.MustParsePrefix("172.17.0.0/16"), LinkIndex: 2},
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
				Dst: netip.MustParsePrefix("172.17.5.0/24"), Gateway: netip.MustParseAddr("10.8.0.1"), LinkIndex: 3},
		},
	})
	d.tables = func() *rttables.Tables { return rttables.New() }
	cs, note, why := d.Conflicts(context.Background())
	if len(cs) != 1 || note != "" || why != "" {
		t.Fatalf("conflicts %+v, note %q (%s); want the VPN route only", cs, note, why)
	}
	if cs[0].Other != netip.MustParsePrefix("172.17.5.0/24") {
		t.Errorf("the conflict is with %s, want 172.17.5.0/24: %s", cs[0].Other, cs[0].Text)
	}
}
