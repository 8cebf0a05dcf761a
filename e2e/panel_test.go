package e2e

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildDir holds the binary built once for the whole package run; TestMain
// removes it.
var buildDir string

var build struct {
	once sync.Once
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "netpanel-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary builds cmd/netpanel on first use. It is lazy rather than done in
// TestMain so that a run where every test skips (no root) builds nothing.
func binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			build.err = err
			return
		}
		// Without the vendored htmx the binary serves pages that never go
		// live, and every test here would time out with a puzzling message.
		if _, err := os.Stat(filepath.Join(root, "static", "vendor", "htmx.min.js")); err != nil {
			build.err = fmt.Errorf("static/vendor/htmx.min.js is missing: run `make vendor` (or `make test`, which does) before the e2e tests")
			return
		}
		bin := filepath.Join(buildDir, "netpanel")
		args := []string{"build", "-o", bin}
		if os.Getenv(benchTraceEnv) != "" {
			// The profiler's endpoints, for the trace the benchmark takes.
			args = append(args, "-tags", "pprof")
		}
		cmd := exec.Command("go", append(args, "./cmd/netpanel")...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/netpanel: %v\n%s", err, out)
			return
		}
		build.bin = bin
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// panel is one running netpanel process.
type panel struct {
	URL      string // "http://127.0.0.1:PORT"
	Password string // admin's password, as printed on the first start
	StateDir string // its --state-dir, for the `netpanel user`/`token` commands
	cmd      *exec.Cmd
	log      *syncBuffer
	done     chan struct{} // closed when the process has exited
	t        testing.TB
	stop     sync.Once
}

// startPanel runs the binary on a free loopback port with args, a fresh
// --state-dir, and waits until /login answers 200. Cleanup stops it; its
// log goes to t.Log if the test failed.
func startPanel(t testing.TB, args ...string) *panel {
	t.Helper()
	p := startPanelIn(t, t.TempDir(), args...)
	if p.Password == "" {
		t.Fatalf("netpanel serves but printed no admin password:\n%s", p.log.String())
	}
	return p
}

// startPanelIn is startPanel on a given --state-dir, which may hold users
// already: Password is "" when the panel printed none.
func startPanelIn(t testing.TB, stateDir string, args ...string) *panel {
	t.Helper()
	bin := binary(t)
	addr := freePort(t)
	args = append([]string{"--listen", addr, "--state-dir", stateDir}, args...)
	scheme := "http"
	if slices.Contains(args, "--tls-cert") {
		scheme = "https"
	}
	p := &panel{URL: scheme + "://" + addr, StateDir: stateDir, log: &syncBuffer{}, done: make(chan struct{}), t: t}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting netpanel: %v", err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("netpanel %v log:\n%s", args, p.log.String())
		}
	})

	// Tests with TLS use a self-signed certificate made for the test.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("netpanel exited before serving (%v):\n%s", p.cmd.ProcessState, p.log.String())
		default:
		}
		resp, err := client.Get(p.URL + "/login")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if m := printedPassword.FindStringSubmatch(p.log.String()); m != nil {
					p.Password = m[1]
				}
				return p
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("netpanel did not serve /login within 30s: %v\n%s", err, p.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// printedPassword finds the password netpanel prints for admin in its
// output: on the first start, or on a later one when nobody logged in with
// the one printed before.
var printedPassword = regexp.MustCompile(`(?:created the user "admin" with the password|The password of "admin" is now):\s+(\S+)`)

// Stop sends SIGTERM and waits for the exit, SIGKILL after 10 s. It is
// safe to call more than once; only the first call signals.
func (p *panel) Stop() {
	p.stop.Do(func() {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			p.t.Errorf("SIGTERM to netpanel: %v", err)
		}
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			// SIGQUIT makes the Go runtime print every goroutine's stack
			// before it exits: what the stop waits for is in the log.
			_ = p.cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				p.cmd.Process.Kill()
				<-p.done
			}
			out := p.log.String()
			p.t.Errorf("netpanel ignored SIGTERM for 10s; its goroutines at SIGQUIT:\n%s", out[max(0, len(out)-64<<10):])
		}
	})
}

// freePort returns a loopback address whose port was free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects the process's output, written from two pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
