package demo

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Small wrappers that name the object in their errors, so a failed Create
// says which step broke.

func setUp(h *netlink.Handle, dev string) error {
	l, err := h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("finding %s: %w", dev, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("setting %s up: %w", dev, err)
	}
	return nil
}

// addAddr adds cidr to dev. IPv6 addresses skip duplicate address
// detection: nothing else uses them, and a tentative address would make
// the first screens of the demo show a transient state.
func addAddr(h *netlink.Handle, dev, cidr string) error {
	l, err := h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("finding %s: %w", dev, err)
	}
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		return err
	}
	if a.IP.To4() == nil {
		a.Flags = unix.IFA_F_NODAD
	}
	if err := h.AddrAdd(l, a); err != nil {
		return fmt.Errorf("adding %s to %s: %w", cidr, dev, err)
	}
	return nil
}

// addRoute adds a protocol-static route to dst ("default" or a prefix)
// via gw on dev in table.
func addRoute(h *netlink.Handle, dst, gw, dev string, table int) error {
	l, err := h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("finding %s: %w", dev, err)
	}
	gwIP := net.ParseIP(gw)
	if gwIP == nil {
		return fmt.Errorf("bad gateway %q", gw)
	}
	family, bits := netlink.FAMILY_V6, 128
	if gwIP.To4() != nil {
		family, bits = netlink.FAMILY_V4, 32
	}
	var dstNet *net.IPNet
	if dst == "default" {
		dstNet = &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, bits)}
		if family == netlink.FAMILY_V4 {
			dstNet.IP = net.IPv4zero.To4()
		}
	} else if _, dstNet, err = net.ParseCIDR(dst); err != nil {
		return err
	}
	r := &netlink.Route{
		Family:    family,
		LinkIndex: l.Attrs().Index,
		Dst:       dstNet,
		Gw:        gwIP,
		Table:     table,
		Protocol:  unix.RTPROT_STATIC,
	}
	if err := h.RouteAdd(r); err != nil {
		return fmt.Errorf("adding route %s via %s dev %s table %d: %w", dst, gw, dev, table, err)
	}
	return nil
}
