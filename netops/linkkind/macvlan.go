package linkkind

import (
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// A macvlan: a link with its own MAC on a parent link (IFLA_LINK, the
// model's ParentIndex). A macvtap is the same with a tap device; netpanel
// only shows those.
func init() {
	lower := func(l *model.Link) int32 {
		if l.LinkNetNsID >= 0 {
			return 0 // the parent is in another namespace
		}
		return l.ParentIndex
	}
	register(&Kind{
		Name:    MACVLAN,
		Decode:  func(b []byte) model.LinkSettings { return decodeMACVLAN(b) },
		Info:    macvlanInfo,
		Lower:   lower,
		DevType: "",
		Create: &Create{
			Position:    4,
			Lower:       RequiredLower,
			LowerLabel:  "Lower device",
			LowerIsLink: true,
			Fields: []Field{
				{Name: "mode", Label: "macvlan mode", Arg: "mode", Choices: append([]string{""}, macvlanCreatable...)},
			},
			Parse:   parseMACVLAN,
			Explain: explainMACVLAN,
		},
		Recreate: recreateMACVLAN,
		Netdev:   macvlanNetdev,
	})
	register(&Kind{Name: "macvtap", Decode: func(b []byte) model.LinkSettings { return decodeMACVLAN(b) },
		Info: macvlanInfo, Lower: lower, DevType: Unknown})
}

// MACVLAN constants x/sys lacks (include/uapi/linux/if_link.h).
const (
	macvlanModeSource     = 16 // MACVLAN_MODE_SOURCE
	macvlanFlagNoPromisc  = 1  // MACVLAN_FLAG_NOPROMISC
	macvlanFlagNoDst      = 2  // MACVLAN_FLAG_NODST
	macvlanDefaultBcQueue = 1000
)

// macvlanModes are MACVLAN_MODE_* as ip names them.
var macvlanModes = map[uint32]string{1: "private", 2: "vepa", 4: "bridge", 8: "passthru", macvlanModeSource: "source"}

// macvlanCreatable are the modes a form may ask for; source mode filters
// on a MAC list netpanel does not manage.
var macvlanCreatable = []string{"bridge", "private", "vepa", "passthru"}

// MACVLANSettings are a macvlan's IFLA_INFO_DATA.
type MACVLANSettings struct {
	Mode       string // private, vepa, bridge, passthru or source, as ip prints it; "" for the kernel's default (vepa)
	NoPromisc  bool   // passthru without promiscuous mode
	BcQueueLen uint32 // the broadcast queue length; 0 when the kernel does not report it
}

// LinkKind implements model.LinkSettings.
func (*MACVLANSettings) LinkKind() string { return MACVLAN }

func decodeMACVLAN(b []byte) *MACVLANSettings {
	tb := ParseAttrs(b)
	s := &MACVLANSettings{Mode: macvlanModes[rtnl.U32(tb[unix.IFLA_MACVLAN_MODE])]}
	s.NoPromisc = rtnl.U16(tb[unix.IFLA_MACVLAN_FLAGS])&macvlanFlagNoPromisc != 0
	s.BcQueueLen = rtnl.U32(tb[unix.IFLA_MACVLAN_BC_QUEUE_LEN])
	return s
}

// parseMACVLAN reads the mode, which the form checked against Choices.
func parseMACVLAN(f Form) Spec { return &MACVLANSettings{Mode: f.Value("mode")} }

// Args prints `mode M [nopromisc] [bcqueuelen N]`.
func (s *MACVLANSettings) Args(string) []string {
	var args []string
	if s.Mode != "" {
		args = append(args, "mode", s.Mode)
	}
	if s.NoPromisc {
		args = append(args, "nopromisc")
	}
	if s.BcQueueLen != 0 && s.BcQueueLen != macvlanDefaultBcQueue {
		args = append(args, "bcqueuelen", strconv.FormatUint(uint64(s.BcQueueLen), 10))
	}
	return args
}

// Data writes the mode, flags and queue length; the parent travels as
// IFLA_LINK.
func (s *MACVLANSettings) Data(w *rtnl.Writer, _ int32) {
	for v, name := range macvlanModes {
		if name == s.Mode && s.Mode != "" {
			w.U32(unix.IFLA_MACVLAN_MODE, v)
		}
	}
	if s.NoPromisc {
		w.U16(unix.IFLA_MACVLAN_FLAGS, macvlanFlagNoPromisc)
	}
	if s.BcQueueLen != 0 && s.BcQueueLen != macvlanDefaultBcQueue {
		w.U32(unix.IFLA_MACVLAN_BC_QUEUE_LEN, s.BcQueueLen)
	}
}

// recreateMACVLAN recreates any mode but source, whose MAC list the model
// does not hold. Its MTU follows the parent's, so it is always set.
func recreateMACVLAN(l model.Link, _ Links) (*Recreation, error) {
	s := settings[*MACVLANSettings](&l)
	switch {
	case s == nil:
		return nil, fmt.Errorf("the mode of macvlan %s is unknown", l.Name)
	case s.Mode == macvlanModes[macvlanModeSource]:
		return nil, fmt.Errorf("macvlan %s is in source mode, whose MAC list netpanel does not hold", l.Name)
	case l.LinkNetNsID >= 0:
		return nil, fmt.Errorf("the parent of macvlan %s is in another namespace", l.Name)
	}
	return &Recreation{Spec: s, Lower: l.ParentIndex, SetHWAddr: true}, nil
}

func explainMACVLAN(errno unix.Errno, _, lower string, _ Spec) string {
	if errno == unix.EINVAL {
		return "a macvlan cannot sit on " + lower + " (loopback, another macvlan in passthru mode, or a link without a MAC address)"
	}
	return ""
}

// macvlanNetdev writes [MACVLAN]; networkd creates a macvlan only through
// its parent's .network (MACVLAN=).
func macvlanNetdev(l model.Link, _ Links) (*Netdev, error) {
	s := settings[*MACVLANSettings](&l)
	switch {
	case s == nil:
		return nil, fmt.Errorf("the mode of macvlan %s is unknown", l.Name)
	case !slices.Contains(macvlanCreatable, s.Mode):
		// Source mode filters on a MAC list the model does not hold.
		return nil, fmt.Errorf("macvlan %s is in mode %q", l.Name, s.Mode)
	case l.LinkNetNsID >= 0:
		return nil, fmt.Errorf("the parent of macvlan %s is in another namespace", l.Name)
	}
	return &Netdev{Section: "MACVLAN", Keys: []Key{{"Mode", s.Mode}}, Stacked: "MACVLAN"}, nil
}

// macvlanInfo is iplink_macvlan.c's macvlan_print_opt.
func macvlanInfo(tb Attrs, _ LinkNames) []InfoField {
	o := &info{}
	v, ok := tb[unix.IFLA_MACVLAN_MODE]
	if !ok || len(v) < 4 {
		return o.fields
	}
	mode := rtnl.U32(v)
	name, ok := macvlanModes[mode]
	if !ok {
		name = "unknown"
	}
	o.set("mode", name)
	fv, ok := tb[unix.IFLA_MACVLAN_FLAGS]
	if !ok || len(fv) < 2 {
		return o.fields
	}
	flags := rtnl.U16(fv)
	if flags&macvlanFlagNoPromisc != 0 {
		o.set("nopromisc", true)
	}
	if flags&macvlanFlagNoDst != 0 {
		o.set("nodst", true)
	}
	if v, ok := tb[unix.IFLA_MACVLAN_BC_QUEUE_LEN]; ok && len(v) >= 4 {
		o.set("bcqueuelen", rtnl.U32(v))
	}
	if v, ok := tb[unix.IFLA_MACVLAN_BC_QUEUE_LEN_USED]; ok && len(v) >= 4 {
		o.set("usedbcqueuelen", rtnl.U32(v))
	}
	if mode != macvlanModeSource {
		return o.fields
	}
	cv, ok := tb[unix.IFLA_MACVLAN_MACADDR_COUNT]
	if !ok || len(cv) < 4 {
		return o.fields
	}
	o.set("macaddr_count", rtnl.U32(cv))
	if dv, ok := tb[unix.IFLA_MACVLAN_MACADDR_DATA]; ok {
		macs := []string{}
		a := rtnl.NewAttrs(dv)
		for a.Next() {
			if a.Typ == unix.IFLA_MACVLAN_MACADDR {
				macs = append(macs, net.HardwareAddr(a.Val).String())
			}
		}
		o.set("macaddr_data", macs)
	}
	return o.fields
}
