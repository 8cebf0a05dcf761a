package web

import (
	"cmp"
	"context"
	"encoding/json"
	"hash/maphash"
	"log/slog"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
)

// Timing of the hub. Changes are coalesced: the first change after a quiet
// period goes out at once, later ones at most every coalesce interval.
// Each page is paced besides by what its render costs (pace.go): a page
// is rendered again at most every paceFactor times its last render's
// duration, so a storm of kernel events costs any one page at most about
// 1/paceFactor of a core, cheap views follow within milliseconds, and a
// heavy page seen by one client cannot slow the views of others.
const (
	maxEventsOut  = 1000 // event lines per flush; the rest count as dropped
	renderTimeout = 5 * time.Second
)

// coalesce is the shortest time between two flushes (a variable: tests
// hold flushes back).
var coalesce = 2 * time.Millisecond

// Timing of what has no kernel events. The hub ticks at the shortest
// period a page declares (Live.Every, Live.Counters), within these
// bounds, and refreshes each page at its own period.
const (
	defaultTick = time.Second
	minTick     = 100 * time.Millisecond
)

// Hub owns the set of live clients. One goroutine (Run) does all the
// bookkeeping and never waits on I/O: it renders each distinct in-memory
// view once per change and queues the same bytes to every client showing
// it; views that read files or sockets render on a goroutine of their own
// page (see render.go) and come back as results.
//
// What the hub sends one client in one step goes out as one queue item,
// so a burst of kernel events costs a client one slot, not one per
// event; a client whose queue is full anyway falls behind and gets a
// resync frame once it has room again, instead of being closed.
type Hub struct {
	store *model.Store
	h     *handlers.Handlers
	stats StatsRefresher
	log   *slog.Logger

	register   chan *client
	unregister chan *client
	views      chan viewMsg
	results    chan renderResult
	statsDone  chan error

	clients map[*client]struct{}
	count   atomic.Int64
	nBehind atomic.Int64
	// hooks lets tests see what the hub does; nil in production (set
	// before Run).
	hooks *hubHooks
	// SendQueue bounds each client's queue of unsent items.
	SendQueue int
	// RenderTimeout is the deadline of one round of a page's off-hub
	// renders (the Docker page waits on the Engine API within it).
	RenderTimeout time.Duration
	// WriteWait bounds one write to a client; a client that takes no
	// data for that long is closed.
	WriteWait time.Duration
	seed      maphash.Seed
	onUpgrade upgradeHook // nil, or told of each socket (see liveConns)

	// Owned by the Run goroutine.
	ctx     context.Context
	status  views.Status
	pending []*client     // clients with frames gathered in this step
	batches []sharedBatch // the batches built in this step (send)
	// prepared are the messages of this step prepared for writing, by
	// their first byte: clients that send one message share its frame.
	prepared  map[*byte]*websocket.PreparedMessage
	sends     map[*byte]int        // how many clients send each message of this step
	behind    map[*client]struct{} // clients owed a resync frame
	renders   map[string]*pageRenders
	renderErr map[string]string // the last render error logged, per page
	statsBusy bool              // a counter refresh is running
	// lastStats is the stats frame of the last refresh, for a view that
	// opens between refreshes: a client's view messages do not each
	// marshal every link's rates again.
	lastStats []byte
	tick      time.Duration    // the period of periodic
	ticks     int64            // periodic's calls so far
	paces     map[string]*pace // per page: when it may render again
	nextDue   time.Time        // the earliest render held back by its pace
}

