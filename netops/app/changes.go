package app

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/netpanel/netpanel/netops/app/audit"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/watch"
)

// ChangeOptions tune the commit-confirm engine.
type ChangeOptions struct {
	// Timeout is how long a change that may cut the admin off waits for
	// confirmation (safeapply.DefaultTimeout when 0).
	Timeout time.Duration
	// Sync returns once the model holds what the kernel acknowledged
	// (monitor.Watcher.Sync); nil: changes are checked against the model
	// as it is.
	Sync func(context.Context) error
}

// Changes applies changes to the kernel with commit-confirm and records
// every state each change goes through in the audit log.
type Changes struct {
	engine *safeapply.Engine
	totals changeTotals
	news   watch.Wakes
}

// NewChanges applies changes through t, checking them against m; names
// prints them as ip commands.
func NewChanges(t *change.Target, m change.Model, names func() change.Names, rec *Recorder, log *slog.Logger, opt ChangeOptions) *Changes {
	c := &Changes{}
	e := safeapply.New(t, m, names, log, func(o safeapply.Outcome) {
		c.totals.observe(o)
		rec.Record(changeEntry(o))
		c.news.Wake()
	})
	if opt.Timeout > 0 {
		e.Timeout = opt.Timeout
	}
	e.Sync = opt.Sync
	c.engine = e
	return c
}

// Apply applies ops as id, with a countdown when they may cut id off.
func (c *Changes) Apply(id Identity, ops []change.Op) (safeapply.Outcome, error) {
	client, _ := netip.ParseAddr(id.Client)
	return c.engine.Apply(safeapply.Request{User: id.User, Client: client, Ops: ops,
		Conn: safeapply.Conn{Local: id.Local, Remote: id.Remote}})
}

// applyBatch applies a change made by other means than ops (files and a
// reload) on the same stack as id's changes.
func (c *Changes) applyBatch(id Identity, summary string, commands []string, apply func() (safeapply.BatchResult, error)) (safeapply.Outcome, error) {
	client, _ := netip.ParseAddr(id.Client)
	return c.engine.ApplyBatch(safeapply.Batch{User: id.User, Client: client, Summary: summary, Commands: commands, Apply: apply})
}

// Confirm keeps id's pending change changeID (and the stack under it).
func (c *Changes) Confirm(id Identity, changeID string) (safeapply.Outcome, error) {
	return c.engine.Confirm(changeID, id.User)
}

// Get returns where change changeID stands, whoever made it.
func (c *Changes) Get(changeID string) (safeapply.Outcome, bool) { return c.engine.Get(changeID) }

// Unseen returns id's pending changes and those that ended while id was
// away, each final state once.
func (c *Changes) Unseen(id Identity) []safeapply.Outcome { return c.engine.Unseen(id.User) }

// List returns id's recent changes, newest first.
func (c *Changes) List(id Identity) []safeapply.Outcome { return c.engine.List(id.User) }

// Pending returns every admin's changes waiting for confirmation, oldest
// first: what a timeout would roll back.
func (c *Changes) Pending() []safeapply.Outcome { return c.engine.Pending() }

// Subscribe returns a channel that receives a wake-up (coalesced) after
// every state a change goes through (applied, pending, confirmed, rolled
// back), and a function to unsubscribe.
func (c *Changes) Subscribe() (<-chan struct{}, func()) { return c.news.Subscribe() }

// Close rolls back what still waits for confirmation, newest first: once
// netpanel is gone nobody could roll it back.
func (c *Changes) Close() { c.engine.Close() }

// changeEntry is the audit record of one state of a change.
func changeEntry(o safeapply.Outcome) audit.Entry {
	result := string(o.State)
	if o.Err != "" {
		result += ": " + o.Err
	}
	e := audit.Entry{User: o.User, Action: audit.ActionChange, Detail: "change " + o.ID + " " + string(o.State),
		Command: strings.Join(o.Commands, "; "), Result: result}
	if o.Summary != "" {
		e.Detail = "try " + o.ID + " " + string(o.State) + ": " + o.Summary
	}
	if o.State == safeapply.Applied || o.State == safeapply.Confirmed {
		e.Result = audit.ResultOK
		if o.Err != "" {
			// An applied batch with no live effect: its commands did not
			// all run (networkd does not run), and the log must not say
			// they did.
			e.Detail += " (" + o.Err + ")"
		}
	}
	if o.Client.IsValid() {
		e.Client = o.Client.String()
	}
	if o.Reason != "" {
		e.Detail += " (" + o.Reason + ")"
	}
	if o.Ended != "" {
		e.Detail += ": " + o.Ended
	}
	if len(o.Undone) > 0 {
		e.Detail += "; put back: " + strings.Join(o.Undone, "; ")
	}
	if len(o.LeftOver) > 0 && o.Err == "" {
		e.Result += ": could not put back: " + strings.Join(o.LeftOver, "; ")
	}
	return e
}
