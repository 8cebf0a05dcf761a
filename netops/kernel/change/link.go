package change

import (
	"strconv"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
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

// withLink resolves the link (see Target.linkAt) and sends the change
// that body writes: an RTM_NEWLINK for its index with the IFF_* flags
// under change set to flags. Errors come back explained.
func withLink(op Op, t *Target, idx int32, name string, flags, change uint32, body func(w *rtnl.Writer)) error {
	l, err := t.linkAt(idx, name)
	if err != nil {
		return Explain(op, err)
	}
	return Explain(op, t.request(unix.RTM_NEWLINK, 0, codec.LinkChange(l.Index, flags, change, body)))
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
