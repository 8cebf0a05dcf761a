package nsexec_test

import (
	"net"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/nsexec"
	"github.com/vishvananda/netns"
)

// Do sees the namespace's links, and the caller's thread stays where it was.
func TestDoRunsInTheNamespaceOnly(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.IP("link", "add", "nsx0", "type", "veth", "peer", "name", "nsx1")
	before, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	var inside bool
	if err := nsexec.Do(ns.Handle(), func() error {
		_, err := net.InterfaceByName("nsx0")
		inside = err == nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !inside {
		t.Fatal("fn did not run inside the namespace")
	}
	after, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	if !before.Equal(after) {
		t.Fatal("the caller's thread changed namespace")
	}
	if _, err := net.InterfaceByName("nsx0"); err == nil {
		t.Fatal("the namespace's link is visible outside it")
	}
}
