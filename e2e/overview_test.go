package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// apiCall sends one API request with an API token and decodes the answer
// into out (when not nil); it returns the status.
func (p *panel) apiCall(t *testing.T, token, method, path string, body, out any) int {
	t.Helper()
	var rd bytes.Buffer
	if body != nil {
		json.NewEncoder(&rd).Encode(body)
	}
	req, _ := http.NewRequest(method, p.URL+path, &rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decoding the answer: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// token makes an API token for admin with the CLI.
func (p *panel) token(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(p.cli(t, "", "token", "create", "admin"))
}

// ovText is JS: the text of the overview's element with data-testid id
// as it reads (innerText: blocks apart), lower case, spaces squeezed.
func ovText(id string) string {
	return fmt.Sprintf(`(document.querySelector('[data-testid=%q]')?.innerText || '').replace(/\s+/g, ' ').toLowerCase()`, id)
}

// defaultRoutes are the default routes of every table as `ip -j route
// show table all` prints them, as "TABLE via GATEWAY".
func defaultRoutes(t *testing.T, ns *testenv.NS) []string {
	t.Helper()
	var out []string
	for _, fam := range []string{"-4", "-6"} {
		var routes []struct{ Dst, Gateway, Table string }
		ns.IPJSON(&routes, fam, "route", "show", "table", "all")
		for _, r := range routes {
			if r.Dst != "default" {
				continue
			}
			if r.Table == "" {
				r.Table = "main"
			}
			out = append(out, r.Table+" via "+r.Gateway)
		}
	}
	slices.Sort(out)
	return out
}

// The overview follows the kernel without a reload: a default route
// removed and another added with ip, an address added with ip, and a change
// made through the API that waits for confirmation.
func TestOverviewFollowsTheKernelLive(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{
		"link add v0 type veth peer name v1",
		"link set v0 up", "link set v1 up",
		"addr add 10.20.30.1/24 dev v0",
		"route add default via 10.20.30.2",
		"route add default via 10.20.30.3 table 100",
	})
	p := startPanel(t, "--netns", ns.Name, "--confirm-timeout", "2m")
	token := p.token(t)
	tab := newBrowser(t)
	p.login(t, tab)
	openLive(t, tab, p.URL+"/")
	markNoReload(t, tab)

	// pageDefaults is JS: the default routes the page lists, as defaultRoutes.
	const pageDefaults = `[...document.querySelectorAll('[data-testid=ov-defaults] tr[data-key]')].map(r =>
		r.cells[0].textContent.trim() + ' via ' + (r.cells[2].textContent.match(/via (\S+)/) || [])[1]).sort()`
	same := func(what string) {
		t.Helper()
		want := defaultRoutes(t, ns)
		wantJSON, _ := json.Marshal(want)
		waitJS(t, tab, what+": the default routes are ip's "+string(wantJSON), `JSON.stringify(`+pageDefaults+`) === `+fmt.Sprintf("%q", wantJSON))
	}
	same("at first")
	waitJS(t, tab, "the uplink is v0", ovText("card-uplink")+`.includes('uplink v0')`)

	t.Run("a default route removed with ip -n", func(t *testing.T) {
		ns.IP("route", "del", "default", "via", "10.20.30.2")
		same("after the removal")
		waitJS(t, tab, "the verdict says there is no default route in main", ovText("ov-verdict")+`.includes('no working default route in table main')`)
		waitJS(t, tab, "the uplink card says none", ovText("card-uplink")+`.includes('uplink none')`)
	})
	t.Run("a default route added with ip -n", func(t *testing.T) {
		ns.IP("route", "add", "default", "via", "10.20.30.4", "metric", "50")
		same("after the addition")
		waitJS(t, tab, "the verdict no longer misses a default route", `!`+ovText("ov-verdict")+`.includes('no working default route')`)
		waitJS(t, tab, "v0 is the uplink again", ovText("card-uplink")+`.includes('uplink v0')`)
	})
	t.Run("an address added with ip -n", func(t *testing.T) {
		ns.IP("addr", "add", "10.99.0.7/16", "dev", "v0")
		waitJS(t, tab, "v0's row lists 10.99.0.7/16", `[...document.querySelectorAll('[data-testid=ov-links] tr[data-key]')]
			.some(r => r.cells[0].textContent.includes('v0') && r.cells[2].textContent.includes('10.99.0.7/16'))`)
	})
	t.Run("a change waiting for confirmation appears, and goes once confirmed", func(t *testing.T) {
		// The browser and the API client are on this machine: a change
		// of lo is one that may cut them off.
		var o struct{ ID, State string }
		if code := p.apiCall(t, token, "POST", "/api/v1/changes",
			map[string]any{"kind": "addr", "fields": map[string]string{"action": "add", "dev": "lo", "prefix": "192.0.2.77/32"}}, &o); code != 200 || o.State != "pending" {
			t.Fatalf("status %d, state %q: want a pending change", code, o.State)
		}
		waitJS(t, tab, "the stack lists the change", ovText("ov-pending")+`.includes('ip addr add 192.0.2.77/32 dev lo')`)
		waitJS(t, tab, "the card counts it", ovText("card-pending")+`.includes('1 change')`)
		waitJS(t, tab, "the verdict names it", ovText("ov-verdict")+`.includes('1 change waits for confirmation')`)
		if code := p.apiCall(t, token, "POST", "/api/v1/changes/"+o.ID+"/confirm", nil, &o); code != 200 || o.State != "confirmed" {
			t.Fatalf("confirming: status %d, state %q", code, o.State)
		}
		waitJS(t, tab, "the stack is gone", `!document.querySelector('[data-testid=ov-pending]')`)
		waitJS(t, tab, "the card says nothing waits", ovText("card-pending")+`.includes('nothing')`)
	})
	assertNoReload(t, tab, "/")
}
