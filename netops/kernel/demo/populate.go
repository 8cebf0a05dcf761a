package demo

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/rtnl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// DockerTrap is the VPN route inside Docker's default 172.17.0.0/16.
const DockerTrap = "172.17.5.0/24"

// The demo's fwmark rule: packets marked 0x20 use WanForceTable.
const (
	wanForceMark     = 0x20
	wanForcePriority = 16286
)

// populate fills the demo namespace and its ISP namespace. Everything goes
// through netlink sockets opened in those namespaces; only the tun device
// needs a thread inside the namespace (see addTun).
func populate(demoNS, ispNS netns.NsHandle) error {
	h, err := change.Dial(demoNS)
	if err != nil {
		return fmt.Errorf("netlink in the demo namespace: %w", err)
	}
	defer h.Close()
	isp, err := change.Dial(ispNS)
	if err != nil {
		return fmt.Errorf("netlink in the ISP namespace: %w", err)
	}
	defer isp.Close()

	for _, t := range []*change.Target{h, isp} {
		if err := setUp(t, "lo"); err != nil {
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
func addWAN(h, isp *change.Target, ispNS netns.NsHandle) (net.HardwareAddr, error) {
	if err := apply(h, &change.LinkAdd{Kind: linkkind.Veth, Name: "wan", Spec: &linkkind.VethPeer{Name: "isp0"}}); err != nil {
		return nil, err
	}
	// Then isp0 moves to the ISP namespace, as `ip link set isp0 netns`.
	idx, err := h.LinkIndex("isp0")
	if err == nil {
		err = h.Request(unix.RTM_NEWLINK, 0, codec.LinkChange(idx, 0, 0, func(w *rtnl.Writer) {
			w.U32(unix.IFLA_NET_NS_FD, uint32(ispNS))
		}))
	}
	if err != nil {
		return nil, fmt.Errorf("moving isp0 to the ISP namespace: %w", err)
	}
	for _, a := range []struct {
		t         *change.Target
		dev, cidr string
	}{
		{isp, "isp0", "192.0.2.1/24"},
		{isp, "isp0", "2001:db8:1::1/64"},
		{h, "wan", "192.0.2.2/24"},
		{h, "wan", "2001:db8:1::2/64"},
	} {
		if err := addAddr(a.t, a.dev, a.cidr); err != nil {
			return nil, err
		}
	}
	for _, s := range []struct {
		t   *change.Target
		dev string
	}{{isp, "isp0"}, {h, "wan"}} {
		if err := setUp(s.t, s.dev); err != nil {
			return nil, err
		}
	}
	for _, gw := range []string{"192.0.2.1", "2001:db8:1::1"} {
		if err := addRoute(h, "default", gw, "wan", unix.RT_TABLE_MAIN); err != nil {
			return nil, err
		}
	}
	peer, err := isp.Link("isp0")
	if err != nil {
		return nil, fmt.Errorf("reading isp0: %w", err)
	}
	return peer.HWAddr, nil
}

// addTun creates vpn0, a persistent tun device with routes into the VPN.
// One of them, 172.17.5.0/24, lies inside 172.17.0.0/16, the subnet
// Docker gives docker0 by default: the trap /docker explains (a container
// network there would swallow the VPN's hosts).
//
// The tun driver creates the device in the namespace of the thread that
// opens /dev/net/tun, so this must run inside the demo namespace: from the
// host thread it would create vpn0 on the host. With no process holding
// the device it has no carrier; the kernel still accepts gateway routes on
// it (flagged linkdown).
func addTun(h *change.Target, demoNS netns.NsHandle) error {
	if err := inNS(demoNS, func() error { return persistentTun("vpn0") }); err != nil {
		return fmt.Errorf("adding tun vpn0: %w", err)
	}
	if err := addAddr(h, "vpn0", "10.8.0.2/24"); err != nil {
		return err
	}
	if err := setUp(h, "vpn0"); err != nil {
		return err
	}
	for _, dst := range []string{"10.8.0.0/16", "172.16.50.0/24", DockerTrap} {
		if err := addRoute(h, dst, "10.8.0.1", "vpn0", unix.RT_TABLE_MAIN); err != nil {
			return err
		}
	}
	return nil
}

// persistentTun creates a tun device (without packet information, as VPN
// daemons open it) that outlives its file descriptor (TUNSETPERSIST).
func persistentTun(name string) error {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	req, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	req.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_TUN_EXCL)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, req); err != nil {
		return fmt.Errorf("TUNSETIFF: %w", err)
	}
	if err := unix.IoctlSetInt(fd, unix.TUNSETPERSIST, 1); err != nil {
		return fmt.Errorf("TUNSETPERSIST: %w", err)
	}
	return nil
}

// addDocker creates docker0 as dockerd would, with one container-like port.
func addDocker(h *change.Target) error {
	for _, op := range []change.Op{
		&change.LinkAdd{Kind: linkkind.Bridge, Name: "docker0"},
		&change.LinkAdd{Kind: linkkind.Veth, Name: "vethdemo0", Spec: &linkkind.VethPeer{Name: "vethdemo1"}},
		&change.LinkMaster{Name: "vethdemo0", Master: "docker0"},
	} {
		if err := apply(h, op); err != nil {
			return err
		}
	}
	if err := addAddr(h, "docker0", "172.17.0.1/16"); err != nil {
		return err
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
func addWanForce(h *change.Target) error {
	for _, gw := range []string{"192.0.2.1", "2001:db8:1::1"} {
		if err := addRoute(h, "default", gw, "wan", WanForceTable); err != nil {
			return err
		}
	}
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		op := &change.RuleOp{Action: "add", Family: family, Priority: wanForcePriority, HasPriority: true,
			Fwmark: wanForceMark, HasFwmark: true, Fwmask: wanForceMark, HasFwmask: true, Table: WanForceTable}
		if err := apply(h, op); err != nil {
			return err
		}
	}
	return nil
}

// addNeighbours adds entries on wan: the ISP router with its real MAC, two
// made-up hosts with locally administered MACs (one permanent, one stale),
// and the ISP's IPv6 address as reachable (if re-probed, the peer answers).
func addNeighbours(h *change.Target, peerMAC net.HardwareAddr) error {
	for _, n := range []struct {
		ip    string
		mac   string
		state uint16
	}{
		{"192.0.2.1", peerMAC.String(), unix.NUD_PERMANENT},
		{"192.0.2.3", "02:6e:70:00:00:03", unix.NUD_PERMANENT},
		{"192.0.2.4", "02:6e:70:00:00:04", unix.NUD_STALE},
		{"2001:db8:1::1", peerMAC.String(), unix.NUD_REACHABLE},
	} {
		mac, err := net.ParseMAC(n.mac)
		if err != nil {
			return err
		}
		ip, err := netip.ParseAddr(n.ip)
		if err != nil {
			return err
		}
		if err := apply(h, &change.NeighAdd{NeighSpec: change.NeighSpec{Dev: "wan", IP: ip, LLAddr: mac, State: n.state}}); err != nil {
			return err
		}
	}
	return nil
}
