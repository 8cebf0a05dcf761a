package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
)

// cutProxy forwards TCP to a panel until it is cut: then it closes every
// connection and every new one at once, as a server that is gone does
// (connection reset), while the panel keeps its sessions; Restore lets
// connections through again.
type cutProxy struct {
	URL    string
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{URL: "http://" + ln.Addr().String(), ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !p.track(c) {
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil || !p.track(up) {
				c.Close()
				continue
			}
			for _, pair := range [][2]net.Conn{{c, up}, {up, c}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _ = io.Copy(pair[0], pair[1])
					pair[0].Close()
					pair[1].Close()
				}()
			}
		}
	}()
	return p
}

// track keeps c to close on a cut; a cut proxy closes it at once.
func (p *cutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// Cut closes every connection, and every new one until Restore.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore lets connections through again.
func (p *cutProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// waitLong is waitJS for what takes the page's reconnect backoff (up to
// 10 s between tries) to happen.
func waitLong(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 45*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[any](expr, chromedp.WithPollingTimeout(45*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		t.Fatalf("waiting until %s (%s): %v", what, expr, err)
	}
}

// When the server is gone, the routes page says so in a banner, greys its
// rows as stale and turns Apply off; a change submitted meanwhile (Enter
// in a field, or the form's preview) says it was not sent. A route added
// meanwhile with ip shows once the server is back: the page resynced, the
// banner says so, and Apply applies again.
func TestTheDisconnectedPageSaysSoAndResyncs(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{
		"link add cv0 type veth peer name cv1", "link set cv0 up", "link set cv1 up",
		"addr add 10.40.0.1/24 dev cv0",
	})
	p := startPanel(t, "--netns", ns.Name)
	px := newCutProxy(t, strings.TrimPrefix(p.URL, "http://"))
	tab := newBrowser(t)
	loginAt(t, tab, px.URL, p.Password)
	openLive(t, tab, px.URL+"/routes?table=main")
	const form = `[data-testid=change-route]`
	do(t, tab, "opening the route form",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('`+form+`').open = true`),
		chromedp.SendKeys(chromedp.CSS(form+` [name=dst]`), "203.0.113.0/24"),
	)
	if evalJS[bool](t, tab, `document.querySelector('[data-testid=apply-route]').disabled`) {
		t.Fatal("Apply is off while the page is live")
	}

	px.Cut()
	waitLong(t, tab, "the page says it is not live, greys its data and turns Apply off",
		`(() => { const b = document.querySelector('[data-testid=connection-banner]');
			return !!b && !b.hidden && b.dataset.state === 'down' && /lost/.test(b.textContent) &&
				document.body.classList.contains('stale') && getComputedStyle(document.querySelector('#content')).opacity < 1 &&
				document.querySelector('[data-testid=apply-route]').disabled })()`)
	if role := evalJS[string](t, tab, `document.querySelector('[data-testid=connection-banner]').getAttribute('role')`); role != "alert" {
		t.Errorf("the banner's role is %q; want alert, so that it is announced", role)
	}

	// Typing makes the form ask for its preview, which cannot arrive;
	// Enter would submit through a disabled Apply, which sends nothing.
	do(t, tab, "typing a gateway and pressing Enter",
		chromedp.SendKeys(chromedp.CSS(form+` [name=via]`), "10.40.0.2"),
		chromedp.SendKeys(chromedp.CSS(form+` [name=via]`), "\r"),
	)
	waitJS(t, tab, "the Enter says nothing was sent",
		`/Not connected to netpanel: nothing was sent/.test(document.querySelector('#result-route [data-testid=request-error]')?.textContent || '')`)
	waitJS(t, tab, "the preview says there was no answer",
		`/No answer from netpanel/.test(document.querySelector('#preview-route [data-testid=request-error]')?.textContent || '')`)
	if out := ns.IP("-j", "route", "show", "203.0.113.0/24"); strings.TrimSpace(out) != "[ ]" && strings.TrimSpace(out) != "[]" {
		t.Fatalf("a route was added while disconnected: %s", out)
	}

	// What changes while the page is not live shows after the resync.
	// The server has the route (its API, past the proxy, lists it) before
	// the page is checked: a live page would show it by then.
	ns.IP("route", "add", "198.51.100.0/24", "via", "10.40.0.2")
	token := p.token(t)
	type route struct {
		Dst string `json:"dst"`
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var routes []route
		if code := p.apiCall(t, token, "GET", "/api/v1/routes?table=main", nil, &routes); code != http.StatusOK {
			t.Fatalf("GET /api/v1/routes: %d", code)
		}
		if slices.Contains(routes, route{Dst: "198.51.100.0/24"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server's model never had 198.51.100.0/24: %+v", routes)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if evalJS[bool](t, tab, `document.querySelector('#rows').textContent.includes('198.51.100.0/24')`) {
		t.Fatal("a disconnected page showed a new route")
	}
	px.Restore()
	waitLong(t, tab, "the page is live again, current and Apply is on",
		`(() => { const b = document.querySelector('[data-testid=connection-banner]');
			return !!b && b.dataset.state === 'back' && /current/.test(b.textContent) &&
				!document.body.classList.contains('stale') &&
				document.querySelector('#rows').textContent.includes('198.51.100.0/24') &&
				!document.querySelector('[data-testid=apply-route]').disabled })()`)

	fillForm(t, tab, "route", map[string]string{"action": "add", "dst": "203.0.113.0/24", "via": "10.40.0.2"}, "applied")
	var got []struct {
		Dst     string `json:"dst"`
		Gateway string `json:"gateway"`
	}
	if err := json.Unmarshal([]byte(ns.IP("-j", "route", "show", "203.0.113.0/24")), &got); err != nil || len(got) != 1 || got[0].Gateway != "10.40.0.2" {
		t.Fatalf("ip route show 203.0.113.0/24 after Apply: %+v (%v)", got, err)
	}
}
