package safeapply_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
)

// connOp is linkOp judging its risk from the connection, as a firewall
// rule does: risky when the client's port is port.
type connOp struct {
	linkOp
	port uint16
	seen *safeapply.Conn
}

func (o connOp) ConnRisk(c safeapply.Conn) (bool, string) {
	*o.seen = c
	return c.Remote.Port() == o.port, "it matches your connection"
}

// An op that judges its own risk (ConnRisker) gets the request's
// connection with the kernel's path back to the client, and its answer
// decides, not what it Touches: here a change of the client's own link
// that the op says cannot touch the connection applies at once.
func TestConnRiskerDecidesItsRisk(t *testing.T) {
	_, _, store, h, w := topology(t)
	e, _ := newEngine(t, store, h, w, time.Minute)
	conn := safeapply.Conn{Local: netip.MustParseAddrPort("10.77.0.1:8443"), Remote: netip.MustParseAddrPort("10.77.0.2:50000")}
	var seen safeapply.Conn
	out, err := e.Apply(safeapply.Request{User: "admin", Client: client, Conn: conn,
		Ops: []change.Op{connOp{linkOp: linkOp{name: "a0", mtu: 1450}, port: 1, seen: &seen}}})
	if err != nil || out.State != safeapply.Applied {
		t.Fatalf("a change its op says misses the connection: %s %v", out.State, err)
	}
	if seen.Remote != conn.Remote || seen.Local != conn.Local || seen.Path.Link != "a0" || seen.Path.Client != client {
		t.Fatalf("the op saw %+v", seen)
	}
	out, err = e.Apply(safeapply.Request{User: "admin", Client: client, Conn: conn,
		Ops: []change.Op{connOp{linkOp: linkOp{name: "c0", mtu: 1450}, port: 50000, seen: &seen}}})
	if err != nil || out.State != safeapply.Pending || out.Reason != "it matches your connection" {
		t.Fatalf("a change its op says matches the connection: %s %q %v", out.State, out.Reason, err)
	}
}
