package safeapply

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

// Batch is a change made by other means than ops, such as networkd files
// written and networkd reloaded, or Docker restarted: netpanel cannot
// know its effect before it happens, and undoes it with a function rather
// than inverse ops. It is judged by its effect on the client's path: the
// kernel's route back to the client before and after (`ip route get
// CLIENT`), and what Apply says it changed or may change.
//
// A batch joins the namespace's stack like any change (see Engine): while
// it pends, later changes join it and a timeout undoes them first, then
// the batch; a batch made while changes pend joins them and is undone
// first. A batch never interleaves with ops: both run under the engine's
// one lock, and each undo sees the state the next newer one left.
type Batch struct {
	User    string
	Client  netip.Addr
	Summary string // in words: "save networkd files for br0"
	// Commands are what the batch does as shell commands, for the page
	// and the audit log.
	Commands []string
	// Apply does the batch. When it fails it has put back what it could
	// itself, and its BatchResult says what (Undone, LeftOver).
	Apply func() (BatchResult, error)
}

// BatchResult is what a batch did.
type BatchResult struct {
	// Touches are what it changed live, and what it may still change
	// (networkd configures asynchronously): each is judged against the
	// client's path before and after the batch as an op's Touch is.
	Touches []change.Touch
	// Live is false when the batch changed nothing live (networkd does
	// not run: the files wait for its start), so there is nothing to
	// confirm; Note says so.
	Live bool
	Note string
	// Undo puts back what the batch changed; nil when it cannot be
	// undone (then the batch is never pending).
	Undo Undo
	// For a failed batch: what its own cleanup put back, and what it
	// could not.
	Undone, LeftOver []string
}

// Undo puts back what a batch changed; done says what it did, leftOver
// what it could not put back and why.
type Undo func() (done, leftOver []string)

// ApplyBatch applies b and, when it may have cut the client off or
// changes are pending, stacks it for confirmation like Apply.
func (e *Engine) ApplyBatch(b Batch) (Outcome, error) {
	e.run.Lock()
	defer e.run.Unlock()
	out := Outcome{ID: newID(), User: b.User, Client: b.Client, At: time.Now(), Commands: b.Commands, Summary: b.Summary}
	if e.stopped() {
		return out, ErrStopping
	}
	var before Path
	var beforeErr error
	if b.Client.IsValid() {
		before, beforeErr = FindPath(e.t, b.Client, e.linkOf)
	}
	res, err := b.Apply()
	if err != nil {
		out.State, out.Err, out.Undone, out.LeftOver = Failed, err.Error(), res.Undone, res.LeftOver
		e.record(&entry{out: out})
		return out, err
	}
	_ = e.syncModel(syncTimeout)
	risky, reason := false, ""
	if res.Live && b.Client.IsValid() {
		risky, reason = e.batchRisk(b.Client, before, beforeErr, res.Touches)
	}
	if res.Note != "" {
		out.Err = res.Note
	}
	if res.Undo == nil {
		// Nothing to roll back: no countdown, and it cannot join the stack.
		out.State = Applied
		e.record(&entry{out: out})
		return out, nil
	}
	return e.settle(&entry{out: out, undoFn: res.Undo}, risky, reason), nil
}

// batchRisk judges a batch by the client's path before and after it and
// by what it touched. e.run held.
func (e *Engine) batchRisk(client netip.Addr, before Path, beforeErr error, touches []change.Touch) (bool, string) {
	after, err := FindPath(e.t, client, e.linkOf)
	switch {
	case beforeErr != nil:
		return true, "netpanel could not tell how your connection was routed before: " + beforeErr.Error()
	case err != nil:
		return true, "netpanel cannot tell how your connection is routed now: " + err.Error()
	case before.Link != after.Link || before.Gateway != after.Gateway || before.Src != after.Src || before.Table != after.Table:
		return true, fmt.Sprintf("the route back to you changed: it was %s (table %d, from %s), it is %s (table %d, from %s)",
			before, before.Table, addrOr(before.Src), after, after.Table, addrOr(after.Src))
	}
	for _, p := range []Path{before, after} {
		for _, t := range touches {
			if r, why := Risk(t, p); r {
				return true, why
			}
		}
	}
	return false, ""
}

func addrOr(a netip.Addr) string {
	if !a.IsValid() {
		return "any address"
	}
	return a.String()
}