// hubHooks are the counters and calls tests watch the hub by. Each is
// reached through a nil check of Hub.hooks: production pays nothing else.
type hubHooks struct {
	// offRounds counts the views of in-memory pages handed to a round
	// off the hub goroutine (for their cost, see offHubCost).
	offRounds atomic.Int64
	// wakes counts the model's wake-ups the hub took (see flushArmed).
	wakes atomic.Int64
	// eventPagePushes counts the messages of lines built for Events pages.
	eventPagePushes atomic.Int64
	// eventReads counts the reads of events (readEvents) flushes made.
	eventReads atomic.Int64
	// afterVersions, when set, is called by each flush right after it
	// read the model's versions.
	afterVersions func(model.Versions)
	// waiting, when set, is called each time Run goes back to waiting;
	// idle says that no flush is armed and no wake-up of the model
	// waits, so nothing but a new change or message flushes again.
	waiting func(idle bool)
}

type viewMsg struct {
	c     *client
	page  string
	query string
}

// NewHub returns a hub; call Run.
func NewHub(store *model.Store, h *handlers.Handlers, stats StatsRefresher, log *slog.Logger) *Hub {
	return &Hub{
		store: store, h: h, stats: stats, log: log,
		register:      make(chan *client),
		unregister:    make(chan *client),
		views:         make(chan viewMsg, 64),
		results:       make(chan renderResult),
		statsDone:     make(chan error),
		clients:       map[*client]struct{}{},
		seed:          maphash.MakeSeed(),
		SendQueue:     256,
		RenderTimeout: renderTimeout,
		WriteWait:     writeWait,
		behind:        map[*client]struct{}{},
		renders:       map[string]*pageRenders{},
		renderErr:     map[string]string{},
		paces:         map[string]*pace{},
	}
}

