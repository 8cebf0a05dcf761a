package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/views"
)

const (
	writeWait  = 10 * time.Second
	pongWait   = 60 * time.Second
	pingPeriod = pongWait * 9 / 10
	maxMessage = 4096
	// compressMin is the smallest message sent compressed.
	compressMin = 1024
)

// client is one WebSocket connection. The hub goroutine owns its view
// fields; its writer goroutine owns the connection's writes.
type client struct {
	conn   *websocket.Conn
	send   chan []wsMsg // items of one or more WebSocket messages
	events bool         // an /api/v1/events stream rather than a page

	page      string
	query     url.Values
	key       string // page and query: clients with one key share renders
	spec      handlers.Live
	viewDirty bool              // its view changed and awaits a render
	lateSince time.Time         // the first change it cannot show since its last render (Live.Shows)
	last      map[string]uint64 // hash of the last fragment sent per target

	out        [][]byte // messages gathered in this hub step
	isBehind   bool     // its queue was full: it is owed a resync frame
	missed     int      // event messages not sent while behind
	warnedView bool     // a view of an unknown page was logged
}

// queue hands an item to the writer without ever blocking the hub; it
// reports false when the client's queue is full.
func (c *client) queue(msg []wsMsg) bool {
	select {
	case c.send <- msg:
		return true
	default:
		return false
	}
}

// sameOrigin accepts requests whose Origin names the host they were sent
// to. Browsers always send Origin on WebSocket upgrades, so a cross-site
// page cannot open one; clients without Origin are not browsers.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return u.Host == r.Host
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:    1024,
	WriteBufferSize:   16 << 10,
	CheckOrigin:       sameOrigin,
	EnableCompression: true,
}

// ServePages upgrades /ws: the live channel of a page tab.
func (hb *Hub) ServePages(w http.ResponseWriter, r *http.Request) { hb.serve(w, r, false) }

// ServeEvents upgrades /api/v1/events: the event stream as JSON.
func (hb *Hub) ServeEvents(w http.ResponseWriter, r *http.Request) { hb.serve(w, r, true) }

func (hb *Hub) serve(w http.ResponseWriter, r *http.Request, events bool) {
	if !sameOrigin(r) {
		refuseWith(w, r, http.StatusForbidden, "cross-origin WebSocket refused")
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		// Upgrade would answer a bare "Bad Request".
		refuseWith(w, r, http.StatusBadRequest, r.URL.Path+" is a WebSocket: open it with a WebSocket client "+
			"(a GET with Connection: Upgrade and Upgrade: websocket); a plain GET gets no events")
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client
	}
	if hb.onUpgrade != nil {
		defer hb.onUpgrade(r, conn)()
	}
	// The queue bounds how far a client may fall behind; one that fills it
	// is sent a resync frame when it has room again.
	c := &client{conn: conn, send: make(chan []wsMsg, hb.SendQueue), events: events, last: map[string]uint64{}}
	select {
	case hb.register <- c:
	case <-r.Context().Done():
		conn.Close()
		return
	}
	go hb.writePump(c, hb.WriteWait)
	hb.readPump(r.Context(), c)
}

// readPump reads view messages until the connection ends.
func (hb *Hub) readPump(ctx context.Context, c *client) {
	defer func() {
		select {
		case hb.unregister <- c:
		case <-ctx.Done():
		}
		c.conn.Close()
	}()
	c.conn.SetReadLimit(maxMessage)
	_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var m struct {
			Type  string `json:"type"`
			Page  string `json:"page"`
			Query string `json:"query"`
		}
		if json.Unmarshal(data, &m) != nil || m.Type != "view" || c.events {
			continue // ignore what we do not understand rather than fail
		}
		select {
		case hb.views <- viewMsg{c: c, page: m.Page, query: m.Query}:
		case <-ctx.Done():
			return
		}
	}
}

// writePump writes queued messages and pings; it ends when the hub closes
// the queue or a write fails.
func (hb *Hub) writePump(c *client, wait time.Duration) {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case item, ok := <-c.send:
			if !ok {
				_ = c.conn.SetWriteDeadline(time.Now().Add(wait))
				_ = c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "dropped"))
				return
			}
			for _, msg := range item {
				_ = c.conn.SetWriteDeadline(time.Now().Add(wait))
				// Where permessage-deflate was negotiated, a small message
				// goes as it is (the extension lets each message choose):
				// compressing a status or a row of a few hundred bytes
				// saves nothing and costs both ends a compressor's setup.
				c.conn.EnableWriteCompression(len(msg.data) >= compressMin)
				var err error
				if msg.pm != nil {
					err = c.conn.WritePreparedMessage(msg.pm)
				} else {
					err = c.conn.WriteMessage(websocket.TextMessage, msg.data)
				}
				if err != nil {
					return
				}
			}
		case <-ticker.C:
			_ = c.conn.SetWriteDeadline(time.Now().Add(wait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

func statusMsg(st views.Status) []byte {
	m := handlers.EventsStatusJSON{Type: "status", State: st.State, Text: st.Text}
	if st.Progress != "" {
		if p, err := strconv.ParseFloat(st.Progress, 64); err == nil {
			m.Progress = &p
		}
	}
	b, _ := json.Marshal(m)
	return b
}

func syncMsg(st views.Status) ([]byte, error) {
	var buf bytes.Buffer
	if err := views.SyncProgress(st).Render(context.Background(), &buf); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]string{"type": "html", "target": "sync", "html": buf.String()})
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
