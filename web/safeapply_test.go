package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/testenv"
)

// The panel serves from namespace A and the admin's browser sits in
// namespace B, joined by a veth: a change that cuts B off is rolled back
// within the countdown, a confirmed one stays, one off the path applies
// at once.
func TestSafeApplyAcrossNamespaces(t *testing.T) {
	a, b := testenv.NewNS(t), testenv.NewNS(t)
	a.Batch([]string{
		"link add a0 type veth peer name b0 netns " + b.Name,
		"addr add 10.77.0.1/24 dev a0", "link set a0 up",
		"link add c0 type veth peer name c1", "link set c0 up", "link set c1 up", "addr add 10.78.0.1/24 dev c0",
	})
	b.Batch([]string{"addr add 10.77.0.2/24 dev b0", "link set b0 up"})
	store, w := startWatcher(t, a)

	ta := newTestAuth(t)
	changes := newChanges(t, a, store, w, ta, 4*time.Second)
	h := handlers.New(handlers.Deps{Store: store, NSName: a.Name, Log: quietLog(), Audit: ta.audit, Changes: changes})
	s := New(Config{Handlers: h, Store: store, Stats: w, Log: quietLog(), Users: ta.users, Sessions: ta.sessions, Audit: ta.rec})
	runHub(t, s)

	// The server listens inside A; the client dials from inside B.
	var ln net.Listener
	var err error
	a.Do(func() { ln, err = net.Listen("tcp", "10.77.0.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	tok, _, err := ta.users.CreateToken("admin", "safe-apply test")
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			var derr error
			b.Do(func() { c, derr = (&net.Dialer{Timeout: time.Second}).DialContext(ctx, network, addr) })
			return c, derr
		},
	}}
	call := func(method, path string, body any) (handlers.OutcomeJSON, error) {
		var rd bytes.Buffer
		if body != nil {
			json.NewEncoder(&rd).Encode(body)
		}
		req, _ := http.NewRequest(method, base+path, &rd)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return handlers.OutcomeJSON{}, err
		}
		defer resp.Body.Close()
		var out handlers.OutcomeJSON
		if resp.StatusCode >= 300 {
			var e map[string]any
			json.NewDecoder(resp.Body).Decode(&e)
			return out, fmt.Errorf("status %d: %v", resp.StatusCode, e)
		}
		return out, json.NewDecoder(resp.Body).Decode(&out)
	}
	// The state that matters to the client: a0's MTU and flags, and the
	// IPv4 addresses and routes (IPv6 link-local routes come and go with
	// autoconfiguration on their own schedule).
	linkJSON := func() string {
		var links []map[string]any
		a.IPJSON(&links, "link", "show", "a0")
		return fmt.Sprint(links[0]["mtu"], links[0]["flags"], "\n", a.IP("-4", "addr", "show"), a.IP("-4", "route", "show", "table", "all"))
	}
	before := linkJSON()

	t.Run("a change that cuts the client off is rolled back", func(t *testing.T) {
		// The answer itself may never arrive: the link goes down first.
		out, err := call("POST", "/api/v1/changes", map[string]any{"kind": "link", "fields": map[string]any{"action": "down", "name": "a0"}})
		if err == nil && (out.State != "pending" || out.Deadline == "") {
			t.Fatalf("taking the client's link down was not held for confirmation: %+v", out)
		}
		if linkJSON() == before {
			t.Fatal("the change was not applied")
		}
		if _, err := call("POST", "/api/v1/changes/x/confirm", nil); err == nil {
			t.Fatal("the client reached the panel although its link is down")
		}
		deadline := time.Now().Add(8 * time.Second)
		for linkJSON() != before {
			if time.Now().After(deadline) {
				t.Fatalf("not rolled back: before %s, now %s", before, linkJSON())
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Back online, the client learns what happened.
		for {
			var list []handlers.OutcomeJSON
			req, _ := http.NewRequest("GET", base+"/api/v1/changes", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if resp, err := client.Do(req); err == nil {
				json.NewDecoder(resp.Body).Decode(&list)
				resp.Body.Close()
				if len(list) > 0 && list[0].State == "rolled-back" && strings.Contains(list[0].Commands[0], "a0 down") {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the client never learns of the rollback: %+v", list)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("a confirmed change on the path stays", func(t *testing.T) {
		out, err := call("POST", "/api/v1/changes", map[string]any{"kind": "link", "fields": map[string]any{"action": "mtu", "name": "a0", "mtu": "1400"}})
		if err != nil || out.State != "pending" {
			t.Fatalf("%+v %v", out, err)
		}
		if c, err := call("POST", "/api/v1/changes/"+out.ID+"/confirm", nil); err != nil || c.State != "confirmed" {
			t.Fatalf("confirm: %+v %v", c, err)
		}
		time.Sleep(4500 * time.Millisecond)
		if !strings.HasPrefix(linkJSON(), "1400 ") {
			t.Fatalf("a confirmed change was undone: %s", linkJSON())
		}
	})
	t.Run("a change off the path applies without a countdown", func(t *testing.T) {
		out, err := call("POST", "/api/v1/changes", map[string]any{"kind": "route", "fields": map[string]any{
			"action": "add", "dst": "203.0.113.0/24", "via": "10.78.0.2", "dev": "c0"}})
		if err != nil || out.State != "applied" {
			t.Fatalf("%+v %v", out, err)
		}
		if got := a.IP("route", "show", "203.0.113.0/24"); !strings.Contains(got, "via 10.78.0.2 dev c0") {
			t.Fatalf("route not there: %q", got)
		}
	})
	t.Run("bad input changes nothing and says which field", func(t *testing.T) {
		routes := a.IP("-j", "route", "show", "table", "all")
		_, err := call("POST", "/api/v1/changes", map[string]any{"kind": "route", "fields": map[string]any{"action": "add", "dst": "203.0.113.0/33", "via": "banana"}})
		if err == nil || !strings.Contains(err.Error(), "via") || !strings.Contains(err.Error(), "400") {
			t.Fatalf("error %v", err)
		}
		if a.IP("-j", "route", "show", "table", "all") != routes {
			t.Fatal("a refused change altered the routes")
		}
	})
}