// Run serves clients until ctx ends, then closes them all.
func (hb *Hub) Run(ctx context.Context) {
	hb.ctx = ctx
	wake, unsub := hb.store.Subscribe()
	defer unsub()
	vers := hb.store.Versions()
	gens, silent := vers.Gen, vers.Silent
	evCur := eventCursor{api: vers.Seq, page: vers.Seq}
	viewSeq := vers.Seq // the events the views were last checked against (showable)
	hb.status = hb.h.Status()
	srcs := followSources(ctx, hb.h.Pages())
	hb.tick = tickOf(hb.h.Pages())
	ticker := time.NewTicker(hb.tick)
	defer ticker.Stop()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var timerAt time.Time // when the timer fires; zero: not armed
	arm := func(at time.Time) {
		if timerAt.IsZero() || at.Before(timerAt) {
			timer.Reset(time.Until(at))
			timerAt = at
		}
	}
	var lastFlush time.Time

	flush := func() {
		defer hubRegion("flush", "")()
		lastFlush = time.Now()
		// A wake-up kept while the flush was armed is for a change this
		// read counts (Wake follows the change's publishing): taken now,
		// it costs no second, empty flush. A change after the read leaves
		// a wake-up of its own.
		select {
		case <-wake:
		default:
		}
		v := hb.store.Versions()
		if hb.hooks != nil && hb.hooks.afterVersions != nil {
			hb.hooks.afterVersions(v)
		}
		var changed, hushed []model.Kind
		for _, k := range model.Kinds() {
			if v.Gen[k] != gens[k] {
				changed = append(changed, k)
			}
			if v.Silent[k] != silent[k] {
				hushed = append(hushed, k)
			}
		}
		gens, silent = v.Gen, v.Silent
		changedSrcs := srcs.changed()
		if st := hb.h.Status(); st != hb.status {
			hb.status = st
			hb.broadcastStatus(st)
		}
		shows, read := hb.showable(changed, hushed, &viewSeq, v.Seq)
		hb.pushViews(func(c *client) bool {
			hit := slices.ContainsFunc(changed, func(k model.Kind) bool { return slices.Contains(c.spec.Kinds, k) })
			if c.viewDirty || follows(c.spec, changedSrcs) || (hit && shows(c)) {
				c.lateSince = time.Time{}
				return true
			}
			if hit && c.lateSince.IsZero() {
				c.lateSince = lastFlush
			}
			return hb.lateDue(c, lastFlush)
		})
		hb.pushEvents(&evCur, read, v.Seq, lastFlush)
		hb.resync()
		hb.resumeRenders(time.Now())
	}
	// poke flushes now, or arms the timer when the last flush was recent.
	// The timer may be armed for a paced page's due time, later than the
	// coalesce interval: a change must not wait for it.
	poke := func() {
		if hb.flushArmed(timerAt, lastFlush) {
			return // a flush comes soon enough
		}
		due := lastFlush.Add(coalesce)
		if time.Now().Before(due) {
			arm(due)
			return
		}
		flush()
	}

	for {
		// While a flush is armed within the coalesce interval the hub
		// does not listen for the model's wake-ups: that flush reads the
		// model's versions anyway, and the channel keeps one wake-up for
		// after it. Under a thousand route changes a second each change
		// then costs the watcher a channel send, not a wake-up of the
		// hub's goroutine that only arms the timer already armed.
		listen := wake
		if hb.flushArmed(timerAt, lastFlush) {
			listen = nil
		}
		if hb.hooks != nil && hb.hooks.waiting != nil {
			hb.hooks.waiting(timerAt.IsZero() && len(wake) == 0)
		}
		select {
		case <-ctx.Done():
			for c := range hb.clients {
				hb.drop(c)
			}
			return
		case c := <-hb.register:
			end := hubRegion("register", "")
			hb.clients[c] = struct{}{}
			hb.count.Store(int64(len(hb.clients)))
			hb.emit(c, statusMsg(hb.status))
			end()
		case c := <-hb.unregister:
			hb.drop(c)
		case v := <-hb.views:
			// A view is rendered by the next flush, so a client sending
			// views as fast as it can gets at most one render per
			// coalesce interval.
			end := hubRegion("view", v.page)
			if hb.setView(v) {
				poke()
			}
			end()
		case <-listen:
			if hb.hooks != nil {
				hb.hooks.wakes.Add(1)
			}
			poke()
		case <-srcs.wake:
			poke()
		case <-timer.C:
			timerAt = time.Time{}
			flush()
		case r := <-hb.results:
			end := hubRegion("rendered", r.page)
			hb.rendered(r)
			end()
		case err := <-hb.statsDone:
			end := hubRegion("stats", "")
			hb.statsRefreshed(err)
			end()
		case <-ticker.C:
			end := hubRegion("tick", "")
			hb.periodic()
			end()
		}
		// Whatever held a render back by its pace (a flush, a round's
		// end, a tick) is flushed again when it is due.
		if !hb.nextDue.IsZero() {
			arm(hb.nextDue)
			hb.nextDue = time.Time{}
		}
		hb.send()
	}
}

// flushArmed reports whether the timer, armed for at, brings a flush no
// later than a change would (the coalesce interval after the last flush
// at last): a change meanwhile need not wake the hub. A timer armed for a
// paced page's due time, later than that, does not count.
func (hb *Hub) flushArmed(at, last time.Time) bool {
	return !at.IsZero() && !at.After(last.Add(coalesce))
}

// setView records the page a client shows; it reports whether there is a
// view to render.
func (hb *Hub) setView(v viewMsg) bool {
	c := v.c
	if _, ok := hb.clients[c]; !ok {
		return false
	}
	p, ok := hb.h.Page(v.page)
	if !ok {
		c.page, c.key, c.query, c.spec = "", "", nil, handlers.Live{}
		// A client may send thousands of these: one line per connection.
		if v.page != "" && !c.warnedView {
			c.warnedView = true
			hb.log.Warn("WebSocket view of a page that has no live view; later ones on this connection are not logged",
				"page", truncate(v.page, 64))
		}
		return false
	}
	q, err := url.ParseQuery(v.query)
	if err != nil {
		q = url.Values{}
	}
	c.page, c.query, c.spec, c.key = v.page, q, p.Live, v.page+"?"+q.Encode()
	c.last = map[string]uint64{}
	c.viewDirty = true
	hb.emit(c, statusMsg(hb.status))
	// A page of rates shows the last ones at once, not after the next
	// sample.
	if p.Live.Counters > 0 {
		if hb.lastStats == nil {
			hb.lastStats = hb.statsMsg()
		}
		if hb.lastStats != nil {
			hb.emit(c, hb.lastStats)
		}
	}
	return true
}

