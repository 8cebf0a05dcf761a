package rttables

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// TestNamesAgreeWithIproute2 lets the real `ip` read our test files (bind
// mounted over /etc/iproute2 in a private mount namespace, so the host's
// files are untouched) and compares what it prints and resolves with
// Tables, on routes in a test network namespace.
func TestNamesAgreeWithIproute2(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "unshare")
	testenv.RequireTool(t, "mount")
	ns := testenv.NewNS(t)

	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"rt_tables": "# test\n0 unspec\n010 tenish\n0x10 hexy\n100 wan # uplink\n" +
			"7 seven extra words\n254 mymain\n5 dup\n261 dup\n",
		"rt_tables.d/a.conf": "200 vpn\n",
		// Not the same ID as a.conf: iproute2 reads conf files in readdir
		// order, which Load replaces with name order.
		"rt_tables.d/b.conf": "202 vpn2\n201 other\n",
	})
	tabs, _ := Load(dir)

	ids := []uint32{7, 10, 16, 100, 200, 201, 202, 252, 253, 254, 1000, 2147483647}
	names := []string{"wan", "hexy", "tenish", "main", "mymain", "vpn2", "dup", "010", "0x20", "1000", "default"}
	var script []string
	script = append(script, "set -e", "mount --bind "+dir+" /etc/iproute2")
	for i, id := range ids {
		script = append(script, fmt.Sprintf("ip -n %s route add unreachable 192.0.2.%d/32 table %d", ns.Name, i+1, id))
	}
	for i, name := range names {
		script = append(script, fmt.Sprintf("ip -n %s route add unreachable 198.51.100.%d/32 table %s", ns.Name, i+1, name))
	}
	script = append(script,
		"ip -n "+ns.Name+" -d -j route show table all", "echo",
		"ip -n "+ns.Name+" -N -d -j route show table all")
	out, err := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", strings.Join(script, "\n")).Output()
	if err != nil {
		t.Fatalf("running ip in a private mount namespace: %v", err)
	}
	parts := strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)
	if len(parts) != 2 {
		t.Fatalf("unexpected ip output:\n%s", out)
	}
	named, numeric := routeTables(t, parts[0]), routeTables(t, parts[1])

	for i, id := range ids {
		dst := fmt.Sprintf("192.0.2.%d", i+1)
		if got, want := tabs.Name(id), named[dst]; got != want {
			t.Errorf("table %d: Name = %q, ip prints %q", id, got, want)
		}
	}
	for i, name := range names {
		dst := fmt.Sprintf("198.51.100.%d", i+1)
		got, ok := tabs.ID(name)
		if want := numeric[dst]; !ok || fmt.Sprint(got) != want {
			t.Errorf("table %q: ID = %d, %v; ip resolved it to %s", name, got, ok, want)
		}
	}
}

// routeTables maps each route's dst to its "table" field in ip -j output.
func routeTables(t *testing.T, js string) map[string]string {
	t.Helper()
	var routes []struct{ Dst, Table string }
	if err := json.Unmarshal([]byte(js), &routes); err != nil {
		t.Fatalf("decoding ip -j output: %v\n%s", err, js)
	}
	m := map[string]string{}
	for _, r := range routes {
		m[r.Dst] = r.Table
	}
	return m
}
