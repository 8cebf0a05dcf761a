package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/web"
	"golang.org/x/sys/unix"
)

// needFiles raises this process's open-file limit to at least n (root
// may raise the hard limit too), or fails: the test holds thousands of
// sockets.
func needFiles(t *testing.T, n uint64) {
	t.Helper()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	lim.Cur, lim.Max = n, max(lim.Max, n)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("ulimit -n is %d and cannot be raised to %d: %v", lim.Cur, n, err)
	}
}

// timedLogin logs in as admin from a loopback address over a new
// connection and says how long the answer took.
func timedLogin(t *testing.T, p *panel, from string) time.Duration {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	client := &http.Client{
		Timeout:       60 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	start := time.Now()
	req, _ := http.NewRequest("POST", p.URL+"/login", strings.NewReader(url.Values{"user": {"admin"}, "password": {p.Password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("admin's login from %s after %v: %v", from, took, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin's login from %s: %d, want 303", from, resp.StatusCode)
	}
	return took
}

// 2,000 idle connections from one address do not starve the panel: an
// admin's login from another address is still answered within a second.
//
// The panel runs with `ulimit -n 1024`, the usual soft limit, so the flood
// exceeds its descriptors as ~20,000 connections would at a typical
// service limit. Before the per-address cap, the panel accepted ~1,000 of
// them, then accept failed with EMFILE and the admin's connection waited
// in the kernel's accept queue behind the rest until the 10 s header
// timeout freed descriptors.
func TestIdleConnectionFloodDoesNotStarveTheAdmin(t *testing.T) {
	const flood = 2000
	needFiles(t, flood+1024)
	ns := testenv.NewNS(t)
	p := startPanel(t, "--netns", ns.Name)
	lim := unix.Rlimit{Cur: 1024, Max: 1024}
	if err := unix.Prlimit(p.cmd.Process.Pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
		t.Fatalf("prlimit on the panel: %v", err)
	}
	// What a login costs here without any load: mostly bcrypt (cost 12),
	// which a busy shared machine slows down.
	baseline := timedLogin(t, p, "127.0.0.3")

	addr := strings.TrimPrefix(p.URL, "http://")
	conns := make([]net.Conn, flood)
	var failed atomic.Int32
	var wg sync.WaitGroup
	next := atomic.Int32{}
	for range 64 {
		wg.Go(func() {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 30 * time.Second}
			for i := int(next.Add(1)) - 1; i < flood; i = int(next.Add(1)) - 1 {
				c, err := d.Dial("tcp", addr)
				if err != nil {
					failed.Add(1)
					continue
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d flood connections could not even connect", n, flood)
	}

	// The bound is 1 s. It is asserted on top of what the same
	// login took just before without the flood (twice that, for the noise
	// of a shared machine): a starved panel answers only after the 10 s
	// header timeout, far beyond.
	took := timedLogin(t, p, "127.0.0.4")
	if bound := time.Second + 2*baseline; took > bound {
		t.Fatalf("under %d idle connections admin's login took %v, want within %v (1 s + twice the %v it took unloaded)", flood, took, bound, baseline)
	}
	t.Logf("login: %v unloaded, %v under %d idle connections", baseline, took, flood)

	// The panel holds at most its cap of the flood's connections; the
	// rest it closed.
	var served atomic.Int32
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, "GET /login HTTP/1.1\r\nHost: netpanel\r\n\r\n"); err != nil {
				return
			}
			if line, err := bufio.NewReader(c).ReadString('\n'); err == nil && strings.Contains(line, " 200 ") {
				served.Add(1)
			}
		})
	}
	wg.Wait()
	if n := served.Load(); n == 0 || n > web.MaxConnsPerAddr {
		t.Fatalf("%d of the flood's connections were still served, want 1 to %d", n, web.MaxConnsPerAddr)
	}
}
