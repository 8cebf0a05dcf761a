package web

import (
	"encoding/json"
	"hash/maphash"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/testenv"
)

// TestBatchMsgIsTheFramesInOrder: a batch is valid JSON whose frames are
// the frames given, in order, byte for byte.
func TestBatchMsgIsTheFramesInOrder(t *testing.T) {
	var frames [][]byte
	for _, m := range []map[string]string{
		{"type": "rows", "target": "routes", "html": `<tr data-k="a\"b">x &amp; y</tr>`},
		{"type": "html", "target": "summary", "html": "3 routes\n\u2028"},
		{"type": "status", "state": "live"},
	} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, b)
	}
	var got struct {
		Type   string            `json:"type"`
		Frames []json.RawMessage `json:"frames"`
	}
	if err := json.Unmarshal(batchMsg(frames), &got); err != nil {
		t.Fatalf("the batch is not JSON: %v", err)
	}
	if got.Type != "batch" || len(got.Frames) != len(frames) {
		t.Fatalf("type %q with %d frames, want batch with %d", got.Type, len(got.Frames), len(frames))
	}
	for i := range frames {
		if string(got.Frames[i]) != string(frames[i]) {
			t.Errorf("frame %d: %s, want %s", i, got.Frames[i], frames[i])
		}
	}
}

// TestSharedBatchesCarryEachClientsOwnFragments: clients of one view share
// one batch, and every client still gets exactly the frames meant for it,
// in order: one that already has a fragment, one with a status frame
// before its view's, and one of another view whose fragments partly equal
// the first view's (as long, but other bytes) each get their own.
func TestSharedBatchesCarryEachClientsOwnFragments(t *testing.T) {
	hb := &Hub{seed: maphash.MakeSeed(), clients: map[*client]struct{}{}}
	newClient := func(key string) *client {
		c := &client{key: key, send: make(chan []wsMsg, 4), last: map[string]uint64{}}
		hb.clients[c] = struct{}{}
		return c
	}
	a, b, hasSummary, withStatus := newClient("v?1"), newClient("v?1"), newClient("v?1"), newClient("v?1")
	other := newClient("v?2")
	status := []byte(`{"type":"status","state":"live"}`)
	one := []handlers.Fragment{{Target: "routes", Rows: true, HTML: []byte("<tr>r</tr>")}, {Target: "summary", HTML: []byte("1 route")}}
	hb.deliver([]*client{hasSummary}, one[1:])
	hb.send()
	<-hasSummary.send
	hb.emit(withStatus, status)
	hb.deliver([]*client{a, b, hasSummary, withStatus}, one)
	hb.deliver([]*client{other}, []handlers.Fragment{one[0], {Target: "summary", HTML: []byte("9 route")}})
	hb.send()

	frame := func(typ, target, html string) string {
		m, _ := json.Marshal(map[string]string{"type": typ, "target": target, "html": html})
		return string(m)
	}
	rows, summary := frame("rows", "routes", "<tr>r</tr>"), frame("html", "summary", "1 route")
	batch := func(frames ...string) string { return `{"type":"batch","frames":[` + strings.Join(frames, ",") + `]}` }
	// Only a message two clients send is prepared (for compression once):
	// preparing one client's own would only copy it.
	want := []struct {
		name   string
		c      *client
		msg    string
		shared bool
	}{
		{"a client of the view", a, batch(rows, summary), true},
		{"another client of the view", b, batch(rows, summary), true},
		{"a client that has the summary", hasSummary, rows, false},
		{"a client with a status frame first", withStatus, batch(string(status), rows, summary), false},
		{"a client of another view", other, batch(rows, frame("html", "summary", "9 route")), false},
	}
	items := map[*client][]wsMsg{}
	for _, w := range want {
		select {
		case item := <-w.c.send:
			items[w.c] = item
			if len(item) != 1 || string(item[0].data) != w.msg || (item[0].pm != nil) != w.shared {
				t.Errorf("%s got %d messages (%v), want one %s (prepared: %v)", w.name, len(item), item, w.msg, w.shared)
			}
		default:
			t.Errorf("%s got nothing, want %s", w.name, w.msg)
		}
	}
	if ia, ib := items[a], items[b]; len(ia) == 1 && len(ib) == 1 && (&ia[0].data[0] != &ib[0].data[0] || ia[0].pm != ib[0].pm) {
		t.Error("two clients of one view got a batch built, or prepared, for each")
	}
	if io, ia := items[other], items[a]; len(io) == 1 && len(ia) == 1 && io[0].pm == ia[0].pm {
		t.Error("a client of another view shares the first view's prepared message")
	}
}

// TestClientsWithAndWithoutCompressionReadTheSameFrames: a view's frames
// are prepared once for all its clients, and each connection writes them
// as it negotiated: a browser-like client (permessage-deflate) and a
// plain one of one view read the same rows and summary, byte for byte,
// for the first render and for a route added later.
func TestClientsWithAndWithoutCompressionReadTheSameFrames(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up",
		"addr add 10.20.0.1/24 dev v0", "route add 192.0.2.0/26 via 10.20.0.2"})
	_, ta, _, ts := liveServer(t, ns)

	_, resp, err := browserDialer.Dial(wsURL(ts, "/ws"), wsHeader(ts, ta.viewer))
	if err != nil {
		t.Fatal(err)
	}
	if ext := resp.Header.Get("Sec-Websocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
		t.Fatalf("the server did not accept compression (extensions %q): the test would compare plain frames only", ext)
	}
	const query = "table=main&within=192.0.2.0/24"
	packed := dialPageWith(t, &browserDialer, ts, ta.viewer, "routes", query)
	plain := dialPage(t, ts, ta.viewer, "routes", query)
	for _, route := range []string{"192.0.2.0/26", "192.0.2.64/26"} {
		if route != "192.0.2.0/26" {
			ns.IP("route", "add", route, "via", "10.20.0.2")
		}
		has := func(h string) bool { return strings.Contains(h, route) }
		if a, b := packed.waitRows(t, 30*time.Second, has), plain.waitRows(t, 30*time.Second, has); a != b {
			t.Errorf("with %s, the compressed client read rows\n%s\nthe plain one\n%s", route, a, b)
		}
	}
}
