package handlers

import (
	"time"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
)

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

// EventJSONOf prints event e; text is its ip monitor line (EventLines).
func EventJSONOf(e *model.Event, n *model.Names, text string) EventJSON {
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
	case e.Nexthop != nil:
		j.Object = iproute.NexthopObjectJSON(e.Nexthop, n, false)
	}
	return j
}
