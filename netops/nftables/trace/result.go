package trace

import (
	"github.com/netpanel/netpanel/netops/plan/lookup"
)

// Result is a trace: the packet, what was assumed about it, and one
// outcome per combination of matches netpanel could not evaluate (one
// outcome when every match could be).
type Result struct {
	Packet Packet `json:"packet"`
	// Path says which hooks the packet meets.
	Path string `json:"path"`
	// Assumptions are what the trace took for granted about the packet
	// ("ct state new: the first packet of a connection").
	Assumptions []string  `json:"assumptions"`
	Outcomes    []Outcome `json:"outcomes"`
	// Truncated is set when there were more outcomes than MaxOutcomes.
	Truncated bool     `json:"truncated,omitempty"`
	Notes     []string `json:"notes,omitempty"`
}

// Outcome is one way the packet can go.
type Outcome struct {
	// Assumed lists the matches this outcome assumed, in order, each
	// naming its rule: "ip mangle output handle 7: `meta cpu 1` assumed
	// to match".
	Assumed []string `json:"assumed,omitempty"`
	Steps   []Step   `json:"steps"`
	// Fate is where the packet ends: "sent through wan", "dropped by rule
	// 5 of inet filter output", "delivered to this host".
	Fate    string `json:"fate"`
	Dropped bool   `json:"dropped"`
	// Mark and CtMark are the marks after the chains; MarkKnown is false
	// when a rule set the mark from a value the query did not give.
	Mark        uint32 `json:"mark"`
	MarkKnown   bool   `json:"mark_known"`
	CtMark      uint32 `json:"ct_mark"`
	CtMarkKnown bool   `json:"ct_mark_known"`
	// Lookups are the route lookups in the order the kernel makes them;
	// the last one decides.
	Lookups []Lookup `json:"lookups"`
	Notes   []string `json:"notes,omitempty"`
}

// Route returns the lookup that decided the route, or nil when the packet
// was not routed (dropped before, or the mark is unknown).
func (o *Outcome) Route() *Lookup {
	if len(o.Lookups) == 0 {
		return nil
	}
	return &o.Lookups[len(o.Lookups)-1]
}

// Egress is the interface the packet leaves through, or "".
func (o *Outcome) Egress() string {
	if l := o.Route(); l != nil && l.Result.Found && !o.Dropped {
		return l.Result.Route.Dev
	}
	return ""
}

// Lookup is one route lookup and the kernel's answer.
type Lookup struct {
	// Why says when and why the kernel looks the route up.
	Why    string        `json:"why"`
	Query  lookup.Query  `json:"query"`
	Result lookup.Result `json:"result"`
	// Err is set when the lookup could not be asked (an unknown iif).
	Err string `json:"error,omitempty"`
}

// StepKind says what a step is.
type StepKind string

// The kinds of steps.
const (
	StepChain  StepKind = "chain"  // the packet enters a base chain
	StepRule   StepKind = "rule"   // a rule was evaluated
	StepPolicy StepKind = "policy" // the end of a base chain: its policy
	StepReturn StepKind = "return" // the end of a regular chain: back to the caller
	StepSkip   StepKind = "skip"   // a chain the packet does not traverse, and why
)

// Step is one chain or rule on the packet's path.
type Step struct {
	Kind StepKind `json:"kind"`
	Hook string   `json:"hook"`
	// Table is "family name" ("inet filter").
	Table     string `json:"table"`
	Chain     string `json:"chain"`
	ChainType string `json:"chain_type,omitempty"`
	Priority  string `json:"priority,omitempty"`
	Handle    uint64 `json:"handle,omitempty"`
	// Rule is the rule as nft prints it.
	Rule string `json:"rule,omitempty"`
	// Result is "matched", "no match", "not evaluated: assumed to match",
	// "not evaluated: assumed not to match", or a policy.
	Result string `json:"result"`
	// Reason says why a rule did not match, or what could not be
	// evaluated.
	Reason string `json:"reason,omitempty"`
	// Effects are what the rule did: marks set (with before and after),
	// counters, logs, NAT.
	Effects []string `json:"effects,omitempty"`
	// Verdict is the rule's verdict, if it had one ("accept", "jump sub").
	Verdict string `json:"verdict,omitempty"`
}
