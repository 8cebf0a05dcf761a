package lookup

import (
	"net/netip"

	"github.com/netpanel/netpanel/netops/model"
)

// Result is the kernel's answer to a Query and the rules that led to it.
type Result struct {
	Query Query
	// Command is the equivalent `ip route get` command line.
	Command string
	// Found is true when the kernel returned a route; Route is then set.
	Found bool
	Route Route
	// Err is the kernel's refusal when it found no route (a *RefusedError),
	// nil when Found.
	Err error
	// Chosen is the rule that decided the lookup, with why: the rule whose
	// table held Route, or the rule or route that refused. Nil when the
	// rules cannot explain the kernel's answer (see Note).
	Chosen *Step
	// Passed are the rules passed over before Chosen, in the order the
	// kernel tried them, each with the reason it went on.
	Passed []Step
	// Note is set when netpanel's model and the kernel's answer disagree,
	// or the model cannot tell; it says so in words.
	Note string
}

// Route is the route the kernel chose (the fields of `ip route get`).
type Route struct {
	Type      uint8 // RTN_*
	TypeName  string
	Table     uint32
	TableName string
	LinkIndex int
	Dev       string
	Gateway   netip.Addr
	PrefSrc   netip.Addr
}

// Step is one rule the lookup visited.
type Step struct {
	Rule model.Rule
	// Reason says why the kernel went on past the rule, or for the chosen
	// rule why it decided ("table wan-force has a route to 198.51.100.7:
	// default").
	Reason string
}
