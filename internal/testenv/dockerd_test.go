package testenv

import (
	"os"
	"strings"
	"testing"
)

// The harness runs a real dockerd in a test namespace: docker0 gets the
// configured bip there, and the host's /etc/docker is left alone.
func TestDockerdHarnessHonoursConfig(t *testing.T) {
	before, _ := os.ReadDir("/etc/docker")
	ns := NewNS(t)
	d := StartDockerd(t, ns, []byte(`{"bip": "10.213.7.1/24"}`))
	out, err := d.Docker("network", "ls", "--format", "{{.Name}}")
	if err != nil || !strings.Contains(out, "bridge") {
		t.Fatalf("docker network ls: %v\n%s", err, out)
	}
	if addr := ns.IP("-4", "addr", "show", "dev", "docker0"); !strings.Contains(addr, "10.213.7.1/24") {
		t.Fatalf("docker0 lacks the bip:\n%s", addr)
	}
	d.Stop()
	if d.ping() {
		t.Fatal("dockerd still answers after Stop")
	}
	after, _ := os.ReadDir("/etc/docker")
	if len(after) != len(before) {
		t.Fatalf("/etc/docker changed: %d entries before, %d after", len(before), len(after))
	}
}
