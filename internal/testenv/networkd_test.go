package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The harness runs the real systemd-networkd in a test namespace: a
// .network file with an address and a route in a named table is applied.
func TestNetworkdHarnessAppliesAFile(t *testing.T) {
	ns := NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v1 up"})
	conf, confD := t.TempDir(), t.TempDir()
	files := map[string]string{
		filepath.Join(conf, "10-v0.network"): "[Match]\nName=v0\n\n[Network]\nAddress=10.55.0.1/24\nConfigureWithoutCarrier=yes\nLinkLocalAddressing=no\n\n[Route]\nDestination=198.51.100.0/24\nGateway=10.55.0.254\nTable=wanforce\n",
		filepath.Join(confD, "tables.conf"):  "[Network]\nRouteTable=wanforce:7\n",
	}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	nd := StartNetworkd(t, ns, conf, confD)
	deadline := time.Now().Add(20 * time.Second)
	for {
		addr := ns.IP("-4", "addr", "show", "dev", "v0")
		route, _ := ns.TryIP("route", "show", "table", "7") // the table appears with its first route
		if strings.Contains(addr, "10.55.0.1/24") && strings.Contains(route, "198.51.100.0/24 via 10.55.0.254") {
			break
		}
		if nd.Exited() || time.Now().After(deadline) {
			t.Fatalf("networkd did not apply the file (exited %v):\naddr: %s\nroute: %s\nlog:\n%s", nd.Exited(), addr, route, nd.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	nd.Stop()
	for _, bad := range []string{"Unknown key", "Failed to parse", "Invalid"} {
		if strings.Contains(nd.Log(), bad) {
			t.Fatalf("networkd complained (%q):\n%s", bad, nd.Log())
		}
	}
}

// The networkd host: networkctl inside reaches networkd over the private
// bus and a reload applies a changed file; a stopped networkd is off the
// bus, and a restarted one is back on it.
func TestNetworkdHostReloadsOverItsBus(t *testing.T) {
	ns := NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v1 up"})
	h := StartNetworkdHost(t, ns)
	conf := filepath.Join(h.Conf, "10-v0.network")
	for _, addr := range []string{"10.55.1.1/24", "10.55.2.1/24"} {
		h.WriteFile(t, conf, "[Match]\nName=v0\n\n[Network]\nConfigureWithoutCarrier=yes\nAddress="+addr+"\n")
		h.Networkctl(t, "reload")
		waitFor(t, func() bool { return strings.Contains(ns.IP("-4", "addr", "show", "dev", "v0"), addr) }, "networkd to apply "+addr, h.Log)
	}
	if got := ns.Addrs4("v0"); len(got) != 1 || got[0] != "10.55.2.1/24" {
		t.Fatalf("v0 has %v after the second reload, want only 10.55.2.1/24", got)
	}
	h.StopNetworkd()
	if h.networkdOnBus() {
		t.Fatal("a stopped networkd still owns its name on the bus")
	}
	h.StartNetworkd(t)
	waitFor(t, func() bool {
		out := h.Networkctl(t, "list", "--no-legend", "v0")
		return strings.Contains(out, "v0") && strings.Contains(out, "configured")
	}, "the restarted networkd to configure v0", h.Log)
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, cond func() bool, what string, log func() string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20 s for %s:\n%s", what, log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
