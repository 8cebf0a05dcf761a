package web

import (
	"encoding/json"
	"hash/maphash"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/handlers"
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
		c := &client{key: key, send: make(chan [][]byte, 4), last: map[string]uint64{}}
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
	want := []struct {
		name string
		c    *client
		msg  string
	}{
		{"a client of the view", a, batch(rows, summary)},
		{"another client of the view", b, batch(rows, summary)},
		{"a client that has the summary", hasSummary, rows},
		{"a client with a status frame first", withStatus, batch(string(status), rows, summary)},
		{"a client of another view", other, batch(rows, frame("html", "summary", "9 route"))},
	}
	items := map[*client][][]byte{}
	for _, w := range want {
		select {
		case item := <-w.c.send:
			items[w.c] = item
			if len(item) != 1 || string(item[0]) != w.msg {
				t.Errorf("%s got %q, want %s", w.name, item, w.msg)
			}
		default:
			t.Errorf("%s got nothing, want %s", w.name, w.msg)
		}
	}
	if ia, ib := items[a], items[b]; len(ia) == 1 && len(ib) == 1 && &ia[0][0] != &ib[0][0] {
		t.Error("two clients of one view got a batch built for each")
	}
}
