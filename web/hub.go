package web

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"log/slog"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/netops"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/views"
)

// Timing of the hub. Changes are coalesced: the first change after a quiet
// period goes out at once, later ones at most every coalesce interval, so
// a storm of kernel events becomes a few frames per second per view.
const (
	coalesce     = 50 * time.Millisecond
	tick         = time.Second
	maxEventsOut = 1000 // event lines per flush; the rest count as dropped
)

// Hub owns the set of live clients. One goroutine (Run) does all the
// work: it renders each distinct view once per change and queues the same
// bytes to every client showing it.
type Hub struct {
	store *netops.Store
	h     *handlers.Handlers
	stats StatsRefresher
	log   *slog.Logger

	register   chan *client
	unregister chan *client
	views      chan viewMsg

	clients map[*client]struct{}
	count   atomic.Int64
	// SendQueue bounds each client's queue of unsent frames.
	SendQueue int
	seed      maphash.Seed
	onUpgrade upgradeHook // nil, or told of each socket (see liveConns)
}

type viewMsg struct {
	c     *client
	page  string
	query string
}

// NewHub returns a hub; call Run.
func NewHub(store *netops.Store, h *handlers.Handlers, stats StatsRefresher, log *slog.Logger) *Hub {
	return &Hub{
		store: store, h: h, stats: stats, log: log,
		register:   make(chan *client),
		unregister: make(chan *client),
		views:      make(chan viewMsg, 64),
		clients:    map[*client]struct{}{},
		seed:       maphash.MakeSeed(),
		SendQueue:  256,
	}
}

// Run serves clients until ctx ends, then closes them all.
func (hb *Hub) Run(ctx context.Context) {
	wake, unsub := hb.store.Subscribe()
	defer unsub()
	gens := hb.store.Gens()
	seq := hb.store.LastSeq()
	status := hb.h.Status()
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	var lastFlush time.Time

	flush := func() {
		lastFlush = time.Now()
		armed = false
		now := hb.store.Gens()
		var changed []netops.Kind
		for _, k := range netops.Kinds() {
			if now[k] != gens[k] {
				changed = append(changed, k)
			}
		}
		gens = now
		if st := hb.h.Status(); st != status {
			status = st
			hb.broadcastStatus(st)
		}
		if len(changed) > 0 {
			hb.pushViews(func(c *client) bool {
				kinds, _ := handlers.PageDeps(c.page)
				for _, k := range changed {
					if slices.Contains(kinds, k) {
						return true
					}
				}
				return false
			})
		}
		seq = hb.pushEvents(seq)
	}

	for {
		select {
		case <-ctx.Done():
			for c := range hb.clients {
				hb.drop(c)
			}
			return
		case c := <-hb.register:
			hb.clients[c] = struct{}{}
			hb.count.Store(int64(len(hb.clients)))
			c.queue(statusMsg(status))
		case c := <-hb.unregister:
			hb.drop(c)
		case v := <-hb.views:
			if _, ok := hb.clients[v.c]; !ok {
				continue
			}
			q, err := url.ParseQuery(v.query)
			if err != nil {
				q = url.Values{}
			}
			v.c.page, v.c.query, v.c.last = v.page, q, map[string]uint64{}
			v.c.queue(statusMsg(status))
			hb.pushViews(func(c *client) bool { return c == v.c })
		case <-wake:
			if armed {
				continue
			}
			if wait := coalesce - time.Since(lastFlush); wait > 0 {
				timer.Reset(wait)
				armed = true
				continue
			}
			flush()
		case <-timer.C:
			flush()
		case <-ticker.C:
			hb.periodic()
		}
	}
}

// pushViews renders each distinct view among the selected clients once and
// queues the fragments that differ from what each client last got.
func (hb *Hub) pushViews(sel func(*client) bool) {
	type group struct {
		page  string
		query url.Values
		cs    []*client
	}
	groups := map[string]*group{}
	for c := range hb.clients {
		if c.page == "" || c.events || !sel(c) {
			continue
		}
		key := c.page + "?" + c.query.Encode()
		g := groups[key]
		if g == nil {
			g = &group{page: c.page, query: c.query}
			groups[key] = g
		}
		g.cs = append(g.cs, c)
	}
	for _, g := range groups {
		frags, err := hb.h.Live(g.page, g.query)
		if err != nil {
			hb.log.Warn("live render failed", "page", g.page, "err", err)
			continue
		}
		for _, f := range frags {
			sum := maphash.Bytes(hb.seed, f.HTML)
			var msg []byte
			for _, c := range g.cs {
				if c.last[f.Target] == sum {
					continue
				}
				if msg == nil {
					typ := "html"
					if f.Rows {
						typ = "rows"
					}
					msg, _ = json.Marshal(map[string]string{"type": typ, "target": f.Target, "html": string(f.HTML)})
				}
				c.last[f.Target] = sum
				if !c.queue(msg) {
					hb.drop(c)
				}
			}
		}
	}
}

