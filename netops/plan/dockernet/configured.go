package dockernet

import "net/netip"

// Configured is the setup the files on disk describe: the bridge
// daemon.json names, the address its .network file gives it (bridgeAddr,
// invalid when no file does) and daemon.json's pools. ok is false when
// daemon.json names no bridge: Docker then makes docker0 itself.
func Configured(d *DaemonConfig, bridgeAddr netip.Prefix, uplink *Uplink) (p Plan, ok bool) {
	if d == nil || d.Bridge == "" {
		return Plan{}, false
	}
	p = Plan{Bridge: d.Bridge, Pools: d.Pools, FixedCIDR: d.FixedCIDR, Uplink: uplink}
	if bridgeAddr.IsValid() {
		p.Address, p.Subnet = bridgeAddr, bridgeAddr.Masked()
	}
	return p, true
}

// DetectUplink is the link of the main table's IPv4 default route outside
// Docker's bridges, with how it is configured (DHCP or static); nil when
// there is none.
func DetectUplink(in Inputs) *Uplink { return newView(in).uplink() }
