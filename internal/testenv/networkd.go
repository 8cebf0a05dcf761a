package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// NetworkdPath is where Debian installs systemd-networkd.
const NetworkdPath = "/usr/lib/systemd/systemd-networkd"

// Networkd is a real systemd-networkd running inside a test namespace
// with a private configuration directory.
type Networkd struct {
	cmd  *exec.Cmd
	out  *LockedBuffer
	done chan struct{}
	once sync.Once
}

// LockedBuffer is a bytes.Buffer that several goroutines may write and read.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartNetworkd runs systemd-networkd in ns with confDir as
// /etc/systemd/network and, when confD is not "", confD as
// /etc/systemd/networkd.conf.d (for RouteTable=name:number).
//
// networkd configures links only when it believes udev is absent, which
// it decides from a read-only /sys; it drops root to systemd-network, so
// the directories must be world-readable; it needs its own /run/systemd.
// All mounts happen in a private mount namespace over a tmpfs /etc/systemd,
// so the host's files are never touched. See shared/FACTS.md.
func StartNetworkd(t testing.TB, ns *NS, confDir, confD string) *Networkd {
	t.Helper()
	RequireRoot(t)
	if _, err := os.Stat(NetworkdPath); err != nil {
		Missing(t, "%s not installed (apt-get install systemd)", NetworkdPath)
	}
	RequireTool(t, "unshare")
	for _, d := range []string{confDir, confD} {
		if d == "" {
			continue
		}
		if err := exec.Command("chmod", "-R", "a+rX", d).Run(); err != nil {
			t.Fatalf("making %s readable for systemd-network: %v", d, err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := `set -e
mount -t tmpfs tmpfs /etc/systemd
mkdir -p /etc/systemd/network /etc/systemd/networkd.conf.d
mount --bind "$1" /etc/systemd/network
if [ -n "$2" ]; then mount --bind "$2" /etc/systemd/networkd.conf.d; fi
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/netif
chown systemd-network:systemd-network /run/systemd/netif
umount -l /sys
mount -t sysfs -o ro sysfs /sys
SYSTEMD_LOG_LEVEL=info SYSTEMD_LOG_TARGET=console exec ` + NetworkdPath
	n := &Networkd{out: &LockedBuffer{}, done: make(chan struct{})}
	n.cmd = exec.Command("ip", "netns", "exec", ns.Name, "unshare", "-m", "sh", "-c", script, "sh", confDir, confD)
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("starting systemd-networkd: %v", err)
	}
	go func() { _ = n.cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		n.Stop()
		if t.Failed() {
			t.Logf("systemd-networkd log:\n%s", n.Log())
		}
	})
	return n
}

// Log returns what networkd printed so far.
func (n *Networkd) Log() string { return n.out.String() }

// Exited reports whether networkd has stopped.
func (n *Networkd) Exited() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// Stop ends networkd (SIGTERM, then SIGKILL after 5 s); the namespace
// keeps what it configured.
func (n *Networkd) Stop() {
	n.once.Do(func() {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(5 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.done
		}
	})
}
