package web

import (
	"encoding/json"
	"slices"

	"github.com/gorilla/websocket"

	"github.com/netpanel/netpanel/handlers"
)

// emit gathers msg for c; send queues what each client gathered in this
// step as one item. A client that fell behind gets nothing until its
// resync frame is queued.
func (hb *Hub) emit(c *client, msg []byte) {
	if c.isBehind {
		if c.events {
			c.missed++
		}
		return
	}
	if len(c.out) == 0 {
		hb.pending = append(hb.pending, c)
	}
	c.out = append(c.out, msg)
}

// send queues the gathered frames: for a page, one WebSocket message (a
// batch when there are several); for an event stream, one message per
// event, as the API promises, but still one queue item.
func (hb *Hub) send() {
	if len(hb.pending) == 0 {
		return
	}
	defer hubRegion("send", "")()
	type queued struct {
		c   *client
		out [][]byte
	}
	var items []queued
	for _, c := range hb.pending {
		out := c.out
		c.out = nil
		if _, ok := hb.clients[c]; !ok || c.isBehind || len(out) == 0 {
			continue
		}
		if !c.events && len(out) > 1 {
			item := hb.batchOf(out)
			// The frames went into the batch; their slice is not
			// queued, so it gathers the client's next step.
			clear(out)
			c.out = out[:0]
			out = item
		}
		items = append(items, queued{c, out})
		hb.countSends(out)
	}
	for _, it := range items {
		if !it.c.queue(hb.prepare(it.out)) {
			hb.fallBehind(it.c, it.out)
		}
	}
	clear(hb.pending)
	hb.pending = hb.pending[:0]
	clear(hb.batches)
	hb.batches = hb.batches[:0]
	clear(hb.prepared)
	clear(hb.sends)
}

// wsMsg is one queued WebSocket message: its bytes, and its frame
// prepared once for every connection that sends it (nil: written from
// the bytes).
type wsMsg struct {
	data []byte
	pm   *websocket.PreparedMessage
}

// countSends counts the clients that send each message of out in this step.
func (hb *Hub) countSends(out [][]byte) {
	if hb.sends == nil {
		hb.sends = map[*byte]int{}
	}
	for _, f := range out {
		if len(f) > 0 {
			hb.sends[&f[0]]++
		}
	}
}

// prepare returns the messages of one queue item. A message several
// clients send in this step (a view's frame, a shared batch, an event) is
// prepared once: a browser negotiates permessage-deflate, and fifty
// connections compressing the same 100 KB frame each, in their writers
// on two cores, made the event -> frame p99 of a routes page 43 ms
// (BenchmarkViewersDoNotSlowRoutes1M). The first writer to send it
// compresses it; the others wait for that and write the same bytes.
func (hb *Hub) prepare(frames [][]byte) []wsMsg {
	item := make([]wsMsg, len(frames))
	for i, f := range frames {
		item[i].data = f
		if len(f) == 0 || hb.sends[&f[0]] < 2 {
			// One client's own: preparing it would only copy it.
			continue
		}
		// A frame's bytes live until the step ends (its clients' items
		// hold them), so no other frame of the step starts where it does.
		pm := hb.prepared[&f[0]]
		if pm == nil {
			if hb.prepared == nil {
				hb.prepared = map[*byte]*websocket.PreparedMessage{}
			}
			var err error
			if pm, err = websocket.NewPreparedMessage(websocket.TextMessage, f); err != nil {
				continue // not for a text message; written from its bytes
			}
			hb.prepared[&f[0]] = pm
		}
		item[i].pm = pm
	}
	return item
}

// maxShared bounds the batches of one step a client's frames are compared
// with: fifty clients of one view gather the same frames and share the
// first one's batch; clients of many different views build their own
// without a search through all the others.
const maxShared = 8

// sharedBatch is a queue item of one batch and the frames it joins.
type sharedBatch struct {
	frames [][]byte
	item   [][]byte
}

// batchOf is the queue item of one batch of frames. Clients showing the
// same view gather the same encoded frames (deliver encodes each fragment
// once), so their batches are equal byte for byte: the first one built in
// this step is queued to each of them (writers only read an item). Frames
// are the same when they are the same bytes in memory, not merely equal
// ones: a client that got one frame more or less, or another view's
// frame, gets a batch of its own.
func (hb *Hub) batchOf(frames [][]byte) [][]byte {
	for i := len(hb.batches) - 1; i >= max(0, len(hb.batches)-maxShared); i-- {
		if sb := hb.batches[i]; sameFrames(sb.frames, frames) {
			return sb.item
		}
	}
	sb := sharedBatch{frames: slices.Clone(frames), item: [][]byte{batchMsg(frames)}}
	hb.batches = append(hb.batches, sb)
	return sb.item
}

// sameFrames reports whether a and b hold the same messages, in order: the
// same backing bytes, so equal without reading them.
func sameFrames(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, func(x, y []byte) bool {
		return len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	})
}

// fallBehind marks a client whose queue is full: what it missed cannot
// be patched in, so it must fetch its view again.
func (hb *Hub) fallBehind(c *client, lost [][]byte) {
	c.isBehind = true
	if c.events {
		c.missed += len(lost)
	}
	c.last = map[string]uint64{}
	hb.behind[c] = struct{}{}
	hb.nBehind.Store(int64(len(hb.behind)))
}

// resync queues a resync frame to each client that fell behind and has
// room again. A client that never reads again is closed by its writer's
// deadline, not here.
func (hb *Hub) resync() {
	for c := range hb.behind {
		if !c.queue([]wsMsg{{data: resyncMsg(c)}}) {
			continue
		}
		c.isBehind, c.missed = false, 0
		delete(hb.behind, c)
	}
	hb.nBehind.Store(int64(len(hb.behind)))
}

// resyncMsg tells a page to ask for its view again (live.js does) and an
// event stream how many messages it missed.
func resyncMsg(c *client) []byte {
	var m any = map[string]string{"type": "resync"}
	if c.events {
		m = handlers.EventsResyncJSON{Type: "resync", Missed: c.missed}
	}
	b, _ := json.Marshal(m)
	return b
}

// batchMsg carries several page frames in one message; live.js applies
// them in order. The frames are JSON the hub encoded itself, so they are
// joined as they are: encoding/json would check and compact every byte
// of their HTML again for each client, which was a third of the hub's
// time with 50 clients on a page.
func batchMsg(frames [][]byte) []byte {
	const head, tail = `{"type":"batch","frames":[`, `]}`
	n := len(head) + len(tail) + len(frames)
	for _, f := range frames {
		n += len(f)
	}
	b := make([]byte, 0, n)
	b = append(b, head...)
	for i, f := range frames {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f...)
	}
	return append(b, tail...)
}