// pushViews renders each distinct view among the selected clients once and
// queues the fragments that differ from what each client last got. Views
// of IO pages are handed to their page's renderer instead.
func (hb *Hub) pushViews(sel func(*client) bool) {
	type group struct {
		page  string
		query url.Values
		io    bool
		pace  time.Duration // the page's Live.Pace
		cs    []*client
	}
	groups := map[string]*group{}
	for c := range hb.clients {
		if c.page == "" || c.events || !sel(c) {
			continue
		}
		c.viewDirty = false
		if c.isBehind {
			continue // it asks for its view again after the resync
		}
		g := groups[c.key]
		if g == nil {
			g = &group{page: c.page, query: c.query, io: c.spec.IO, pace: c.spec.Pace}
			groups[c.key] = g
		}
		g.cs = append(g.cs, c)
	}
	// Cheap views first, each sent as soon as it is rendered: a change
	// shown by a cheap page (a page of routes) must not wait for the
	// renders of heavy ones in the same step.
	keys := make([]string, 0, len(groups))
	costs := make(map[string]time.Duration, len(groups))
	for key, g := range groups {
		keys = append(keys, key)
		costs[key] = hb.cost(g.page)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(costs[a], costs[b]) })
	// A page's pace is decided once for all its views, and its renders
	// in this step count together towards its next one.
	now := time.Now()
	may := map[string]bool{}
	took := map[string]time.Duration{}
	floor := map[string]time.Duration{}
	for _, key := range keys {
		g := groups[key]
		ok, seen := may[g.page]
		if !seen {
			ok = hb.mayRender(g.page, now)
			may[g.page] = ok
		}
		if !ok {
			// Held back by its pace: rendered by the flush when it is due.
			for _, c := range g.cs {
				c.viewDirty = true
			}
			continue
		}
		if g.io || hb.offHub(g.page) {
			if !g.io && hb.hooks != nil {
				hb.hooks.offRounds.Add(1)
			}
			hb.requestRender(g.page, g.pace, key, g.query)
			continue
		}
		t0 := time.Now()
		end := hubRegion("render", g.page)
		frags, err := hb.h.Live(context.Background(), g.page, g.query)
		end()
		took[g.page] += time.Since(t0)
		floor[g.page] = g.pace
		if err != nil {
			hb.renderFailed(g.page, err)
			continue
		}
		hb.renderOK(g.page)
		hb.deliver(g.cs, frags)
		hb.send()
	}
	for page, d := range took {
		hb.paced(page, time.Now(), d, floor[page])
	}
}

// deliver queues to each client the fragments that differ from what it
// last got; each distinct fragment is encoded once.
func (hb *Hub) deliver(cs []*client, frags []handlers.Fragment) {
	for _, f := range frags {
		sum := maphash.Bytes(hb.seed, f.HTML)
		var msg []byte
		for _, c := range cs {
			if c.isBehind || c.last[f.Target] == sum {
				continue
			}
			if msg == nil {
				typ := "html"
				if f.Rows {
					typ = "rows"
				}
				msg, _ = json.Marshal(fragmentMsg{HTML: string(f.HTML), Target: f.Target, Type: typ})
			}
			c.last[f.Target] = sum
			hb.emit(c, msg)
		}
	}
}

// fragmentMsg is a page frame. Its fields are in the order encoding/json
// writes a map's keys, so it is the bytes a map made before, without a
// map built and sorted per fragment.
type fragmentMsg struct {
	HTML   string `json:"html"`
	Target string `json:"target"`
	Type   string `json:"type"`
}

