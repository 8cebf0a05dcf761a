package change

import (
	"errors"
	"fmt"
	"sync"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Target is where ops apply: a netlink socket in the managed namespace,
// speaking the messages of package codec. Every op sends its own request
// there, so no op needs to know the namespace. A Target is safe for
// concurrent use; requests are sent one at a time.
type Target struct {
	conn *conn
	// undo is set on the target an Undo applies through (see Undo): it
	// follows links that had to be recreated under another ifindex.
	undo *Undo
}

// conn is one socket, shared by a Target and the Undo views of it.
type conn struct {
	mu sync.Mutex
	c  *rtnl.Conn
	ns netns.NsHandle
}

// Dial opens a target in ns (netns.None() for the caller's own
// namespace). The caller keeps ownership of ns.
func Dial(ns netns.NsHandle) (*Target, error) {
	c, err := rtnl.Dial(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	return &Target{conn: &conn{c: c, ns: ns}}, nil
}

// Netns is the namespace the target changes, for ops of other netlink
// families (nftables) that open their own socket there. It belongs to
// the caller of Dial.
func (t *Target) Netns() netns.NsHandle { return t.conn.ns }

// Close closes the socket.
func (t *Target) Close() error { return t.conn.c.Close() }

// Request sends one request that package codec encoded (one no op
// covers, such as moving a link to another namespace) and waits for the
// kernel's answer.
func (t *Target) Request(typ, flags uint16, body []byte) error { return t.request(typ, flags, body) }

// request sends a change and waits for the kernel's answer.
func (t *Target) request(typ, flags uint16, body []byte) error {
	t.conn.mu.Lock()
	defer t.conn.mu.Unlock()
	return t.conn.c.Request(typ, flags, body)
}

// query sends a request the kernel answers with objects.
func (t *Target) query(typ uint16, body []byte, fn func(rtnl.Message)) error {
	t.conn.mu.Lock()
	defer t.conn.mu.Unlock()
	return t.conn.c.Query(typ, 0, body, fn)
}

// dump reads every object of a kind, repeating a dump the kernel flags
// as interrupted.
func (t *Target) dump(typ uint16, hdr []byte, fn func(rtnl.Message)) error {
	t.conn.mu.Lock()
	defer t.conn.mu.Unlock()
	var err error
	for range 5 {
		var msgs []rtnl.Message
		err = t.conn.c.Dump(typ, hdr, func(m rtnl.Message) {
			m.Body = append([]byte(nil), m.Body...)
			msgs = append(msgs, m)
		})
		if errors.Is(err, rtnl.ErrDumpInterrupted) {
			continue
		}
		if err == nil {
			for _, m := range msgs {
				fn(m)
			}
		}
		return err
	}
	return err
}

// link asks the kernel for one link, by ifindex or, with 0, by name.
func (t *Target) link(idx int32, name string) (model.Link, error) {
	var l model.Link
	found := false
	err := t.query(unix.RTM_GETLINK, codec.LinkRef(idx, name), func(m rtnl.Message) {
		if d, skip, err := codec.DecodeLink(m.Body); err == nil && !skip && !found {
			l, found = d, true
		}
	})
	if err == nil && !found {
		err = unix.ENODEV
	}
	return l, err
}

// linkByName resolves a name at apply time, so a link renamed since the
// model was read is not confused with another.
func (t *Target) linkByName(name string) (model.Link, error) {
	l, err := t.link(0, name)
	if errors.Is(err, unix.ENODEV) {
		return l, &KernelError{Err: unix.ENODEV, Msg: "no link named " + quote(name)}
	}
	return l, err
}

// linkAt finds the link an op works on when it applies: by ifindex when
// the op carries one, else by name. Inverses carry the index, because a
// later change of the same stack may have renamed the link, and during an
// Undo the index is followed to a link recreated in its place.
func (t *Target) linkAt(idx int32, name string) (model.Link, error) {
	if idx == 0 {
		return t.linkByName(name)
	}
	idx = t.current(idx)
	l, err := t.link(idx, "")
	if errors.Is(err, unix.ENODEV) {
		return l, &KernelError{Err: unix.ENODEV, Msg: fmt.Sprintf("the link that was %s (index %d) no longer exists", quote(name), idx)}
	}
	return l, err
}

// indexAt is linkAt for ops that only need the index (a route's or an
// address's device); no name and no index means no device.
func (t *Target) indexAt(idx int32, name string) (int32, error) {
	if idx == 0 && name == "" {
		return 0, nil
	}
	l, err := t.linkAt(idx, name)
	return l.Index, err
}

// current follows an ifindex to the link recreated in its place during
// an Undo.
func (t *Target) current(idx int32) int32 {
	if t.undo == nil {
		return idx
	}
	return t.undo.current(idx)
}

// moved records that the link that had ifindex old now has now.
func (t *Target) moved(old, now int32) {
	if t.undo != nil {
		t.undo.moved(old, now)
	}
}

// addrs lists the kernel's addresses of a family on link idx.
func (t *Target) addrs(family uint8, idx int32) ([]model.Addr, error) {
	return dumped(t, unix.RTM_GETADDR, family, unix.SizeofIfAddrmsg, func(b []byte) (a model.Addr, ok bool) {
		a, err := codec.DecodeAddr(b)
		return a, err == nil && a.LinkIndex == idx && a.Family == family
	})
}

// routes lists the kernel's routes of a family in table.
func (t *Target) routes(family uint8, table uint32) ([]model.Route, error) {
	return dumped(t, unix.RTM_GETROUTE, family, unix.SizeofRtMsg, func(b []byte) (model.Route, bool) {
		r, skip, err := codec.DecodeRoute(b)
		return r, err == nil && !skip && r.Table == table && r.Family == family
	})
}

// neighs lists the kernel's neighbour entries of a family on link idx.
func (t *Target) neighs(family uint8, idx int32) ([]model.Neigh, error) {
	return dumped(t, unix.RTM_GETNEIGH, family, unix.SizeofNdMsg, func(b []byte) (model.Neigh, bool) {
		n, skip, err := codec.DecodeNeigh(b)
		return n, err == nil && !skip && n.LinkIndex == idx
	})
}

// dumped dumps one kind of object of a family (its header hdrLen bytes,
// the family first) and keeps what decode accepts.
func dumped[T any](t *Target, typ uint16, family uint8, hdrLen int, decode func([]byte) (T, bool)) ([]T, error) {
	var out []T
	hdr := make([]byte, hdrLen)
	hdr[0] = family
	err := t.dump(typ, hdr, func(m rtnl.Message) {
		if v, ok := decode(m.Body); ok {
			out = append(out, v)
		}
	})
	return out, err
}

// RouteGet asks the kernel which route it would use for g (`ip route
// get`); the kernel's refusal (ENETUNREACH, EACCES, ...) comes back as
// the error.
func (t *Target) RouteGet(g *codec.RouteGet) (model.Route, error) {
	var r model.Route
	found := false
	err := t.query(unix.RTM_GETROUTE, codec.EncodeRouteGet(g), func(m rtnl.Message) {
		if d, err := codec.DecodeRouteGet(m.Body); err == nil && !found {
			r, found = d, true
		}
	})
	if err == nil && !found {
		err = errors.New("the kernel answered the route lookup with no route")
	}
	return r, err
}

// Link returns the link named name as the kernel has it now.
func (t *Target) Link(name string) (model.Link, error) { return t.linkByName(name) }

// LinkIndex returns the ifindex of the link named name now.
func (t *Target) LinkIndex(name string) (int32, error) {
	l, err := t.linkByName(name)
	return l.Index, err
}

// LinkName returns the name of the link with ifindex idx now.
func (t *Target) LinkName(idx int32) (string, error) {
	l, err := t.link(idx, "")
	return l.Name, err
}
