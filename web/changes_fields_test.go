package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/testenv"
)

// A JSON change whose fields hold a key its kind does not take ("metirc"
// for "metric") is refused with a 400 that names the key and the keys the
// kind takes, and the kernel is left as it was; the same change spelt
// right applies, metric and all.
func TestChangeWithAnUnknownFieldIsRefused(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up", "addr add 10.79.0.1/24 dev v0"})
	store, w := startWatcher(t, ns)
	ta := newTestAuth(t)
	changes := newChanges(t, ns, store, w, ta, 4*time.Second)
	s := newServer(t, store, w, ta, func(d *handlers.Deps) { d.Changes = changes })
	runHub(t, s)
	ts := newHTTPTestServer(t, s)
	tok, _, err := ta.users.CreateToken("admin", "fields test")
	if err != nil {
		t.Fatal(err)
	}
	post := func(fields map[string]any) (int, handlers.ErrorJSON, string) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"kind": "route", "fields": fields})
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/changes", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var raw bytes.Buffer
		raw.ReadFrom(resp.Body)
		var e handlers.ErrorJSON
		_ = json.Unmarshal(raw.Bytes(), &e)
		return resp.StatusCode, e, raw.String()
	}

	routes := ns.IP("-j", "route", "show", "table", "all")
	code, e, raw := post(map[string]any{"action": "add", "dst": "198.51.100.0/24", "via": "10.79.0.2", "metirc": 50})
	if code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", code, raw)
	}
	msg := e.Fields["metirc"]
	if !strings.Contains(e.Error, `"metirc"`) || !strings.Contains(msg, "metric") || !strings.Contains(msg, "via") {
		t.Errorf("the answer does not name the key and the keys a route takes: %s", raw)
	}
	if len(e.Fields) != 1 {
		t.Errorf("only the unknown key is refused; the answer names %v", e.Fields)
	}
	if got := ns.IP("-j", "route", "show", "table", "all"); got != routes {
		t.Fatalf("a refused change altered the routes:\nbefore %s\nafter  %s", routes, got)
	}

	code, _, raw = post(map[string]any{"action": "add", "dst": "198.51.100.0/24", "via": "10.79.0.2", "metric": 50})
	if code != http.StatusOK {
		t.Fatalf("the change spelt right: status %d: %s", code, raw)
	}
	// The document the API serves says so, with each kind's keys.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+handlers.OpenAPIPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var doc bytes.Buffer
	doc.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"does not take is refused (400, nothing changed)", "any other is refused (400): addr: action,", "route: action, advmss"} {
		if !strings.Contains(doc.String(), want) {
			t.Errorf("the OpenAPI document does not say %q", want)
		}
	}

	var got []struct {
		Dst    string `json:"dst"`
		Metric int    `json:"metric"`
	}
	ns.IPJSON(&got, "route", "show", "198.51.100.0/24")
	if len(got) != 1 || got[0].Metric != 50 {
		t.Fatalf("ip -j route show 198.51.100.0/24: %+v, want one route with metric 50", got)
	}
}