// pushEvents sends new event lines to Events pages and API streams.
func (hb *Hub) pushEvents(seq uint64) uint64 {
	var pages, apis []*client
	for c := range hb.clients {
		switch {
		case c.events:
			apis = append(apis, c)
		case c.page == "events":
			pages = append(pages, c)
		}
	}
	if len(pages) == 0 && len(apis) == 0 {
		// Nobody watches events: skip copying them out of the ring.
		return hb.store.LastSeq()
	}
	evs, next, dropped := hb.store.EventsSince(seq, maxEventsOut)
	if len(evs) == 0 && dropped == 0 {
		return next
	}
	names := hb.store.Names(hb.h.Tables())
	lines := handlers.EventLines(evs, names)
	if len(pages) > 0 {
		type line struct {
			Seq  uint64 `json:"seq"`
			Kind string `json:"kind"`
			Text string `json:"text"`
			Time string `json:"time"`
		}
		out := make([]line, 0, len(lines))
		for _, l := range lines {
			out = append(out, line{l.Seq, l.Kind, l.Text, l.Time.Format("15:04:05.000")})
		}
		msg, _ := json.Marshal(map[string]any{"type": "events", "lines": out, "dropped": dropped})
		for _, c := range pages {
			if !c.queue(msg) {
				hb.drop(c)
			}
		}
	}
	if len(apis) > 0 {
		var frames [][]byte
		if dropped > 0 {
			b, _ := json.Marshal(map[string]any{"type": "dropped", "count": dropped})
			frames = append(frames, b)
		}
		for i := range evs {
			b, _ := json.Marshal(eventJSON(&evs[i], names, lines[i].Text))
			frames = append(frames, b)
		}
		for _, c := range apis {
			for _, f := range frames {
				if !c.queue(f) {
					hb.drop(c)
					break
				}
			}
		}
	}
	return next
}

// EventJSON is one event on /api/v1/events: the object as ip -j prints
// it, plus the ip monitor line.
type EventJSON struct {
	Type   string `json:"type"` // "event"
	Seq    uint64 `json:"seq"`
	Time   string `json:"time"`
	Kind   string `json:"kind"`
	Action string `json:"action"` // "new", "del" or "resync"
	Object any    `json:"object,omitempty"`
	Text   string `json:"text"`
}

func eventJSON(e *netops.Event, n *netops.Names, text string) EventJSON {
	j := EventJSON{Type: "event", Seq: e.Seq, Time: e.Time.UTC().Format(time.RFC3339Nano), Kind: e.Kind.String(), Action: "new", Text: text}
	if e.Deleted {
		j.Action = "del"
	}
	switch {
	case e.Resync:
		j.Kind, j.Action = "resync", "resync"
	case e.Link != nil:
		j.Object = iproute.Link(e.Link, n, false)
	case e.Addr != nil:
		j.Object = iproute.Addr(e.Addr)
	case e.Route != nil:
		j.Object = iproute.Route(e.Route, n)
	case e.Rule != nil:
		j.Object = iproute.Rule(e.Rule, n)
	case e.Neigh != nil:
		j.Object = iproute.Neigh(e.Neigh, n)
	}
	return j
}

// periodic refreshes what has no kernel events: counters and sockets.
func (hb *Hub) periodic() {
	var ifaces, socks bool
	for c := range hb.clients {
		ifaces = ifaces || c.page == "interfaces"
		socks = socks || c.page == "sockets"
	}
	if socks {
		hb.pushViews(func(c *client) bool { return c.page == "sockets" })
	}
	if !ifaces || hb.stats == nil {
		return
	}
	if err := hb.stats.RefreshStats(); err != nil {
		hb.log.Warn("refreshing link counters failed", "err", err)
		return
	}
	type rate struct {
		RxBps     float64 `json:"rx_bps"`
		TxBps     float64 `json:"tx_bps"`
		RxBytes   uint64  `json:"rx_bytes"`
		TxBytes   uint64  `json:"tx_bytes"`
		RxPackets uint64  `json:"rx_packets"`
		TxPackets uint64  `json:"tx_packets"`
	}
	links := map[string]rate{}
	var at time.Time
	for idx, r := range hb.store.Rates() {
		links[itoa(idx)] = rate{r.RxBps, r.TxBps, r.RxBytes, r.TxBytes, r.RxPackets, r.TxPackets}
		at = r.At
	}
	msg, _ := json.Marshal(map[string]any{"type": "stats", "t": at.UnixMilli(), "links": links})
	for c := range hb.clients {
		if c.page == "interfaces" && !c.queue(msg) {
			hb.drop(c)
		}
	}
}

func (hb *Hub) broadcastStatus(st views.Status) {
	msg := statusMsg(st)
	sync, err := syncMsg(st)
	for c := range hb.clients {
		if c.events {
			continue
		}
		ok := c.queue(msg)
		if ok && err == nil {
			ok = c.queue(sync)
		}
		if !ok {
			hb.drop(c)
		}
	}
}

func (hb *Hub) drop(c *client) {
	if _, ok := hb.clients[c]; !ok {
		return
	}
	delete(hb.clients, c)
	hb.count.Store(int64(len(hb.clients)))
	close(c.send)
}

// ClientCount returns the number of connected clients.
func (hb *Hub) ClientCount() int { return int(hb.count.Load()) }
