package web

import (
	"encoding/json"

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
	for _, c := range hb.pending {
		out := c.out
		c.out = nil
		if _, ok := hb.clients[c]; !ok || c.isBehind || len(out) == 0 {
			continue
		}
		if !c.events && len(out) > 1 {
			out = [][]byte{batchMsg(out)}
		}
		if !c.queue(out) {
			hb.fallBehind(c, out)
		}
	}
	clear(hb.pending)
	hb.pending = hb.pending[:0]
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
		if !c.queue([][]byte{resyncMsg(c)}) {
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
