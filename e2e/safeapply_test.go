package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
)

// adminPath is the two-namespace setup of the safe-apply tests: netpanel
// runs inside A as on a host (it manages A, its own namespace, and serves
// HTTPS on 10.77.0.1), the admin's client sits in B behind the veth a0-b0,
// and A holds objects of every kind on a0, the admin's path.
type adminPath struct {
	a, b   *testenv.NS
	url    string
	token  string
	client *http.Client
	cmd    *exec.Cmd
	done   chan struct{}
	log    *syncBuffer
	state  string
}

func newAdminPath(t *testing.T, confirm time.Duration) *adminPath {
	t.Helper()
	bin := binary(t)
	p := &adminPath{a: testenv.NewNS(t), b: testenv.NewNS(t), log: &syncBuffer{}, done: make(chan struct{}), state: t.TempDir()}
	// No duplicate address detection: IPv6 addresses are usable at once,
	// so a state can be compared without waiting for DAD.
	p.a.Do(func() {
		for _, f := range []string{"all", "default"} {
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+f+"/accept_dad", []byte("0"), 0o644); err != nil {
				t.Errorf("accept_dad: %v", err)
			}
		}
	})
	p.a.Batch([]string{
		"link add a0 type veth peer name b0 netns " + p.b.Name,
		"addr add 10.77.0.1/24 dev a0", "link set a0 up",
		"addr add 10.77.1.1/24 dev a0",
		"addr add 2001:db8:77::1/64 dev a0",
		"link add c0 type veth peer name c1", "link set c0 up", "link set c1 up",
		"addr add 10.78.0.1/24 dev c0",
		"link add br0 type bridge", "link set c1 master br0", "link set br0 up",
		"route add 10.99.0.0/24 via 10.77.0.2 dev a0",
		"route add 10.77.0.0/16 dev a0 metric 100",
		"route add 10.98.0.0/24 via 10.77.0.2 dev a0 table 100",
		"rule add fwmark 0x20/0x20 priority 2000 lookup 100",
		"neigh add 10.77.0.60 lladdr 02:00:00:00:00:60 dev a0 nud permanent",
	})
	p.b.Batch([]string{"addr add 10.77.0.2/24 dev b0", "link set b0 up"})

	// An admin with an API token, made with the CLI before the first start.
	add := exec.Command(bin, "user", "add", "root", "--role", "admin", "--state-dir", p.state)
	add.Stdin = strings.NewReader("a long password for root\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("netpanel user add: %v: %s", err, out)
	}
	tok, err := exec.Command(bin, "token", "create", "root", "--state-dir", p.state).Output()
	if err != nil {
		t.Fatalf("netpanel token create: %v", err)
	}
	p.token = strings.TrimSpace(string(tok))

	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	addr := freeAddr(t, p.a, "10.77.0.1")
	p.url = "https://" + addr
	// ip netns exec execs netpanel: the pid is netpanel's. Every path
	// netpanel could write or read outside A is a directory of the test.
	p.cmd = exec.Command("ip", "netns", "exec", p.a.Name, bin, "--listen", addr, "--tls-cert", cert, "--tls-key", key,
		"--state-dir", p.state, "--confirm-timeout", confirm.String(),
		"--rt-tables-dir", dir, "--rt-tables-owned", filepath.Join(dir, "rt_tables.d"),
		"--networkd-dir", filepath.Join(dir, "network"), "--networkd-conf-dir", filepath.Join(dir, "networkd.conf.d"),
		"--docker-dir", filepath.Join(dir, "docker"), "--docker-socket", filepath.Join(dir, "docker.sock"),
		"--nftables-file", filepath.Join(dir, "nftables.d", "netpanel.nft"))
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("netpanel log:\n%s", p.log.String())
		}
	})

	p.client = &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test's own self-signed certificate
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			var err error
			p.b.Do(func() { c, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr) })
			return c, err
		},
	}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := p.call("GET", "/api/v1/changes", nil); err == nil {
			return p
		} else if time.Now().After(deadline) {
			t.Fatalf("netpanel does not answer from B: %v\n%s", err, p.log.String())
		}
		select {
		case <-p.done:
			t.Fatalf("netpanel exited: %v\n%s", p.cmd.ProcessState, p.log.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// call sends an API request from B and decodes the answer.
func (p *adminPath) call(method, path string, body any) (json.RawMessage, error) {
	var rd bytes.Buffer
	if body != nil {
		json.NewEncoder(&rd).Encode(body)
	}
	req, _ := http.NewRequest(method, p.url+path, &rd)
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return raw, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, raw)
	}
	return raw, nil
}

type outcome struct {
	ID       string   `json:"id"`
	State    string   `json:"state"`
	Commands []string `json:"commands"`
	Error    string   `json:"error"`
	Ended    string   `json:"ended"`
	LeftOver []string `json:"left_over"`
}

// change applies one change through the API and returns its id; the last
// change of a stack may cut the client off, so its answer may not come.
func (p *adminPath) change(t *testing.T, kind string, fields map[string]string, last bool) string {
	t.Helper()
	raw, err := p.call("POST", "/api/v1/changes", map[string]any{"kind": kind, "fields": fields})
	if err != nil {
		if last {
			return ""
		}
		t.Fatalf("%s %v: %v", kind, fields, err)
	}
	var o outcome
	json.Unmarshal(raw, &o)
	if o.State != "pending" {
		t.Fatalf("%v: %s (%s), want pending", o.Commands, o.State, o.Error)
	}
	return o.ID
}

