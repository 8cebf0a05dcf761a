package change

import (
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// LinkRename renames a link (`ip link set dev wan name uplink`).
//
// Kernels before 6.2 rename only links that are down and answer EBUSY
// otherwise; newer ones (this project's test machines run 6.18) rename
// links that are up too. Check therefore leaves the decision to the
// kernel, and Explain says what to do when an older one refuses.
type LinkRename struct {
	Name    string
	NewName string
	Index   int32 // ifindex, set by inverses (names change); 0: find the link by Name
}

// ParseLinkRename reads the current and the new name.
func ParseLinkRename(name, newName string) (*LinkRename, error) {
	fe := FieldErrors{}
	checkIfName(fe, "name", name)
	checkIfName(fe, "new_name", newName)
	if fe["name"] == "" && name == newName {
		fe.add("new_name", "is the current name")
	}
	return result(&LinkRename{Name: name, NewName: newName}, fe)
}

func (o *LinkRename) Check(m Model) error {
	if _, err := modelLink(m, "name", o.Name); err != nil {
		return err
	}
	if _, taken := m.LinkByName(o.NewName); taken {
		return FieldErrors{"new_name": "a link named " + quote(o.NewName) + " already exists"}
	}
	return nil
}

func (o *LinkRename) Apply(h *netlink.Handle, m Model) error {
	return withLink(o, h, m, o.Index, o.Name, func(l netlink.Link) error { return h.LinkSetName(l, o.NewName) })
}

func (o *LinkRename) Inverse(m Model) ([]Op, error) {
	l, err := modelLink(m, "name", o.Name)
	if err != nil {
		return nil, err
	}
	return []Op{&LinkRename{Name: o.NewName, NewName: l.Name, Index: l.Index}}, nil
}

func (o *LinkRename) Command(n Names) string {
	return "ip link set dev " + quote(linkLabel(n, o.Index, o.Name)) + " name " + quote(o.NewName)
}

// OldCommand is empty: ifconfig cannot rename (nameif only matches MACs).
func (o *LinkRename) OldCommand(Names) string { return "" }

func (o *LinkRename) Touches() Touch { return linkTouch(o.Name, false) }

func (o *LinkRename) explain(errno unix.Errno) string {
	switch errno {
	case unix.EBUSY:
		return quote(o.Name) + " is up: this kernel renames only links that are down; set it down first"
	case unix.EEXIST:
		return "a link named " + quote(o.NewName) + " already exists"
	case unix.EINVAL:
		return quote(o.NewName) + " is not a valid interface name"
	}
	return explainLink(o.Name, errno)
}