// renderFailed logs a page's render error once, not on every change.
func (hb *Hub) renderFailed(page string, err error) {
	if hb.renderErr[page] == err.Error() {
		return
	}
	hb.renderErr[page] = err.Error()
	hb.log.Warn("live render failed", "page", page, "err", err)
}

func (hb *Hub) renderOK(page string) { delete(hb.renderErr, page) }

// eventsEvery is how often at most an Events page gets new lines (a
// variable: tests hold them back). A page read by a person needs no 500
// frames a second under a storm of changes: each cost the hub a
// formatting and the page's writer a compressed write. The first event
// after a quiet spell goes out at once; API streams get every flush's.
var eventsEvery = 100 * time.Millisecond

// eventCursor is the last event sent to API streams and to Events pages,
// and when pages last got lines.
type eventCursor struct {
	api, page uint64
	pageAt    time.Time
}

// pushEvents sends new event lines, up to last (the flush's Versions.Seq),
// to API streams and, when eventsEvery allows or maxEventsOut/2 wait, to
// Events pages; read is the flush's copy of the event ring when showable
// made one. When both read from the same event, the events are read and
// formatted once for both. That happens after a quiet spell, not in a
// storm, when the streams take events at every flush and the pages
// every eventsEvery: the pages' lines cannot be cut out of the streams'
// batches, since a line's text depends on where its batch starts (link
// names follow renames within a batch).
func (hb *Hub) pushEvents(cur *eventCursor, read *eventsRead, last uint64, now time.Time) {
	defer hubRegion("events", "")()
	var pages, apis []*client
	for c := range hb.clients {
		switch {
		case c.events:
			apis = append(apis, c)
		case c.spec.Events:
			pages = append(pages, c)
		}
	}
	pagesDue := false
	switch {
	case len(pages) == 0:
		cur.page, cur.pageAt = last, time.Time{}
	case cur.page >= last:
	case now.Before(cur.pageAt.Add(eventsEvery)) && last-cur.page < maxEventsOut/2:
		// Paced: the lines wait for the next send, unless they near
		// what one message carries (maxEventsOut), which a faster storm
		// would fill before eventsEvery and lose.
		hb.flushAt(cur.pageAt.Add(eventsEvery))
	default:
		pagesDue = true
	}
	var shared *eventBatch // the API streams' read, when the pages' is the same
	// Nobody watching: skip copying the events out of the ring.
	if len(apis) == 0 {
		cur.api = last
	} else if cur.api < last {
		b := hb.readEvents(read, cur.api)
		if pagesDue && cur.page == cur.api {
			shared = &b
		}
		cur.api = b.next
		hb.pushEventsToAPIs(apis, &b)
	}
	if pagesDue {
		b := shared
		if b == nil {
			r := hb.readEvents(read, cur.page)
			b = &r
		}
		cur.page, cur.pageAt = b.next, now
		hb.pushEventsToPages(pages, b)
	}
}

// eventBatch is the events after a sequence number, formatted.
type eventBatch struct {
	evs           []model.Event
	next, dropped uint64
	names         *model.Names
	lines         []handlers.EventLine // of evs, in order
}

// readEvents reads the events after seq from the flush's read, or the
// store when the read does not hold them, and formats them.
func (hb *Hub) readEvents(read *eventsRead, seq uint64) eventBatch {
	if hb.hooks != nil {
		hb.hooks.eventReads.Add(1)
	}
	evs, next, dropped, ok := read.since(seq, maxEventsOut)
	if !ok {
		evs, next, dropped = hb.store.EventsSince(seq, maxEventsOut)
	}
	b := eventBatch{evs: evs, next: next, dropped: dropped}
	if len(evs) > 0 {
		b.names = hb.h.Names()
		b.lines = handlers.EventLines(evs, b.names, hb.h.Netns())
	}
	return b
}

