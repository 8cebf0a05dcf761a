package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// NetworkdHost is a test network namespace made to look like a host
// running systemd-networkd: a private mount namespace inside it holds a
// D-Bus system bus (Debian's dbus-daemon with its stock configuration)
// and the real systemd-networkd, with the test's directories as
// /etc/systemd/network and /etc/systemd/networkd.conf.d. Commands started
// with Command run in that namespace and mount namespace, so networkctl,
// busctl and netpanel itself reach networkd exactly as on a host: over
// /run/dbus/system_bus_socket, with networkd reading the files they
// write. networkd can be stopped and started again; the bus stays.
//
// The bus's directory is a directory of the test bind-mounted over
// /run/dbus, so a process outside the mount namespace reaches the bus too
// (BusAddress), which networkctl accepts when it runs in the same network
// namespace as networkd (Enter).
type NetworkdHost struct {
	NS     *NS
	Conf   string // /etc/systemd/network inside
	ConfD  string // /etc/systemd/networkd.conf.d inside
	busDir string
	holder *exec.Cmd
	held   chan struct{}

	mu       sync.Mutex
	networkd *exec.Cmd
	nlog     *LockedBuffer
	ndone    chan struct{}
}

// StartNetworkdHost prepares ns as a networkd host and starts networkd;
// t.Cleanup stops networkd, the bus and the mount namespace. See
// shared/FACTS.md ("Checked again 2026-11-28").
func StartNetworkdHost(t testing.TB, ns *NS) *NetworkdHost {
	t.Helper()
	RequireRoot(t)
	if _, err := os.Stat(NetworkdPath); err != nil {
		Missing(t, "%s not installed (apt-get install systemd)", NetworkdPath)
	}
	for _, tool := range []string{"dbus-daemon", "networkctl", "busctl", "unshare", "nsenter"} {
		RequireTool(t, tool)
	}
	// networkd reads its files as systemd-network: everything it reads
	// must be world-readable whatever the umask. Short paths: the bus
	// socket's path must fit a sockaddr_un.
	root, err := os.MkdirTemp("", "ndh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	h := &NetworkdHost{NS: ns, Conf: filepath.Join(root, "network"), ConfD: filepath.Join(root, "conf.d"),
		busDir: filepath.Join(root, "bus"), held: make(chan struct{})}
	for _, d := range []string{root, h.Conf, h.ConfD, h.busDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ready := filepath.Join(root, "ready")
	script := `set -e
mount -t tmpfs -o mode=0755 tmpfs /etc/systemd
mkdir -p /etc/systemd/network /etc/systemd/networkd.conf.d
mount --bind "$1" /etc/systemd/network
mount --bind "$2" /etc/systemd/networkd.conf.d
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
mkdir -p /run/systemd/netif
chown systemd-network:systemd-network /run/systemd/netif
mount --bind "$3" /run/dbus
umount -l /sys
mount -t sysfs -o ro sysfs /sys
dbus-daemon --system --fork --nopidfile --print-pid=5 5>/run/dbus/daemon.pid
: >"$4"
exec sleep infinity
`
	h.holder = exec.Command("ip", "netns", "exec", ns.Name, "unshare", "-m", "--propagation", "private",
		"sh", "-c", script, "sh", h.Conf, h.ConfD, h.busDir, ready)
	out := &LockedBuffer{}
	h.holder.Stdout, h.holder.Stderr = out, out
	if err := h.holder.Start(); err != nil {
		t.Fatalf("preparing the networkd host: %v", err)
	}
	go func() { _ = h.holder.Wait(); close(h.held) }()
	t.Cleanup(h.close)
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		select {
		case <-h.held:
			t.Fatalf("preparing the networkd host failed: %s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the networkd host is not ready after 20 s: %s", out.String())
		}
	}
	h.StartNetworkd(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("systemd-networkd log:\n%s", h.Log())
		}
	})
	return h
}

// Command runs name in the host's network and mount namespaces (nsenter
// execs it: the process's pid is name's).
func (h *NetworkdHost) Command(name string, args ...string) *exec.Cmd {
	argv := append(h.Enter(), name)
	return exec.Command(argv[0], append(argv[1:], args...)...)
}

// Enter is the command prefix that enters the host's namespaces.
func (h *NetworkdHost) Enter() []string {
	pid := strconv.Itoa(h.holder.Process.Pid)
	return []string{"nsenter", "--mount=/proc/" + pid + "/ns/mnt", "--net=/run/netns/" + h.NS.Name, "--"}
}

// EnterNet is the prefix that enters only the network namespace, for a
// process of the test that reaches the bus by BusAddress.
func (h *NetworkdHost) EnterNet() []string {
	return []string{"nsenter", "--net=/run/netns/" + h.NS.Name, "--"}
}

// BusAddress is the system bus's address for processes outside the mount
// namespace (DBUS_SYSTEM_BUS_ADDRESS).
func (h *NetworkdHost) BusAddress() string {
	return "unix:path=" + filepath.Join(h.busDir, "system_bus_socket")
}

// StartNetworkd starts systemd-networkd (again) and waits until it owns
// its name on the bus.
func (h *NetworkdHost) StartNetworkd(t testing.TB) {
	t.Helper()
	h.mu.Lock()
	if h.networkd != nil {
		h.mu.Unlock()
		t.Fatal("systemd-networkd runs already")
	}
	cmd := h.Command("env", "SYSTEMD_LOG_LEVEL=info", "SYSTEMD_LOG_TARGET=console", NetworkdPath)
	if h.nlog == nil {
		h.nlog = &LockedBuffer{}
	}
	cmd.Stdout, cmd.Stderr = h.nlog, h.nlog
	if err := cmd.Start(); err != nil {
		h.mu.Unlock()
		t.Fatalf("starting systemd-networkd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	h.networkd, h.ndone = cmd, done
	h.mu.Unlock()
	for deadline := time.Now().Add(20 * time.Second); !h.networkdOnBus(); {
		select {
		case <-done:
			t.Fatalf("systemd-networkd exited:\n%s", h.Log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("systemd-networkd does not answer on the bus after 20 s:\n%s", h.Log())
		}
	}
}

func (h *NetworkdHost) networkdOnBus() bool {
	out, err := h.Command("busctl", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
		"NameHasOwner", "s", "org.freedesktop.network1").Output()
	return err == nil && strings.TrimSpace(string(out)) == "b true"
}

// StopNetworkd stops systemd-networkd (SIGTERM, then SIGKILL after 5 s);
// the namespace keeps what it configured.
func (h *NetworkdHost) StopNetworkd() {
	h.mu.Lock()
	cmd, done := h.networkd, h.ndone
	h.networkd = nil
	h.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Log returns what networkd printed so far, over all its runs.
func (h *NetworkdHost) Log() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.nlog == nil {
		return ""
	}
	return h.nlog.String()
}

// WriteFile writes a file networkd reads (under Conf or ConfD),
// world-readable.
func (h *NetworkdHost) WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Networkctl runs networkctl inside and returns its output.
func (h *NetworkdHost) Networkctl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := h.Command("networkctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("networkctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// close stops networkd, the bus and the holder of the mount namespace.
func (h *NetworkdHost) close() {
	h.StopNetworkd()
	if data, err := os.ReadFile(filepath.Join(h.busDir, "daemon.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
	}
	_ = h.holder.Process.Kill()
	<-h.held
}

// String names the host for messages.
func (h *NetworkdHost) String() string { return fmt.Sprintf("networkd host in %s", h.NS.Name) }
