package owned

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Client is the admin's own connection as netpanel sees it.
type Client struct {
	// Local is the address and port netpanel serves the client on;
	// Remote is the client's.
	Local, Remote netip.AddrPort
	// Iif is the interface the client's packets arrive on and Oif the
	// one netpanel's replies leave through; "" when unknown.
	Iif, Oif string
	// UID owns netpanel's listening socket.
	UID uint32
}

// CanTouch reports whether r can match the admin's own traffic: the
// replies netpanel sends (an output rule) or the client's packets (a
// prerouting rule). A rule that can may reroute the admin's connection,
// so it is applied under commit-confirm. reason says why in words. When a
// field of the connection is unknown the answer is true: only a definite
// mismatch clears a rule.
func CanTouch(r Rule, c Client) (touches bool, reason string) {
	local, remote := unmap(c.Local), unmap(c.Remote)
	type flow struct {
		src, dst     netip.AddrPort
		iif, oif     string
		uid          uint32
		hasUID       bool
		what, ifWhat string
	}
	f := flow{src: local, dst: remote, oif: c.Oif, uid: c.UID, hasUID: true,
		what: fmt.Sprintf("netpanel's replies to %s", remote)}
	if r.Hook == HookPrerouting {
		f = flow{src: remote, dst: local, iif: c.Iif, what: fmt.Sprintf("the packets %s sends to netpanel", remote)}
	}
	switch {
	case r.Proto != 0 && r.Proto != unix.IPPROTO_TCP:
		return false, fmt.Sprintf("it matches %s only; %s are tcp", r.protoName(), f.what)
	case r.Src.IsValid() && !r.Src.Contains(f.src.Addr()):
		return false, fmt.Sprintf("its source %s does not hold %s of %s", prefixText(r.Src), f.src.Addr(), f.what)
	case r.Dst.IsValid() && !r.Dst.Contains(f.dst.Addr()):
		return false, fmt.Sprintf("its destination %s does not hold %s of %s", prefixText(r.Dst), f.dst.Addr(), f.what)
	case r.SPort.IsSet() && !inRange(r.SPort, f.src.Port()):
		return false, fmt.Sprintf("its source port %s is not %d of %s", portsText(r.SPort), f.src.Port(), f.what)
	case r.DPort.IsSet() && !inRange(r.DPort, f.dst.Port()):
		return false, fmt.Sprintf("its destination port %s is not %d of %s", portsText(r.DPort), f.dst.Port(), f.what)
	case r.HasUID && f.hasUID && r.UID != f.uid:
		return false, fmt.Sprintf("it matches uid %d; netpanel runs as uid %d", r.UID, f.uid)
	case r.Iif != "" && f.iif != "" && r.Iif != f.iif:
		return false, fmt.Sprintf("it matches input interface %s; %s arrive on %s", r.Iif, f.what, f.iif)
	case r.Oif != "" && f.oif != "" && r.Oif != f.oif:
		return false, fmt.Sprintf("it matches output interface %s; %s leave through %s", r.Oif, f.what, f.oif)
	}
	switch {
	case r.Iif != "" && f.iif == "":
		return true, fmt.Sprintf("it may match %s: netpanel does not know the interface they arrive on", f.what)
	case r.Oif != "" && f.oif == "":
		return true, fmt.Sprintf("it may match %s: netpanel does not know the interface they leave through", f.what)
	}
	return true, fmt.Sprintf("it matches %s", f.what)
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

func inRange(p PortRange, port uint16) bool { return port >= p.From && port <= p.To }