// pushEventsToPages sends event lines to Events pages, one message for all.
func (hb *Hub) pushEventsToPages(pages []*client, b *eventBatch) {
	if len(b.evs) == 0 && b.dropped == 0 {
		return
	}
	if hb.hooks != nil {
		hb.hooks.eventPagePushes.Add(1)
	}
	type line struct {
		Seq  uint64 `json:"seq"`
		Kind string `json:"kind"`
		Text string `json:"text"`
		Time string `json:"time"`
	}
	out := make([]line, 0, len(b.lines))
	for _, l := range b.lines {
		out = append(out, line{l.Seq, l.Kind, l.Text, l.Time.Format("15:04:05.000")})
	}
	msg, _ := json.Marshal(struct {
		Dropped uint64 `json:"dropped"`
		Lines   []line `json:"lines"`
		Type    string `json:"type"`
	}{b.dropped, out, "events"})
	for _, c := range pages {
		hb.emit(c, msg)
	}
}

// pushEventsToAPIs sends each event as a message of its own to API streams.
func (hb *Hub) pushEventsToAPIs(apis []*client, b *eventBatch) {
	if len(b.evs) == 0 && b.dropped == 0 {
		return
	}
	var frames [][]byte
	if b.dropped > 0 {
		f, _ := json.Marshal(map[string]any{"type": "dropped", "count": b.dropped})
		frames = append(frames, f)
	}
	for i := range b.evs {
		f, _ := json.Marshal(handlers.EventJSONOf(&b.evs[i], b.names, b.lines[i].Text))
		frames = append(frames, f)
	}
	for _, c := range apis {
		for _, f := range frames {
			hb.emit(c, f)
		}
	}
}

// periodic refreshes what has no kernel events, for the pages someone
// shows, each at the period its declaration names: its render
// (Live.Every) or the link counters it streams (Live.Counters).
func (hb *Hub) periodic() {
	hb.ticks++
	hb.resync()
	render := map[string]bool{} // pages whose render is due
	counters := false
	for c := range hb.clients {
		if c.page == "" || c.events {
			continue
		}
		if _, seen := render[c.page]; !seen {
			render[c.page] = hb.due(c.spec.Every)
		}
		counters = counters || hb.due(c.spec.Counters)
	}
	hb.pushViews(func(c *client) bool { return render[c.page] })
	if counters {
		hb.refreshStats()
	}
}

// due reports whether something refreshed every period is due at this
// tick; 0 is never.
func (hb *Hub) due(every time.Duration) bool {
	if every <= 0 {
		return false
	}
	n := max(1, int64((every+hb.tick/2)/hb.tick))
	return hb.ticks%n == 0
}

// tickOf is the hub's tick for pages: their shortest period.
func tickOf(pages []handlers.Page) time.Duration {
	t := time.Duration(0)
	for _, p := range pages {
		for _, d := range []time.Duration{p.Live.Every, p.Live.Counters} {
			if d > 0 && (t == 0 || d < t) {
				t = d
			}
		}
	}
	if t == 0 {
		return defaultTick
	}
	return max(t, minTick)
}

func (hb *Hub) broadcastStatus(st views.Status) {
	msg := statusMsg(st)
	sync, err := syncMsg(st)
	for c := range hb.clients {
		if c.events {
			continue
		}
		hb.emit(c, msg)
		if err == nil {
			hb.emit(c, sync)
		}
	}
}

func (hb *Hub) drop(c *client) {
	if _, ok := hb.clients[c]; !ok {
		return
	}
	delete(hb.clients, c)
	if _, ok := hb.behind[c]; ok {
		delete(hb.behind, c)
		hb.nBehind.Store(int64(len(hb.behind)))
	}
	hb.count.Store(int64(len(hb.clients)))
	close(c.send)
}

// ClientCount returns the number of connected clients.
func (hb *Hub) ClientCount() int { return int(hb.count.Load()) }

// Behind returns the number of clients that fell behind and are owed a
// resync frame.
func (hb *Hub) Behind() int { return int(hb.nBehind.Load()) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
