// Package lookup explains a route lookup: it asks the kernel which route a
// packet would take (`ip route get`) and retraces the policy rules that led
// there, so the panel can say "rule 16286 sent it to table wan-force" and
// why every rule before it was passed over.
//
// The kernel's answer is the truth; the retracing is a model of
// fib_rules_lookup (net/core/fib_rules.c) run over netpanel's copy of the
// rules and routes. Where the two disagree (a stale model, or a selector
// the model does not hold, such as ipproto or port ranges) the Result says
// so in Note rather than inventing a reason.
package lookup
