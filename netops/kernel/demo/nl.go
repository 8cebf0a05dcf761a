package demo

import (
	"fmt"
	"net/netip"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"golang.org/x/sys/unix"
)

// The demo is built with netpanel's own change ops, applied without a
// model (nothing to check against yet). Each wrapper names its step in
// its error, so a failed Create says which one broke.

func apply(t *change.Target, op change.Op) error {
	if err := op.Apply(t, nil); err != nil {
		return fmt.Errorf("%s: %w", op.Command(nil), err)
	}
	return nil
}

func setUp(t *change.Target, dev string) error {
	return apply(t, &change.LinkUpDown{Name: dev, Up: true})
}

// addAddr adds cidr to dev. IPv6 addresses skip duplicate address
// detection: nothing else uses them, and a tentative address would make
// the first screens of the demo show a transient state.
func addAddr(t *change.Target, dev, cidr string) error {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return err
	}
	s := change.AddrSpec{Dev: dev, Prefix: p}
	if p.Addr().Is6() {
		s.Flags = unix.IFA_F_NODAD
	}
	return apply(t, &change.AddrAdd{AddrSpec: s})
}

// addRoute adds a protocol-static route to dst ("default" or a prefix)
// via gw on dev in table.
func addRoute(t *change.Target, dst, gw, dev string, table uint32) error {
	via, err := netip.ParseAddr(gw)
	if err != nil {
		return err
	}
	op := &change.RouteOp{Action: "add", Family: unix.AF_INET, Table: table, Via: via, Dev: dev, Protocol: unix.RTPROT_STATIC}
	if via.Is6() {
		op.Family = unix.AF_INET6
	}
	if dst == "default" {
		op.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if via.Is6() {
			op.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
	} else if op.Dst, err = netip.ParsePrefix(dst); err != nil {
		return err
	}
	return apply(t, op)
}
