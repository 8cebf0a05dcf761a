package web

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/ipjson"
	"github.com/netpanel/netpanel/internal/testenv"
)

// The event stream carries each nexthop object it announces as `ip -j
// nexthop show id N` prints it (ip monitor prints nexthops as text only),
// on its creation and on its deletion.
func TestEventsAPINexthopObjects(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up", "addr add 10.22.0.1/24 dev v0"})
	waitCarrier(t, ns, "v0")
	_, ta, s, ts := liveServer(t, ns)
	c := dialEventStream(t, ts, ta)
	waitClients(t, s.Hub(), 1) // events after the registration reach the stream

	ns.IP("nexthop", "add", "id", "5", "via", "10.22.0.2", "dev", "v0")
	ns.IP("nexthop", "add", "id", "7", "group", "5,3")
	want := map[string][]any{
		"5": ipList(t, ns, [][]string{{"nexthop", "show", "id", "5"}}),
		"7": ipList(t, ns, [][]string{{"nexthop", "show", "id", "7"}}),
	}
	ns.IP("nexthop", "del", "id", "7")
	spec := ipjson.Spec{Name: "nexthop event"}
	seen := map[string]bool{}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(seen) < 3 {
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("events seen %v, then: %v", seen, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var ev handlers.EventJSON
			if json.Unmarshal([]byte(line), &ev) != nil || ev.Kind != "nexthop" {
				continue
			}
			var raw struct {
				Object json.RawMessage `json:"object"`
			}
			_ = json.Unmarshal([]byte(line), &raw)
			obj, err := ipjson.Decode([]byte("[" + string(raw.Object) + "]"))
			if err != nil || len(obj) != 1 || obj[0] == nil {
				t.Fatalf("nexthop event without its object: %s", line)
			}
			id := string(obj[0].(map[string]any)["id"].(json.Number))
			for _, d := range ipjson.Compare(spec, want[id], obj, want[id]) {
				t.Errorf("%s event of nexthop %s: %s", ev.Action, id, d)
			}
			if !strings.Contains(ev.Text, "id "+id) {
				t.Errorf("text %q", ev.Text)
			}
			seen[ev.Action+" "+id] = true
		}
	}
	if !seen["new 5"] || !seen["new 7"] || !seen["del 7"] {
		t.Errorf("events seen: %v", seen)
	}
}

// dialEventStream opens /api/v1/events with a viewer's token; it closes
// with the test.
func dialEventStream(t *testing.T, ts *httptest.Server, ta *testAuth) *websocket.Conn {
	t.Helper()
	tok, _, err := ta.users.CreateToken("viewer", "events test")
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := websocket.DefaultDialer.Dial(wsURL(ts, "/api/v1/events"), map[string][]string{"Authorization": {"Bearer " + tok}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
