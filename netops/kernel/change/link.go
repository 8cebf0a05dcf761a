package change

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Helpers shared by the link ops.

// modelLink finds a link in the model, or reports it on field.
func modelLink(m Model, field, name string) (model.Link, error) {
	l, ok := m.LinkByName(name)
	if !ok {
		return l, FieldErrors{field: "no link named " + quote(name)}
	}
	return l, nil
}

// linkNameAt returns the name of the link with index idx in the model.
func linkNameAt(m Model, idx int32) (string, bool) {
	for _, l := range m.Links() {
		if l.Index == idx {
			return l.Name, true
		}
	}
	return "", false
}

func linkTouch(name string, down bool) Touch {
	return Touch{Kind: model.KindLink, Link: name, Down: down}
}

// explainLink covers the errors every link op can meet.
func explainLink(name string, errno unix.Errno) string {
	switch errno {
	case unix.ENODEV:
		return "no link named " + quote(name)
	}
	return ""
}

// withLink resolves the link (see linkAt) and runs fn with it, explaining
// errors.
func withLink(op Op, h *netlink.Handle, m Model, idx int32, name string, fn func(netlink.Link) error) error {
	l, err := linkAt(h, m, idx, name)
	if err != nil {
		return Explain(op, err)
	}
	return Explain(op, fn(l))
}

// linkAt finds the link an op works on when it applies: by ifindex when
// the op carries one, else by name. Inverses carry the index, because a
// later change of the same stack may have renamed the link, and during an
// Undo the index is followed to a link recreated in its place.
func linkAt(h *netlink.Handle, m Model, idx int32, name string) (netlink.Link, error) {
	if idx == 0 {
		return linkByName(h, name)
	}
	if u, ok := m.(*Undo); ok {
		idx = u.current(idx)
	}
	l, err := h.LinkByIndex(int(idx))
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return nil, &KernelError{Err: unix.ENODEV, Msg: fmt.Sprintf("the link that was %s (index %d) no longer exists", quote(name), idx)}
		}
		return nil, err
	}
	return l, nil
}

// indexAt is linkAt for ops that only need the index (a route's or an
// address's device); no name and no index means no device.
func indexAt(h *netlink.Handle, m Model, idx int32, name string) (int, error) {
	if idx == 0 && name == "" {
		return 0, nil
	}
	if idx == 0 {
		return linkIndex(h, name)
	}
	l, err := linkAt(h, m, idx, name)
	if err != nil {
		return 0, err
	}
	return l.Attrs().Index, nil
}

// linkLabel is how a command names a link: its current name when the op
// addresses it by index and n knows that index, else the recorded name.
func linkLabel(n Names, idx int32, name string) string {
	if n != nil && idx != 0 {
		if s := n.LinkName(idx); s != "" && s != "if"+strconv.Itoa(int(idx)) {
			return s
		}
	}
	return name
}
