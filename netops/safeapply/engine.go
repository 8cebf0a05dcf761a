package safeapply

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/netpanel/netpanel/netops/change"
	"github.com/vishvananda/netlink"
)

// DefaultTimeout is how long a risky change waits for confirmation.
const DefaultTimeout = 30 * time.Second

// Request is one admin's change.
type Request struct {
	User   string
	Client netip.Addr
	Ops    []change.Op
}

// State is where a change stands.
type State string

// The states of a change.
const (
	Applied    State = "applied"     // done, no countdown needed
	Pending    State = "pending"     // applied, rolls back unless confirmed
	Confirmed  State = "confirmed"   // applied and confirmed
	RolledBack State = "rolled-back" // not confirmed in time: undone
	Failed     State = "failed"      // the kernel refused; nothing stays
)

// Outcome describes a change for the UI and the audit log.
type Outcome struct {
	ID       string
	User     string
	Client   netip.Addr
	State    State
	Commands []string
	Reason   string    // why it needed confirming
	Deadline time.Time // for pending changes
	At       time.Time // of the last state change
	Err      string    // kernel error, or a rollback problem
	Seen     bool      // the user has been shown the final state
}

// Audit receives every state change of every change.
type Audit func(o Outcome)

// Engine applies changes in one namespace.
type Engine struct {
	h       *netlink.Handle
	model   change.Model
	names   func() change.Names
	linkOf  func(int32) string
	log     *slog.Logger
	audit   Audit
	Timeout time.Duration

	mu      sync.Mutex
	changes map[string]*entry
	order   []string // ids, oldest first, bounded
}

type entry struct {
	out     Outcome
	inverse []change.Op
	timer   *time.Timer
}

// New returns an engine applying through h, checking against model.
func New(h *netlink.Handle, model change.Model, names func() change.Names, log *slog.Logger, audit Audit) *Engine {
	return &Engine{
		h: h, model: model, names: names, log: log, audit: audit, Timeout: DefaultTimeout,
		linkOf:  func(i int32) string { return names().LinkName(i) },
		changes: map[string]*entry{},
	}
}

// ErrNotPending is returned when confirming a change that is not waiting.
var ErrNotPending = errors.New("that change is not waiting for confirmation (confirmed already, or rolled back)")

// Apply checks, applies and, when the change may cut the client off,
// arms the rollback. A failed op rolls back the ops before it at once.
func (e *Engine) Apply(req Request) (Outcome, error) {
	out := Outcome{ID: newID(), User: req.User, Client: req.Client, At: time.Now()}
	n := e.names()
	for _, op := range req.Ops {
		out.Commands = append(out.Commands, op.Command(n))
	}
	invs := make([][]change.Op, len(req.Ops))
	for i, op := range req.Ops {
		if err := op.Check(e.model); err != nil {
			return out, err
		}
		inv, err := op.Inverse(e.model)
		if err != nil {
			return out, fmt.Errorf("%s: cannot be undone, so netpanel will not apply it: %w", op.Command(n), err)
		}
		invs[i] = inv
	}
	// undo runs the inverses of the first k ops, last op first.
	undo := func(k int) []change.Op {
		var ops []change.Op
		for i := k - 1; i >= 0; i-- {
			ops = append(ops, invs[i]...)
		}
		return ops
	}
	inverse := undo(len(req.Ops))
	risky, reason := false, ""
	if req.Client.IsValid() {
		path, err := FindPath(e.h, req.Client, e.linkOf)
		if err != nil {
			risky, reason = true, "netpanel cannot tell how your connection is routed: "+err.Error()
		} else {
			for _, op := range req.Ops {
				if r, why := Risk(op.Touches(), path); r {
					risky, reason = true, why
					break
				}
			}
		}
	}
	for i, op := range req.Ops {
		if err := op.Apply(e.h, e.model); err != nil {
			out.State, out.Err = Failed, err.Error()
			if rerr := e.run(undo(i)); rerr != nil {
				out.Err += "; undoing the earlier steps failed too: " + rerr.Error()
			}
			e.record(&entry{out: out})
			return out, err
		}
	}
	if !risky {
		out.State = Applied
		e.record(&entry{out: out})
		return out, nil
	}
	timeout := e.Timeout
	out.State, out.Reason, out.Deadline = Pending, reason, time.Now().Add(timeout)
	en := &entry{out: out, inverse: inverse}
	e.mu.Lock()
	en.timer = time.AfterFunc(timeout, func() { e.rollback(out.ID) })
	e.mu.Unlock()
	e.record(en)
	return out, nil
}

