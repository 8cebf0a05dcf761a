// Package testenv holds the helpers that tests use to reach the real
// environment: root, network namespaces created for the test, external
// tools such as iproute2 and Chromium, the real daemons (systemd-networkd,
// dockerd) and the fixtures several packages set them up with; and the
// readers of what netpanel writes (archives).
//
// A test that needs something the machine lacks skips locally, but fails when
// NETPANEL_REQUIRE_ALL=1 (CI sets it), so CI can never go green on skips.
package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// RequireAll reports whether missing prerequisites must fail tests.
func RequireAll() bool { return os.Getenv("NETPANEL_REQUIRE_ALL") == "1" }

// Missing skips the test, or fails it under NETPANEL_REQUIRE_ALL=1.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if RequireAll() {
		t.Fatalf("prerequisite missing (NETPANEL_REQUIRE_ALL=1): "+format, args...)
	}
	t.Skipf("prerequisite missing: "+format, args...)
}

// RequireRoot needs uid 0 (netns creation, netlink changes).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "test needs root")
	}
}

// RequireTool needs an executable on PATH and returns its path.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s not on PATH", name)
	}
	return p
}

// NS is a network namespace created for one test and removed afterwards.
type NS struct {
	Name string
	t    testing.TB
}

// NewNS creates a fresh named network namespace ("np-test-<random>") with
// its loopback up, and registers its removal with t.Cleanup, which also runs
// when the test fails.
func NewNS(t testing.TB) *NS {
	t.Helper()
	ns := NewBareNS(t)
	ns.IP("link", "set", "lo", "up")
	return ns
}

// NewBareNS is NewNS with its loopback left down: a namespace without any
// IPv4 configuration, where not even the main routing table exists yet.
func NewBareNS(t testing.TB) *NS {
	t.Helper()
	RequireRoot(t)
	RequireTool(t, "ip")
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	ns := &NS{Name: "np-test-" + hex.EncodeToString(b[:]), t: t}
	run(t, "ip", "netns", "add", ns.Name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.Name).CombinedOutput(); err != nil {
			t.Errorf("removing netns %s: %v: %s", ns.Name, err, out)
		}
	})
	return ns
}

// IP runs `ip -n NAME args...` and fails the test on error; it returns stdout.
func (ns *NS) IP(args ...string) string {
	ns.t.Helper()
	return run(ns.t, "ip", append([]string{"-n", ns.Name}, args...)...)
}

// TryIP runs `ip -n NAME args...` and returns its combined output and error.
func (ns *NS) TryIP(args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"-n", ns.Name}, args...)...).CombinedOutput()
	return string(out), err
}

// IPJSON runs `ip -n NAME -j args...` and decodes the output into v.
func (ns *NS) IPJSON(v any, args ...string) {
	ns.t.Helper()
	out := run(ns.t, "ip", append([]string{"-n", ns.Name, "-j"}, args...)...)
	if strings.TrimSpace(out) == "" {
		out = "[]"
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		ns.t.Fatalf("decoding ip -j %v: %v\n%s", args, err, out)
	}
}

// Addrs4 returns the IPv4 addresses of dev as ADDR/LEN, as the kernel
// lists them (ip -j addr show dev DEV).
func (ns *NS) Addrs4(dev string) []string {
	ns.t.Helper()
	var links []struct {
		AddrInfo []struct {
			Family    string `json:"family"`
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	ns.IPJSON(&links, "addr", "show", "dev", dev)
	var out []string
	for _, l := range links {
		for _, a := range l.AddrInfo {
			if a.Family == "inet" {
				out = append(out, a.Local+"/"+strconv.Itoa(a.PrefixLen))
			}
		}
	}
	return out
}

// Batch feeds commands to `ip -n NAME -batch -` (one command per line),
// the fast way to create many objects.
func (ns *NS) Batch(lines []string) {
	ns.t.Helper()
	cmd := exec.Command("ip", "-n", ns.Name, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		ns.t.Fatalf("ip -batch: %v: %s", err, out)
	}
}

// Handle opens a handle on the namespace; the caller closes it (t.Cleanup
// does it here).
func (ns *NS) Handle() netns.NsHandle {
	ns.t.Helper()
	h, err := netns.GetFromName(ns.Name)
	if err != nil {
		ns.t.Fatalf("opening netns %s: %v", ns.Name, err)
	}
	ns.t.Cleanup(func() { h.Close() })
	return h
}

// Do runs fn on a locked OS thread switched into the namespace, for code
// that must open sockets inside it (listeners, dialers).
func (ns *NS) Do(fn func()) {
	ns.t.Helper()
	h := ns.Handle()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		// The thread is not unlocked: if switching back fails it must die
		// with the goroutine rather than serve others in the wrong netns.
		orig, err := netns.Get()
		if err != nil {
			ns.t.Errorf("netns.Get: %v", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(h); err != nil {
			ns.t.Errorf("netns.Set: %v", err)
			return
		}
		fn()
		if err := netns.Set(orig); err == nil {
			runtime.UnlockOSThread()
		}
	}()
	<-done
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
