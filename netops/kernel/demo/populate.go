package demo

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The demo's fwmark rule: packets marked 0x20 use WanForceTable.
const (
	wanForceMark     = 0x20
	wanForcePriority = 16286
)

// populate fills the demo namespace and its ISP namespace. Everything goes
// through netlink sockets opened in those namespaces; only the tun device
// needs a thread inside the namespace (see addTun).
func populate(demoNS, ispNS netns.NsHandle) error {
	h, err := netlink.NewHandleAt(demoNS, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink handle in demo namespace: %w", err)
	}
	defer h.Close()
	isp, err := netlink.NewHandleAt(ispNS, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink handle in ISP namespace: %w", err)
	}
	defer isp.Close()

	for _, hh := range []*netlink.Handle{h, isp} {
		if err := setUp(hh, "lo"); err != nil {
			return err
		}
	}
	peerMAC, err := addWAN(h, isp, ispNS)
	if err != nil {
		return err
	}
	if err := addTun(h, demoNS); err != nil {
		return err
	}
	if err := addDocker(h); err != nil {
		return err
	}
	if err := addWanForce(h); err != nil {
		return err
	}
	return addNeighbours(h, peerMAC)
}

// addWAN creates the uplink: wan here, isp0 in the ISP namespace, IPv4 and
// IPv6 on both ends, default routes through the ISP. It returns isp0's MAC.
func addWAN(h, isp *netlink.Handle, ispNS netns.NsHandle) (net.HardwareAddr, error) {
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: "wan"},
		PeerName:      "isp0",
		PeerNamespace: netlink.NsFd(ispNS),
	}
	if err := h.LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("adding veth wan: %w", err)
	}
	for _, a := range []struct {
		h         *netlink.Handle
		dev, cidr string
	}{
		{isp, "isp0", "192.0.2.1/24"},
		{isp, "isp0", "2001:db8:1::1/64"},
		{h, "wan", "192.0.2.2/24"},
		{h, "wan", "2001:db8:1::2/64"},
	} {
		if err := addAddr(a.h, a.dev, a.cidr); err != nil {
			return nil, err
		}
	}
	for _, s := range []struct {
		h   *netlink.Handle
		dev string
	}{{isp, "isp0"}, {h, "wan"}} {
		if err := setUp(s.h, s.dev); err != nil {
			return nil, err
		}
	}
	for _, gw := range []string{"192.0.2.1", "2001:db8:1::1"} {
		if err := addRoute(h, "default", gw, "wan", unix.RT_TABLE_MAIN); err != nil {
			return nil, err
		}
	}
	peer, err := isp.LinkByName("isp0")
	if err != nil {
		return nil, fmt.Errorf("reading isp0: %w", err)
	}
	return peer.Attrs().HardwareAddr, nil
}

// addTun creates vpn0, a persistent tun device with routes into the VPN.
//
// The tun driver creates the device in the namespace of the thread that
// opens /dev/net/tun, whatever the netlink handle says, so the LinkAdd
// must run inside the demo namespace: from the host thread it would create
// vpn0 on the host. With no process holding the device it has no carrier;
// the kernel still accepts gateway routes on it (flagged linkdown).
func addTun(h *netlink.Handle, demoNS netns.NsHandle) error {
	tun := &netlink.Tuntap{
		LinkAttrs: netlink.LinkAttrs{Name: "vpn0"},
		Mode:      netlink.TUNTAP_MODE_TUN,
		// NonPersist false: TUNSETPERSIST keeps the device after LinkAdd
		// closes its fd. NO_PI as VPN daemons open it.
		Flags: netlink.TUNTAP_NO_PI | netlink.TUNTAP_TUN_EXCL,
	}
	if err := inNS(demoNS, func() error { return h.LinkAdd(tun) }); err != nil {
		return fmt.Errorf("adding tun vpn0: %w", err)
	}
	if err := addAddr(h, "vpn0", "10.8.0.2/24"); err != nil {
		return err
	}
	if err := setUp(h, "vpn0"); err != nil {
		return err
	}
	for _, dst := range []string{"10.8.0.0/16", "172.16.50.0/24"} {
		if err := addRoute(h, dst, "10.8.0.1", "vpn0", unix.RT_TABLE_MAIN); err != nil {
			return err
		}
	}
	return nil
}

// addDocker creates docker0 as dockerd would, with one container-like port.
func addDocker(h *netlink.Handle) error {
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "docker0"}}
	if err := h.LinkAdd(br); err != nil {
		return fmt.Errorf("adding bridge docker0: %w", err)
	}
	if err := addAddr(h, "docker0", "172.17.0.1/16"); err != nil {
		return err
	}
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "vethdemo0"}, PeerName: "vethdemo1"}
	if err := h.LinkAdd(veth); err != nil {
		return fmt.Errorf("adding veth vethdemo0: %w", err)
	}
	if err := h.LinkSetMaster(veth, br); err != nil {
		return fmt.Errorf("enslaving vethdemo0 to docker0: %w", err)
	}
	for _, dev := range []string{"docker0", "vethdemo0", "vethdemo1"} {
		if err := setUp(h, dev); err != nil {
			return err
		}
	}
	return nil
}

// addWanForce fills table wan-force with a default route through the ISP
// and sends fwmark 0x20/0x20 traffic there, for IPv4 and IPv6.
func addWanForce(h *netlink.Handle) error {
	for _, gw := range []string{"192.0.2.1", "2001:db8:1::1"} {
		if err := addRoute(h, "default", gw, "wan", WanForceTable); err != nil {
			return err
		}
	}
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		r := netlink.NewRule()
		r.Family = family
		r.Priority = wanForcePriority
		r.Mark = wanForceMark
		mask := uint32(wanForceMark)
		r.Mask = &mask
		r.Table = WanForceTable
		if err := h.RuleAdd(r); err != nil {
			return fmt.Errorf("adding rule %v: %w", r, err)
		}
	}
	return nil
}

// addNeighbours adds entries on wan: the ISP router with its real MAC, two
// made-up hosts with locally administered MACs (one permanent, one stale),
// and the ISP's IPv6 address as reachable (if re-probed, the peer answers).
func addNeighbours(h *netlink.Handle, peerMAC net.HardwareAddr) error {
	wan, err := h.LinkByName("wan")
	if err != nil {
		return fmt.Errorf("reading wan: %w", err)
	}
	for _, n := range []struct {
		ip    string
		mac   string
		state int
	}{
		{"192.0.2.1", peerMAC.String(), netlink.NUD_PERMANENT},
		{"192.0.2.3", "02:6e:70:00:00:03", netlink.NUD_PERMANENT},
		{"192.0.2.4", "02:6e:70:00:00:04", netlink.NUD_STALE},
		{"2001:db8:1::1", peerMAC.String(), netlink.NUD_REACHABLE},
	} {
		mac, err := net.ParseMAC(n.mac)
		if err != nil {
			return err
		}
		ip := net.ParseIP(n.ip)
		family := netlink.FAMILY_V6
		if ip.To4() != nil {
			family = netlink.FAMILY_V4
		}
		neigh := &netlink.Neigh{
			LinkIndex:    wan.Attrs().Index,
			Family:       family,
			State:        n.state,
			IP:           ip,
			HardwareAddr: mac,
		}
		if err := h.NeighSet(neigh); err != nil {
			return fmt.Errorf("adding neighbour %s: %w", n.ip, err)
		}
	}
	return nil
}
