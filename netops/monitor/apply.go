package monitor

import (
	"log/slog"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// apply decodes one message and applies it. The same function reads a
// dump and the events after it. Malformed messages are logged and skipped
// (the kernel does not send them; a bad one must not stop the stream).
func apply(w *model.Applier, m rtnl.Message, log *slog.Logger) {
	var err error
	var what string
	switch m.Type {
	case unix.RTM_NEWLINK, unix.RTM_DELLINK:
		var l model.Link
		var skip bool
		if l, skip, err = codec.DecodeLink(m.Body); err == nil && !skip {
			w.Link(l, m.Type == unix.RTM_DELLINK)
		}
		what = "link"
	case unix.RTM_NEWADDR, unix.RTM_DELADDR:
		var a model.Addr
		if a, err = codec.DecodeAddr(m.Body); err == nil {
			w.Addr(a, m.Type == unix.RTM_DELADDR)
		}
		what = "address"
	case unix.RTM_NEWROUTE, unix.RTM_DELROUTE:
		// A plain route added (a dump's nearly every one) goes into the
		// model as the message's bytes; any other, and a bad one, as a
		// Route.
		if m.Type == unix.RTM_NEWROUTE && m.Flags&unix.NLM_F_REPLACE == 0 {
			var raw model.RawRoute
			if codec.DecodeRawRoute(m.Body, &raw) && w.RawRoute(&raw) {
				return
			}
		}
		var r model.Route
		var skip bool
		if r, skip, err = codec.DecodeRoute(m.Body); err == nil && !skip {
			w.Route(r, m.Type == unix.RTM_DELROUTE, m.Flags&unix.NLM_F_REPLACE != 0)
		}
		what = "route"
	case unix.RTM_NEWRULE, unix.RTM_DELRULE:
		var r model.Rule
		// Multicast routing (ipmr) rules share the message type; skip them.
		if r, err = codec.DecodeRule(m.Body); err == nil && (r.Family == unix.AF_INET || r.Family == unix.AF_INET6) {
			w.Rule(r, m.Type == unix.RTM_DELRULE)
		}
		what = "rule"
	case unix.RTM_NEWNEIGH, unix.RTM_DELNEIGH:
		var n model.Neigh
		var skip bool
		if n, skip, err = codec.DecodeNeigh(m.Body); err == nil && !skip {
			w.Neigh(n, m.Type == unix.RTM_DELNEIGH)
		}
		what = "neighbour"
	case unix.RTM_NEWNEXTHOP, unix.RTM_DELNEXTHOP:
		var nh model.NexthopObject
		if nh, err = codec.DecodeNexthop(m.Body); err == nil {
			w.Nexthop(nh, m.Type == unix.RTM_DELNEXTHOP)
		}
		what = "nexthop"
	}
	if err != nil && log != nil {
		log.Warn("skipping malformed netlink message", "kind", what, "err", err)
	}
}
