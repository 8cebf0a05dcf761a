package change

import (
	"github.com/netpanel/netpanel/netops"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Helpers shared by the link ops.

// modelLink finds a link in the model, or reports it on field.
func modelLink(m Model, field, name string) (netops.Link, error) {
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
	return Touch{Kind: netops.KindLink, Link: name, Down: down}
}

// explainLink covers the errors every link op can meet.
func explainLink(name string, errno unix.Errno) string {
	switch errno {
	case unix.ENODEV:
		return "no link named " + quote(name)
	}
	return ""
}

// withLink resolves name through h and runs fn with it, explaining errors.
func withLink(op Op, h *netlink.Handle, name string, fn func(netlink.Link) error) error {
	l, err := linkByName(h, name)
	if err != nil {
		return Explain(op, err)
	}
	return Explain(op, fn(l))
}