func (e *Engine) run(ops []change.Op) error {
	var errs []error
	for _, op := range ops {
		if err := op.Apply(e.h, e.model); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (e *Engine) record(en *entry) {
	e.mu.Lock()
	e.changes[en.out.ID] = en
	e.order = append(e.order, en.out.ID)
	for len(e.order) > 200 {
		old := e.order[0]
		if e.changes[old].out.State != Pending {
			delete(e.changes, old)
		}
		e.order = e.order[1:]
	}
	out := en.out
	e.mu.Unlock()
	if e.audit != nil {
		e.audit(out)
	}
}

func (e *Engine) update(id string, fn func(en *entry) bool) (Outcome, bool) {
	e.mu.Lock()
	en, ok := e.changes[id]
	if !ok || !fn(en) {
		e.mu.Unlock()
		return Outcome{}, false
	}
	en.out.At = time.Now()
	out := en.out
	e.mu.Unlock()
	if e.audit != nil {
		e.audit(out)
	}
	return out, true
}

// Confirm keeps a pending change. Only its author may confirm it.
func (e *Engine) Confirm(id, user string) (Outcome, error) {
	out, ok := e.update(id, func(en *entry) bool {
		if en.out.State != Pending || en.out.User != user || !en.timer.Stop() {
			return false
		}
		en.out.State, en.out.Seen = Confirmed, true
		return true
	})
	if !ok {
		return Outcome{}, ErrNotPending
	}
	return out, nil
}

// rollback undoes a pending change whose time ran out.
func (e *Engine) rollback(id string) {
	e.mu.Lock()
	en, ok := e.changes[id]
	if !ok || en.out.State != Pending {
		e.mu.Unlock()
		return
	}
	inverse := en.inverse
	e.mu.Unlock()
	err := e.run(inverse)
	e.update(id, func(en *entry) bool {
		en.out.State = RolledBack
		if err != nil {
			en.out.Err = "rolling back failed: " + err.Error()
		}
		return true
	})
	if err != nil {
		e.log.Error("rolling back an unconfirmed change failed", "id", id, "err", err)
	} else {
		e.log.Warn("rolled back an unconfirmed change", "id", id)
	}
}

// Get returns one change.
func (e *Engine) Get(id string) (Outcome, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	en, ok := e.changes[id]
	if !ok {
		return Outcome{}, false
	}
	return en.out, true
}

// Unseen returns the user's changes that are pending, or ended in a way
// the user has not been shown (rolled back while away), and marks the
// ended ones as shown.
func (e *Engine) Unseen(user string) []Outcome {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Outcome
	for _, id := range e.order {
		en := e.changes[id]
		if en == nil || en.out.User != user {
			continue
		}
		switch {
		case en.out.State == Pending:
			out = append(out, en.out)
		case en.out.State == RolledBack && !en.out.Seen:
			out = append(out, en.out)
			en.out.Seen = true
		}
	}
	return out
}

// Close rolls back every pending change now: netpanel is stopping and
// could not roll them back later.
func (e *Engine) Close() {
	e.mu.Lock()
	var ids []string
	for id, en := range e.changes {
		if en.out.State == Pending && en.timer.Stop() {
			ids = append(ids, id)
		}
	}
	e.mu.Unlock()
	for _, id := range ids {
		e.rollback(id)
	}
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// List returns the user's recent changes, newest first.
func (e *Engine) List(user string) []Outcome {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Outcome
	for i := len(e.order) - 1; i >= 0; i-- {
		if en := e.changes[e.order[i]]; en != nil && en.out.User == user {
			out = append(out, en.out)
		}
	}
	return out
}
