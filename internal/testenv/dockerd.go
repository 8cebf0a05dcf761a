package testenv

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
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

// Dockerd is a real dockerd running inside a test namespace with its own
// configuration file, data root, exec root, pid file and socket.
type Dockerd struct {
	dir  string
	cmd  *exec.Cmd
	out  *LockedBuffer
	done chan struct{}
	once sync.Once
}

// StartDockerd runs dockerd in ns with daemonJSON as its configuration and
// waits until its socket answers GET /_ping. It enters only the network
// namespace (nsenter --net): `ip netns exec` remounts /sys and hides the
// cgroup mounts dockerd needs. Everything dockerd writes lives in one short
// temporary directory (unix socket paths are limited to 108 bytes); the
// configuration gets "deprecated-key-path" there too, because dockerd
// 20.10 otherwise creates /etc/docker/key.json on the host. t.Cleanup
// stops it, failed test or not. See shared/FACTS.md.
func StartDockerd(t testing.TB, ns *NS, daemonJSON []byte) *Dockerd {
	t.Helper()
	RequireRoot(t)
	bin := RequireTool(t, "dockerd")
	RequireTool(t, "nsenter")
	cfg := map[string]json.RawMessage{}
	if strings.TrimSpace(string(daemonJSON)) != "" {
		if err := json.Unmarshal(daemonJSON, &cfg); err != nil {
			t.Fatalf("StartDockerd: daemon.json is not a JSON object: %v", err)
		}
	}
	dir, err := os.MkdirTemp("", "dkd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeDockerDir(t, dir) })
	if _, ok := cfg["deprecated-key-path"]; !ok {
		cfg["deprecated-key-path"], _ = json.Marshal(filepath.Join(dir, "key.json"))
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	conf := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(conf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	d := &Dockerd{dir: dir, out: &LockedBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command("nsenter", "--net=/run/netns/"+ns.Name, bin,
		"--config-file", conf,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "d.pid"),
		"-H", "unix://"+d.Socket())
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting dockerd: %v", err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("dockerd output:\n%s", d.Output())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !d.ping() {
		if d.exited() {
			t.Fatalf("dockerd exited before answering on %s:\n%s", d.Socket(), d.Output())
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockerd did not answer GET /_ping on %s within 30 s:\n%s", d.Socket(), d.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return d
}

// removeDockerDir unmounts what dockerd may have left mounted under dir
// (network namespace files, overlay) and removes it.
func removeDockerDir(t testing.TB, dir string) {
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		lines := strings.Split(string(mi), "\n")
		for i := len(lines) - 1; i >= 0; i-- { // deepest last mounted first
			f := strings.Fields(lines[i])
			if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
				_ = syscall.Unmount(f[4], syscall.MNT_DETACH)
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Logf("removing dockerd's directory: %v", err)
	}
}

// Socket returns the path of dockerd's unix socket.
func (d *Dockerd) Socket() string { return filepath.Join(d.dir, "d.sock") }

// Output returns what dockerd printed so far.
func (d *Dockerd) Output() string { return d.out.String() }

func (d *Dockerd) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

func (d *Dockerd) ping() bool {
	hc := http.Client{Timeout: time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", d.Socket())
		},
	}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://docker/_ping")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Docker runs the docker CLI against this dockerd and returns its
// combined output.
func (d *Dockerd) Docker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", append([]string{"-H", "unix://" + d.Socket()}, args...)...)
	// A private client config directory: no host credentials or contexts.
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+filepath.Join(d.dir, "cli"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Stop ends this dockerd by its pid (SIGTERM, SIGKILL after 15 s), waits
// for it, and then ends the containerd it started, found by its pid file
// under this dockerd's exec root.
func (d *Dockerd) Stop() {
	d.once.Do(func() {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(15 * time.Second):
			_ = d.cmd.Process.Kill()
			<-d.done
		}
		killPidFile(filepath.Join(d.dir, "exec", "containerd", "containerd.pid"))
	})
}

// killPidFile kills the process a pid file names, if it still runs.
func killPidFile(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return
	}
	if p.Signal(syscall.Signal(0)) != nil {
		return
	}
	_ = p.Signal(syscall.SIGTERM)
	for range 50 {
		if p.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = p.Kill()
}

// NewDockerTrapNS returns a new namespace set up as the Docker bridge trap:
// an uplink wan (192.0.2.10/24, default via 192.0.2.1) and a LAN route
// 172.17.5.0/24 in table 100 behind a rule, inside the subnet Docker's
// default docker0 takes (172.17.0.0/16), where dockerd, which looks only
// at the main table, does not see it.
func NewDockerTrapNS(t testing.TB) *NS {
	t.Helper()
	ns := NewNS(t)
	ns.Batch([]string{
		"link add wan type veth peer name wanp",
		"link set wan up", "link set wanp up",
		"addr add 192.0.2.10/24 dev wan",
		"route add default via 192.0.2.1 dev wan",
		"route add 172.17.5.0/24 via 192.0.2.1 dev wan table 100",
		"rule add to 172.17.5.0/24 lookup 100 priority 1000",
	})
	return ns
}
