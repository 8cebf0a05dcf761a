package nsnames

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
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
