package nsnames

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// bindName names the namespace file src as dir/name, as ip netns attach
// does (an empty file, then a bind mount on it); the returned function
// removes the name, at the latest at cleanup.
func bindName(t *testing.T, src, dir, name string) (remove func()) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(src, p, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind mounting %s on %s: %v", src, p, err)
	}
	remove = sync.OnceFunc(func() {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", p, err)
		}
		if err := os.Remove(p); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(remove)
	return remove
}

// linkNetnsid is what ip -j says of dev's peer namespace id.
func linkNetnsid(t *testing.T, ns *testenv.NS, dev string) int32 {
	t.Helper()
	var links []struct {
		ID *int32 `json:"link_netnsid"`
	}
	ns.IPJSON(&links, "link", "show", "dev", dev)
	if len(links) != 1 || links[0].ID == nil {
		b, _ := json.Marshal(links)
		t.Fatalf("ip -j link show %s gives no link_netnsid: %s", dev, b)
	}
	return *links[0].ID
}

// waitName waits until n names id as want ("" : no name).
func waitName(t *testing.T, n *Names, id int32, want string) {
	t.Helper()
	wake, stop := n.Subscribe()
	defer stop()
	deadline := time.After(10 * time.Second)
	for {
		got, ok := n.NetnsName(id)
		if (want == "" && !ok) || (ok && got == want) {
			return
		}
		select {
		case <-wake:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("nsid %d is named %q (%v), want %q", id, got, ok, want)
		}
	}
}

// The names follow the kernel and the directory without being asked: a
// namespace given an id after the start (RTM_NEWNSID, no file changes), a
// namespace with an id and no name (ip's link-netnsid), then named later
// (a file event, no id event), then unnamed again. Its own directory
// keeps other tests' namespaces out of it.
func TestNamesFollowIdsAndTheDirectory(t *testing.T) {
	a, b := testenv.NewNS(t), testenv.NewNS(t)
	pid := testenv.UnnamedNS(t)
	dir := t.TempDir()
	bindName(t, filepath.Join("/run/netns", b.Name), dir, "bee")

	n := New(a.Handle(), dir, slog.New(slog.DiscardHandler))
	defer n.Close()
	read := make(chan struct{}, 1)
	n.refreshed = func() {
		select {
		case read <- struct{}{}:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// The first reading is done before B has an id, so only the id's
	// announcement can bring its name.
	select {
	case <-read:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not read the names")
	}

	a.IP("link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.Name)
	waitName(t, n, linkNetnsid(t, a, "va"), "bee")

	a.IP("link", "add", "vc", "type", "veth", "peer", "name", "vd", "netns", strconv.Itoa(pid))
	unnamed := linkNetnsid(t, a, "vc")
	waitName(t, n, unnamed, "")

	unname := bindName(t, "/proc/"+strconv.Itoa(pid)+"/ns/net", dir, "sea")
	waitName(t, n, unnamed, "sea")

	unname()
	waitName(t, n, unnamed, "")
	waitName(t, n, linkNetnsid(t, a, "va"), "bee")
}

// namedPeer makes, in a new namespace A, a veth whose peer is in a new
// namespace B named "bee" in a new directory; it returns A, the
// directory and the id A gives B.
func namedPeer(t *testing.T) (a *testenv.NS, dir string, id int32) {
	t.Helper()
	a, b := testenv.NewNS(t), testenv.NewNS(t)
	dir = t.TempDir()
	bindName(t, filepath.Join("/run/netns", b.Name), dir, "bee")
	a.IP("link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.Name)
	return a, dir, linkNetnsid(t, a, "va")
}

// countDials counts the query sockets n opens; the first fail ones fail.
func countDials(n *Names, fail int) *atomic.Int32 {
	var dials atomic.Int32
	dial := n.conn.Dial
	n.conn.Dial = func() (*rtnl.Conn, error) {
		if dials.Add(1) <= int32(fail) {
			return nil, errors.New("test: no socket")
		}
		return dial()
	}
	return &dials
}

// An entry that is a namespace of another type (a bind mount of a uts
// namespace, on nsfs as a network namespace is) costs the others no
// name, whether safefile refuses it or the kernel does (asked of a uts
// namespace's descriptor, RTM_GETNSID answers EINVAL); the socket is
// kept, and the skipped entry logged once. "aaa" is listed, and asked
// about, before "bee".
func TestAnotherNamespaceTypeCostsNoOtherItsName(t *testing.T) {
	a, dir, id := namedPeer(t)
	bindName(t, "/proc/self/ns/uts", dir, "aaa")
	for _, c := range []struct {
		name string
		open func(string) (*os.File, error)
		why  string // in the log of the skipped entry
	}{
		{"refused by safefile", nil, "another type than network"},
		{"refused by the kernel", os.Open, unix.EINVAL.Error()},
	} {
		t.Run(c.name, func(t *testing.T) {
			var log bytes.Buffer
			n := New(a.Handle(), dir, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
			defer n.Close()
			if c.open != nil {
				n.open = c.open
			}
			dials := countDials(n, 0)
			for range 2 {
				if err := n.Refresh(); err != nil {
					t.Fatalf("Refresh: %v", err)
				}
				if got, ok := n.NetnsName(id); !ok || got != "bee" {
					t.Fatalf("nsid %d is named %q (%v), want bee", id, got, ok)
				}
			}
			if got := dials.Load(); got != 1 {
				t.Errorf("%d query sockets opened for two readings, want 1 (kept)", got)
			}
			if got := strings.Count(log.String(), "path="+filepath.Join(dir, "aaa")); got != 1 {
				t.Errorf("the skipped entry is logged %d times in two readings, want once:\n%s", got, log.String())
			}
			if !strings.Contains(log.String(), c.why) {
				t.Errorf("the skipped entry is not logged as %q:\n%s", c.why, log.String())
			}
		})
	}
}

// A reading that fails for want of a socket is tried again by itself:
// here nothing else (no file event, no id announcement) would read the
// names again after the first.
func TestRunRetriesAFailedReading(t *testing.T) {
	a, dir, id := namedPeer(t)
	n := New(a.Handle(), dir, slog.New(slog.DiscardHandler))
	defer n.Close()
	dials := countDials(n, 1)
	var reads atomic.Int32
	n.refreshed = func() { reads.Add(1) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitName(t, n, id, "bee")
	if d, r := dials.Load(), reads.Load(); d < 2 || r < 2 {
		t.Errorf("named after %d sockets and %d readings, want the failed one and a retry", d, r)
	}
}

// The pause after failed readings doubles from a second up to a minute.
func TestFailedBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if got := failedBackoff(i + 1); got != w {
			t.Errorf("failedBackoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := failedBackoff(1000); got != time.Minute {
		t.Errorf("failedBackoff(1000) = %v, want 1m", got)
	}
}

// The kernel's answer, bare errno or with its message, is a refusal of
// one entry; what the socket returns wrapped, or its own errors, are not.
func TestRefusedTellsTheKernelsAnswerFromTheSocket(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{unix.EINVAL, true},
		{&rtnl.ExtAckError{Errno: unix.EINVAL, Msg: "Peer netns reference is invalid"}, true},
		{fmt.Errorf("netlink send: %w", unix.EBADF), false},
		{fmt.Errorf("netlink receive: %w", unix.ECONNREFUSED), false},
		{rtnl.ErrOverrun, false},
		{os.ErrClosed, false},
	} {
		if got := refused(c.err); got != c.want {
			t.Errorf("refused(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
