package app

import (
	"sync/atomic"

	"github.com/netpanel/netpanel/netops/kernel/safeapply"
)

// ChangeTotals are the commit-confirm engine's numbers, for monitoring.
type ChangeTotals struct {
	// Pending is how many changes wait for confirmation now.
	Pending int
	// RolledBack counts the unconfirmed changes undone exactly since
	// start; RollbackFailed those whose undo left something changed.
	RolledBack, RollbackFailed uint64
}

// changeTotals counts rollbacks as the engine reports each change's end:
// every state a change goes through reaches the audit callback once.
type changeTotals struct {
	rolledBack, rollbackFailed atomic.Uint64
}

func (t *changeTotals) observe(o safeapply.Outcome) {
	switch o.State {
	case safeapply.RolledBack:
		t.rolledBack.Add(1)
	case safeapply.RollbackFailed:
		t.rollbackFailed.Add(1)
	}
}

// Totals returns the pending changes and the rollbacks so far.
func (c *Changes) Totals() ChangeTotals {
	return ChangeTotals{Pending: len(c.engine.Pending()), RolledBack: c.totals.rolledBack.Load(), RollbackFailed: c.totals.rollbackFailed.Load()}
}
