package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// runWithNetworkd runs script in ns, in a private mount namespace where a
// D-Bus system bus and the real systemd-networkd run with confDir as
// /etc/systemd/network, so that networkctl reaches networkd as on a host
// (shared FACTS.md). The script starts once networkd answers on the bus;
// args are its "$@". Both daemons end with the script.
func runWithNetworkd(t *testing.T, ns *testenv.NS, confDir, script string, args ...string) (string, error) {
	t.Helper()
	testenv.RequireTool(t, "dbus-daemon")
	testenv.RequireTool(t, "networkctl")
	testenv.RequireTool(t, "unshare")
	if _, err := os.Stat(testenv.NetworkdPath); err != nil {
		testenv.Missing(t, "%s: %v", testenv.NetworkdPath, err)
	}
	// networkd reads its files as systemd-network.
	if err := os.Chmod(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	prefix := `set -e
mount -t tmpfs tmpfs /etc/systemd
mkdir -p /etc/systemd/network
mount --bind "$1" /etc/systemd/network
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/netif
chown systemd-network:systemd-network /run/systemd/netif
mount -t tmpfs tmpfs /run/dbus
dbus-daemon --system --fork --nopidfile --print-pid=3 3>/run/dbus/pid
trap 'kill $(cat /run/dbus/pid) $npid 2>/dev/null' EXIT
umount -l /sys
mount -t sysfs -o ro sysfs /sys
` + testenv.NetworkdPath + ` &
npid=$!
shift
n=0
until networkctl list >/dev/null 2>&1; do n=$((n+1)); [ $n -lt 100 ] || { echo "networkd does not answer on the bus"; exit 4; }; sleep 0.1; done
`
	cmdArgs := append([]string{"netns", "exec", ns.Name, "unshare", "-m", "sh", "-c", prefix + script, "sh", confDir}, args...)
	out, err := exec.Command("ip", cmdArgs...).CombinedOutput()
	return string(out), err
}
