package change

import (
	"fmt"
	"strconv"

	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// LinkMTU sets a link's MTU (`ip link set dev wan mtu 1400`). Below 1280
// the kernel removes IPv6 from the link; the inverse restores the MTU, not
// the IPv6 addresses.
type LinkMTU struct {
	Name  string
	MTU   uint32
	Index int32 // ifindex, set by inverses (names change); 0: find the link by Name
}

// ParseLinkMTU reads a link name and an MTU (68-65535: 68 is the IPv4
// minimum, 65535 the largest any link kind here accepts).
func ParseLinkMTU(name, mtu string) (*LinkMTU, error) {
	fe := FieldErrors{}
	checkIfName(fe, "name", name)
	v := parseNumber(fe, "mtu", mtu, 68, 65535)
	return result(&LinkMTU{Name: name, MTU: uint32(v)}, fe)
}

func (o *LinkMTU) Check(m Model) error {
	_, err := modelLink(m, "name", o.Name)
	return err
}

func (o *LinkMTU) Apply(t *Target, _ Model) error {
	return withLink(o, t, o.Index, o.Name, 0, 0, func(w *rtnl.Writer) { w.U32(unix.IFLA_MTU, o.MTU) })
}

func (o *LinkMTU) Inverse(m Model) ([]Op, error) {
	l, err := modelLink(m, "name", o.Name)
	if err != nil {
		return nil, err
	}
	return []Op{&LinkMTU{Name: l.Name, MTU: l.MTU, Index: l.Index}}, nil
}

func (o *LinkMTU) Command(n Names) string {
	return "ip link set dev " + quote(linkLabel(n, o.Index, o.Name)) + " mtu " + strconv.FormatUint(uint64(o.MTU), 10)
}

func (o *LinkMTU) OldCommand(Names) string {
	return "ifconfig " + quote(o.Name) + " mtu " + strconv.FormatUint(uint64(o.MTU), 10)
}

func (o *LinkMTU) Touches() Touch { return linkTouch(o.Name, true) }

func (o *LinkMTU) explain(errno unix.Errno) string {
	switch errno {
	case unix.EINVAL, unix.ERANGE:
		return fmt.Sprintf("%s does not accept MTU %d: it is outside the device's range, or above the MTU of the link it sits on (macvlan, vxlan)",
			quote(o.Name), o.MTU)
	case unix.EBUSY:
		return fmt.Sprintf("%s cannot change its MTU now (a bridge port or XDP program holds it)", quote(o.Name))
	}
	return explainLink(o.Name, errno)
}
