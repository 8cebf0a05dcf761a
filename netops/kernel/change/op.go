// Package change holds netpanel's changes to the kernel: typed operations
// on links, addresses, routes, rules and neighbours, validated field by
// field, applied through netlink only (nothing reaches a shell), each able
// to print the equivalent ip command and to produce its inverse so a
// change can be rolled back.
package change

import (
	"net/netip"

	"github.com/netpanel/netpanel/netops/model"
)

// Op is one change. Ops are values; building one validates nothing, Check
// does, against the current model.
type Op interface {
	// Check validates the op against the live model and returns one error
	// per bad field (FieldErrors) or a single error; nil when it can apply.
	Check(m Model) error
	// Apply performs the op on t, the managed namespace; m is the model
	// it was checked against. Kernel errors come back explained (see
	// Explain).
	Apply(t *Target, m Model) error
	// Inverse returns the ops that undo this one, computed from the model
	// before it is applied (a replaced route comes back, a deleted address
	// is re-added, an MTU returns to its old value).
	Inverse(m Model) ([]Op, error)
	// Command is the equivalent iproute2 command line.
	Command(n Names) string
	// OldCommand is the net-tools equivalent, or "" when there is none.
	OldCommand(n Names) string
	// Touches says what the op changes, for the safe-apply path check.
	Touches() Touch
}

// Model is the live state an op is checked against.
type Model interface {
	Links() []model.Link
	LinkByName(name string) (model.Link, bool)
	Addrs() []model.Addr
	Rules(family uint8) []model.Rule
	Neighs() []model.Neigh
	// FindRoute returns the route with r's key (table, family, dst, tos,
	// metric; for IPv6 also the device, for IPv4 what tells an alias
	// apart: type, protocol, scope, prefsrc, paths, metrics).
	FindRoute(r model.Route) (model.Route, bool)
	// RoutesTo returns the routes in table whose destination is exactly dst.
	RoutesTo(table uint32, dst netip.Prefix) []model.Route
}

// Names resolves names for printing commands (model.Names implements it).
type Names interface {
	LinkName(idx int32) string
	TableName(id uint32) string
}

// Touch describes what an op changes.
type Touch struct {
	Kind   model.Kind
	Link   string // the link changed or used (by name), "" for none
	Table  uint32 // for routes
	Dst    string // route destination prefix ("0.0.0.0/0" for default)
	Addr   string // address prefix for address ops
	Down   bool   // takes a link down, deletes it, or changes its MTU or master
	Family uint8
}

var _ Model = (*model.Store)(nil)

// Every op implements Op.
var (
	_ Op = (*LinkUpDown)(nil)
	_ Op = (*LinkMTU)(nil)
	_ Op = (*LinkRename)(nil)
	_ Op = (*LinkAlias)(nil)
	_ Op = (*LinkAdd)(nil)
	_ Op = (*LinkDel)(nil)
	_ Op = (*LinkMaster)(nil)
	_ Op = (*AddrAdd)(nil)
	_ Op = (*AddrDel)(nil)
	_ Op = (*RouteOp)(nil)
	_ Op = (*RuleOp)(nil)
	_ Op = (*NeighAdd)(nil)
	_ Op = (*NeighDel)(nil)
)
