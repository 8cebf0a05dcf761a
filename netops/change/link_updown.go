package change

import (
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// LinkUpDown sets a link up or down (`ip link set dev wan up`). Taking a
// link down makes the kernel flush its IPv4 routes; the inverse sets it up
// again but does not bring those routes back.
type LinkUpDown struct {
	Name string
	Up   bool
}

// ParseLinkUpDown reads a link name and "up" or "down".
func ParseLinkUpDown(name, state string) (*LinkUpDown, error) {
	fe := FieldErrors{}
	checkIfName(fe, "name", name)
	op := &LinkUpDown{Name: name}
	switch state {
	case "up":
		op.Up = true
	case "down":
	default:
		fe.add("state", "%s is not a link state: use up or down", shown(state))
	}
	return result(op, fe)
}

func (o *LinkUpDown) Check(m Model) error {
	_, err := modelLink(m, "name", o.Name)
	return err
}

func (o *LinkUpDown) Apply(h *netlink.Handle, _ Model) error {
	return withLink(o, h, o.Name, func(l netlink.Link) error {
		if o.Up {
			return h.LinkSetUp(l)
		}
		return h.LinkSetDown(l)
	})
}

func (o *LinkUpDown) Inverse(m Model) ([]Op, error) {
	l, err := modelLink(m, "name", o.Name)
	if err != nil {
		return nil, err
	}
	return []Op{&LinkUpDown{Name: o.Name, Up: l.Up()}}, nil
}

func (o *LinkUpDown) state() string {
	if o.Up {
		return "up"
	}
	return "down"
}

func (o *LinkUpDown) Command(Names) string {
	return "ip link set dev " + quote(o.Name) + " " + o.state()
}

func (o *LinkUpDown) OldCommand(Names) string {
	return "ifconfig " + quote(o.Name) + " " + o.state()
}

func (o *LinkUpDown) Touches() Touch { return linkTouch(o.Name, !o.Up) }

func (o *LinkUpDown) explain(errno unix.Errno) string { return explainLink(o.Name, errno) }
