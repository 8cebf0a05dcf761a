package web

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/web/auth"
)

// clientFrom is an HTTP client whose connections leave from a given
// loopback address: every 127.0.0.0/8 address is local on Linux, so a
// test can play several clients without configuring anything.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// postLogin logs in with a form post and returns the status and the
// Retry-After header.
func postLogin(t testing.TB, c *http.Client, base, user, pw string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"user": {user}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// 150 wrong passwords sent at once from one address: the check and the
// count are one step, so only the allowed number reach bcrypt and the rest
// are refused with 429.
func TestParallelWrongLoginsAreCountedBeforeBcrypt(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	ts := newHTTPTestServer(t, s)
	c := clientFrom("127.0.0.2")
	const n = 150
	var mu sync.Mutex
	codes := map[int]int{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			code, _ := postLogin(t, c, ts.URL, "admin", "not the password")
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if codes[http.StatusUnauthorized] != loginFailures || codes[http.StatusTooManyRequests] != n-loginFailures {
		t.Fatalf("statuses %v, want %d × 401 and %d × 429", codes, loginFailures, n-loginFailures)
	}
}

// settableClock is a clock a test moves while the server reads it.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *settableClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Guessing admin's password from many addresses slows the guessing down
// (a delay that doubles per failure for addresses that failed before) but
// never refuses the right password from an address with a clean record.
func TestGuessingAUserCannotLockOutItsOwner(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	clk := &settableClock{t: time.Now()}
	s.limiter = auth.NewLimiter(loginFailures, loginWindow, clk.now)
	ts := newHTTPTestServer(t, s)

	attacker := clientFrom("127.0.0.2")
	for i := range loginFailures {
		if code, _ := postLogin(t, attacker, ts.URL, "admin", "guess "+strconv.Itoa(i)); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, code)
		}
	}
	if code, _ := postLogin(t, attacker, ts.URL, "admin", "another guess"); code != http.StatusTooManyRequests {
		t.Fatalf("the address's guess over the limit: %d, want 429 as before", code)
	}
	if code, _ := postLogin(t, clientFrom("127.0.0.3"), ts.URL, "admin", testPassword); code != http.StatusSeeOther {
		t.Fatalf("admin from a clean address after 5 failed guesses elsewhere: %d, want a login", code)
	}

	// More guesses, each from a fresh address: an address that already
	// failed (127.0.0.10) must wait longer after each.
	dirty := clientFrom("127.0.0.10")
	if code, _ := postLogin(t, dirty, ts.URL, "admin", "first guess"); code != http.StatusUnauthorized {
		t.Fatalf("first guess from .10: %d", code)
	}
	var waits []int
	for i := 11; i < 20; i++ {
		if code, _ := postLogin(t, clientFrom("127.0.0."+strconv.Itoa(i)), ts.URL, "admin", "guess"); code != http.StatusUnauthorized {
			t.Fatalf("guess from fresh address .%d: %d, want 401", i, code)
		}
		code, ra := postLogin(t, dirty, ts.URL, "admin", "guess")
		if code != http.StatusTooManyRequests {
			continue // within the first free failures
		}
		secs, err := strconv.Atoi(ra)
		if err != nil {
			t.Fatalf("Retry-After %q", ra)
		}
		waits = append(waits, secs-1) // the header rounds up by a second
	}
	if len(waits) < 5 {
		t.Fatalf("only %d of 9 guesses from an address that failed before were held back", len(waits))
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] != 2*waits[i-1] {
			t.Fatalf("waits %v s: not doubling", waits)
		}
	}
	if code, _ := postLogin(t, dirty, ts.URL, "admin", testPassword); code != http.StatusTooManyRequests {
		t.Fatalf("the right password from the address that failed, within the delay: %d, want 429", code)
	}
	if code, _ := postLogin(t, clientFrom("127.0.0.4"), ts.URL, "admin", testPassword); code != http.StatusSeeOther {
		t.Fatalf("admin from another clean address: %d, want a login", code)
	}
	// The login cleared the delay.
	if code, _ := postLogin(t, dirty, ts.URL, "admin", testPassword); code != http.StatusSeeOther {
		t.Fatalf("after admin's login, the address with one failure: %d, want a login", code)
	}
}