// settled waits until B reaches the panel again and none of the caller's
// changes is pending, and returns them, newest first.
func (p *adminPath) settled(t *testing.T, n int) []outcome {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		raw, err := p.call("GET", "/api/v1/changes", nil)
		var list []outcome
		if err == nil && json.Unmarshal(raw, &list) == nil && len(list) >= n {
			pending := false
			for _, o := range list[:n] {
				pending = pending || o.State == "pending"
			}
			if !pending {
				return list[:n]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("changes not settled after 60 s: %v %s", err, raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for netpanel to exit; it returns the exit code.
func (p *adminPath) stop(t *testing.T) int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Errorf("netpanel ignored SIGTERM for 30 s; killing it")
		p.cmd.Process.Kill()
		<-p.done
	}
	return p.cmd.ProcessState.ExitCode()
}

// Ten risky changes of every kind stacked on the admin's path, the last
// one cutting the admin off, are undone by the countdown; then a new stack
// is undone by SIGTERM. Both times ip -j prints exactly what it printed
// before (testenv.IPState), and the API says every change rolled back.
func TestSafeApplyStacksRollBackExactly(t *testing.T) {
	p := newAdminPath(t, 6*time.Second)
	before := p.a.SettledIPState()

	t.Run("ten stacked changes, then the countdown", func(t *testing.T) {
		steps := []struct {
			kind   string
			fields map[string]string
		}{
			{"link", map[string]string{"action": "mtu", "name": "a0", "mtu": "1400"}},
			{"addr", map[string]string{"action": "add", "dev": "a0", "prefix": "10.77.0.9/24"}},
			{"route", map[string]string{"action": "add", "dst": "10.77.0.2/32", "dev": "a0", "metric": "5"}},
			{"rule", map[string]string{"action": "add", "priority": "1000", "fwmark": "0x40", "table": "100"}},
			{"neigh", map[string]string{"action": "add", "dev": "a0", "ip": "10.77.0.50", "lladdr": "02:00:00:00:00:50"}},
			{"link", map[string]string{"action": "rename", "name": "a0", "new_name": "up0"}},
			{"route", map[string]string{"action": "del", "dst": "10.77.0.0/16", "dev": "up0", "metric": "100"}},
			{"link", map[string]string{"action": "alias", "name": "up0", "alias": "admin path"}},
			{"addr", map[string]string{"action": "del", "dev": "up0", "prefix": "10.77.1.1/24"}},
			// A bridge port's own addresses stop answering: B is cut off.
			{"link", map[string]string{"action": "master", "name": "up0", "master": "br0"}},
		}
		for i, s := range steps {
			p.change(t, s.kind, s.fields, i == len(steps)-1)
		}
		for _, o := range p.settled(t, len(steps)) {
			if o.State != "rolled-back" || o.Error != "" || o.Ended != "it was not confirmed in time" {
				t.Errorf("%v: %s %q %q", o.Commands, o.State, o.Error, o.Ended)
			}
		}
		p.a.WaitIPState(before, 15*time.Second)
	})

	t.Run("a new stack, then SIGTERM", func(t *testing.T) {
		steps := []struct {
			kind   string
			fields map[string]string
		}{
			{"addr", map[string]string{"action": "add", "dev": "a0", "prefix": "2001:db8:77::9/64"}},
			{"link", map[string]string{"action": "add", "type": "bridge", "name": "br5"}},
			{"neigh", map[string]string{"action": "del", "dev": "a0", "ip": "10.77.0.60"}},
			{"rule", map[string]string{"action": "del", "priority": "2000", "fwmark": "0x20/0x20", "table": "100"}},
			{"route", map[string]string{"action": "add", "dst": "default", "via": "10.77.0.2", "dev": "a0", "table": "100"}},
			{"link", map[string]string{"action": "mtu", "name": "a0", "mtu": "1300"}},
			{"route", map[string]string{"action": "replace", "dst": "10.99.0.0/24", "via": "10.77.0.2", "dev": "a0", "metric": "0", "proto": "static"}},
			{"link", map[string]string{"action": "del", "name": "br0"}},
			{"addr", map[string]string{"action": "del", "dev": "a0", "prefix": "2001:db8:77::1/64"}},
			{"link", map[string]string{"action": "down", "name": "a0"}},
		}
		for i, s := range steps {
			p.change(t, s.kind, s.fields, i == len(steps)-1)
		}
		if code := p.stop(t); code != 0 {
			t.Fatalf("netpanel exited with %d after SIGTERM", code)
		}
		p.a.WaitIPState(before, 15*time.Second)
		audit, err := os.ReadFile(filepath.Join(p.state, "audit.log"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(audit), "netpanel stopped before it was confirmed"); n != len(steps) {
			t.Fatalf("the audit log records %d of %d changes rolled back on SIGTERM:\n%s", n, len(steps), audit)
		}
		if strings.Contains(string(audit), "rollback-failed") {
			t.Fatalf("a rollback failed:\n%s", audit)
		}
	})
}

// freeAddr is ip with a TCP port free in ns, for netpanel to listen on.
func freeAddr(t *testing.T, ns *testenv.NS, ip string) string {
	t.Helper()
	var port int
	ns.Do(func() {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Errorf("listen in %s: %v", ns.Name, err)
			return
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	})
	return net.JoinHostPort(ip, strconv.Itoa(port))
}
