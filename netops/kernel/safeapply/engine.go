package safeapply

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

// DefaultTimeout is how long a risky change waits for confirmation.
const DefaultTimeout = 30 * time.Second

// syncTimeout bounds the wait for the model to catch up with the kernel
// before a change is checked (a resync of a million routes takes seconds).
const syncTimeout = 15 * time.Second

// Request is one admin's change.
type Request struct {
	User   string
	Client netip.Addr
	// Conn is the connection the request came over, as netpanel's socket
	// sees it; zero when unknown. Ops that match packets (ConnRisker)
	// decide their risk from it.
	Conn Conn
	Ops  []change.Op
}

// State is where a change stands.
type State string

// The states of a change.
const (
	Applied        State = "applied"         // done, no countdown needed
	Pending        State = "pending"         // applied, rolls back unless confirmed
	Confirmed      State = "confirmed"       // applied and confirmed
	RolledBack     State = "rolled-back"     // not confirmed: undone, exactly
	RollbackFailed State = "rollback-failed" // not confirmed, and undoing it failed: see LeftOver
	Failed         State = "failed"          // the kernel refused; the steps before were undone
)

// Outcome describes a change for the UI and the audit log.
type Outcome struct {
	ID       string
	User     string
	Client   netip.Addr
	State    State
	Commands []string
	Reason   string    // why it needed confirming
	Deadline time.Time // for pending changes: the stack's
	At       time.Time // of the last state change
	Err      string    // kernel error, or a rollback problem
	Seen     bool      // the user has been shown the final state
	// Ended says why a pending change ended ("it was not confirmed in
	// time", "netpanel stopped before it was confirmed").
	Ended string
	// LeftOver lists, for a failed rollback (or a failed change whose
	// earlier steps could not be undone), each inverse step that failed
	// with the kernel's answer: what is still changed.
	LeftOver []string
	// Undone lists, for a rolled-back batch (files written and networkd
	// reloaded), what its rollback put back: files restored, reloads, the
	// live objects it re-added or removed.
	Undone []string
	// Summary says in words what a batch was ("save networkd files for
	// br0"); "" for ops, whose Commands say it.
	Summary string
	// For a pending change: ConfirmWith is the change whose confirmation
	// keeps it (the author's newest pending change; itself when it is
	// that), and Waiting names the admins whose confirmation the stack
	// still needs.
	ConfirmWith string
	Waiting     []string
}

// Audit receives every state change of every change.
type Audit func(o Outcome)

// Engine applies changes in one namespace with commit-confirm.
//
// Pending changes form one stack per namespace (an Engine serves one).
// While a stack pends, every change applied through the engine joins it,
// risky or not: the rollback restores the state from before the stack, and
// a change made on top of pending ones was made on a state that may be
// undone. Each new change restarts the stack's countdown. A timeout or
// Close undoes the whole stack, newest change first, through change.Undo.
//
// A confirmation keeps the whole stack. It comes over a new connection
// from the state with every pending change applied, which is the only
// state it proves reachable: keeping an older change while undoing a newer
// one would leave a state nobody has reached the panel from (a newer
// change may be what keeps the admin connected), and undoing an older
// change under a kept newer one is not even well defined. So an admin
// confirms their newest pending change, which keeps everything below it;
// confirming an older one is refused with the name of the newest. When
// several admins have changes in the stack, it is kept once each of them
// has confirmed after its newest change was applied; until then it stays
// pending and may still roll back.
type Engine struct {
	t       *change.Target
	model   change.Model
	names   func() change.Names
	linkOf  func(int32) string
	log     *slog.Logger
	audit   Audit
	Timeout time.Duration
	// Sync, when set, returns once the model holds every change the kernel
	// has acknowledged (monitor.Watcher.Sync). Apply calls it before
	// checking a change, so that the change's inverse is computed from the
	// state it changes, not from one a change or a rollback ago.
	Sync func(context.Context) error

	// run serializes what changes the kernel: Apply, rollbacks, Confirm
	// (which must not keep a stack whose rollback runs). Taken before mu.
	run sync.Mutex
	// stopping is closed when Close begins: an Apply waiting for the model
	// gives up rather than hold the shutdown's rollback back.
	stopping chan struct{}
	stopOnce sync.Once

	mu      sync.Mutex
	changes map[string]*entry
	order   []string       // ids, oldest first, bounded
	stack   []*entry       // pending changes, oldest first
	gen     int            // bumped by each change joining the stack
	votes   map[string]int // admin → gen at which they confirmed
	timer   *time.Timer    // the stack's countdown
}

type entry struct {
	out     Outcome
	inverse []change.Op
	undoFn  Undo // a batch's, instead of inverse
}

// New returns an engine applying to t, checking against model.
func New(t *change.Target, model change.Model, names func() change.Names, log *slog.Logger, audit Audit) *Engine {
	return &Engine{
		t: t, model: model, names: names, log: log, audit: audit, Timeout: DefaultTimeout,
		linkOf:   func(i int32) string { return names().LinkName(i) },
		changes:  map[string]*entry{},
		stopping: make(chan struct{}),
	}
}

// ErrNotPending is returned when confirming a change that is not waiting.
var ErrNotPending = errors.New("that change is not waiting for confirmation (confirmed already, or rolled back)")

// ErrNotNewest is returned (wrapped, naming the newest) when confirming a
// pending change below a newer one of the same admin.
var ErrNotNewest = errors.New("a newer change of yours waits with this one, and a confirmation keeps both: confirm the newest")

// ErrStopping is returned by Apply once Close has begun.
var ErrStopping = errors.New("netpanel is stopping: no more changes")

// Apply checks, applies and, when the change may cut the client off or
// other changes are pending, stacks it for confirmation. A failed op rolls
// back the ops before it at once.
func (e *Engine) Apply(req Request) (Outcome, error) {
	e.run.Lock()
	defer e.run.Unlock()
	out := Outcome{ID: newID(), User: req.User, Client: req.Client, At: time.Now()}
	if e.stopped() {
		return out, ErrStopping
	}
	if err := e.syncModel(syncTimeout); err != nil {
		if e.stopped() {
			return out, ErrStopping
		}
		return out, fmt.Errorf("netpanel's view of the network lags behind the kernel, so it cannot tell how to undo the change; try again: %w", err)
	}
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
	risky, reason := e.risk(req)
	for i, op := range req.Ops {
		if err := op.Apply(e.t, e.model); err != nil {
			out.State, out.Err = Failed, err.Error()
			if out.LeftOver = e.undo(undo(i)); len(out.LeftOver) > 0 {
				out.Err += "; undoing the steps before it failed too, left over: " + strings.Join(out.LeftOver, "; ")
			}
			e.record(&entry{out: out})
			return out, err
		}
	}
	return e.settle(&entry{out: out, inverse: undo(len(req.Ops))}, risky, reason), nil
}

// settle records an applied change: done when it is not risky and nothing
// pends, else pending on the stack. e.run held.
func (e *Engine) settle(en *entry, risky bool, reason string) Outcome {
	e.mu.Lock()
	if !risky && len(e.stack) == 0 {
		en.out.State, en.inverse, en.undoFn = Applied, nil, nil
		e.mu.Unlock()
		e.record(en)
		return en.out
	}
	if !risky {
		reason = "it was applied while other changes wait for confirmation, and is kept or rolled back with them"
	}
	en.out.State, en.out.Reason = Pending, reason
	e.push(en)
	out := e.view(en)
	e.mu.Unlock()
	e.record(en)
	return out
}

// risk tells whether the request may cut its client off, and why.
func (e *Engine) risk(req Request) (bool, string) {
	if !req.Client.IsValid() {
		return false, ""
	}
	path, err := FindPath(e.t, req.Client, e.linkOf)
	if err != nil {
		return true, "netpanel cannot tell how your connection is routed: " + err.Error()
	}
	conn := req.Conn
	conn.Path = path
	for _, op := range req.Ops {
		r, why := false, ""
		if cr, ok := op.(ConnRisker); ok {
			r, why = cr.ConnRisk(conn)
		} else {
			r, why = Risk(op.Touches(), path)
		}
		if r {
			return true, why
		}
	}
	return false, ""
}

// push puts en on the stack and restarts the stack's countdown. e.mu held.
func (e *Engine) push(en *entry) {
	e.stack = append(e.stack, en)
	e.gen++
	deadline := time.Now().Add(e.Timeout)
	for _, s := range e.stack {
		s.out.Deadline = deadline
	}
	if e.timer != nil {
		e.timer.Stop()
	}
	gen := e.gen
	e.timer = time.AfterFunc(e.Timeout, func() { e.expire(gen) })
}

// expire rolls the stack back when its countdown (of generation gen) ran
// out; a change that joined meanwhile restarted it.
func (e *Engine) expire(gen int) {
	e.run.Lock()
	defer e.run.Unlock()
	e.mu.Lock()
	current := gen == e.gen && len(e.stack) > 0
	e.mu.Unlock()
	if current {
		e.rollback("it was not confirmed in time")
	}
}

// undo applies inverse ops as one rollback and returns what failed, as
// "command: error" lines. It goes on after a failure: restoring as much as
// possible matters most when the admin may be cut off.
func (e *Engine) undo(ops []change.Op) []string {
	u := change.NewUndo(e.t, e.model)
	var failed []change.Op
	var errs []error
	for _, op := range ops {
		if err := u.Apply(op); err != nil {
			failed, errs = append(failed, op), append(errs, err)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	// Name links as they are called now that the rollback is done (within
	// reason: on shutdown the watcher may be gone already).
	_ = e.syncModel(2 * time.Second)
	n := e.names()
	left := make([]string, len(failed))
	for i, op := range failed {
		left[i] = op.Command(n) + ": " + errs[i].Error()
	}
	return left
}

// rollback undoes the whole stack, newest change first, and records each
// change's end. e.run held.
func (e *Engine) rollback(why string) {
	e.mu.Lock()
	stack := e.stack
	e.stack, e.votes = nil, nil
	if e.timer != nil {
		e.timer.Stop()
	}
	e.mu.Unlock()
	left := make([][]string, len(stack))
	undone := make([][]string, len(stack))
	for i := len(stack) - 1; i >= 0; i-- {
		if u := stack[i].undoFn; u != nil {
			undone[i], left[i] = u()
			continue
		}
		left[i] = e.undo(stack[i].inverse)
	}
	for i := len(stack) - 1; i >= 0; i-- {
		en := stack[i]
		out, _ := e.update(en.out.ID, func(en *entry) bool {
			en.out.State, en.out.Ended, en.out.LeftOver, en.out.Undone = RolledBack, why, left[i], undone[i]
			if len(left[i]) > 0 {
				en.out.State = RollbackFailed
				en.out.Err = "rolling back failed, left over: " + strings.Join(left[i], "; ")
			}
			return true
		})
		if out.State == RollbackFailed {
			e.log.Error("rolling back an unconfirmed change failed", "id", out.ID, "why", why, "left_over", out.LeftOver)
		} else {
			e.log.Warn("rolled back an unconfirmed change", "id", out.ID, "why", why)
		}
	}
}

// syncModel waits (at most d, and not once Close began) until the model
// holds every change the kernel acknowledged.
func (e *Engine) syncModel(d time.Duration) error {
	if e.Sync == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	go func() {
		select {
		case <-e.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	return e.Sync(ctx)
}

func (e *Engine) stopped() bool {
	select {
	case <-e.stopping:
		return true
	default:
		return false
	}
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

// view is en's outcome as shown, with the stack's current confirmation
// needs for a pending change. e.mu held.
func (e *Engine) view(en *entry) Outcome {
	out := en.out
	if out.State != Pending {
		return out
	}
	if newest := e.newestOf(out.User); newest != nil {
		out.ConfirmWith = newest.out.ID
	}
	out.Waiting = e.waiting()
	return out
}

// newestOf returns user's newest change in the stack. e.mu held.
func (e *Engine) newestOf(user string) *entry {
	for i := len(e.stack) - 1; i >= 0; i-- {
		if e.stack[i].out.User == user {
			return e.stack[i]
		}
	}
	return nil
}

// waiting lists the admins with a change in the stack who have not
// confirmed since the newest change joined it. e.mu held.
func (e *Engine) waiting() []string {
	var users []string
	for _, s := range e.stack {
		if u := s.out.User; e.votes[u] != e.gen && !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	return users
}

// Confirm keeps a pending change, and with it the whole stack (see
// Engine). Only its author may confirm it, and only their newest.
func (e *Engine) Confirm(id, user string) (Outcome, error) {
	e.run.Lock()
	defer e.run.Unlock()
	e.mu.Lock()
	en, ok := e.changes[id]
	if !ok || en.out.State != Pending || en.out.User != user {
		e.mu.Unlock()
		return Outcome{}, ErrNotPending
	}
	if newest := e.newestOf(user); newest != en {
		e.mu.Unlock()
		return Outcome{}, fmt.Errorf("%w (%s: %s)", ErrNotNewest, newest.out.ID, strings.Join(newest.out.Commands, "; "))
	}
	if e.votes == nil {
		e.votes = map[string]int{}
	}
	e.votes[user] = e.gen
	if len(e.waiting()) > 0 {
		out := e.view(en)
		e.mu.Unlock()
		return out, nil
	}
	e.timer.Stop()
	kept := e.stack
	e.stack, e.votes = nil, nil
	for _, s := range kept {
		s.out.State = Confirmed
	}
	e.mu.Unlock()
	var out Outcome
	for _, s := range kept {
		o, _ := e.update(s.out.ID, func(s *entry) bool { s.out.Seen = s.out.Seen || s.out.User == user; return true })
		if s == en {
			out = o
		}
	}
	return out, nil
}

// Get returns one change.
func (e *Engine) Get(id string) (Outcome, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	en, ok := e.changes[id]
	if !ok {
		return Outcome{}, false
	}
	return e.view(en), true
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
			out = append(out, e.view(en))
		case (en.out.State == RolledBack || en.out.State == RollbackFailed) && !en.out.Seen:
			out = append(out, en.out)
			en.out.Seen = true
		}
	}
	return out
}

// Close rolls back the pending stack now, newest change first: netpanel
// is stopping and could not roll it back later. Apply refuses from then
// on. Close may be called more than once.
func (e *Engine) Close() {
	e.stopOnce.Do(func() { close(e.stopping) })
	e.run.Lock()
	defer e.run.Unlock()
	e.mu.Lock()
	pending := len(e.stack) > 0
	e.mu.Unlock()
	if pending {
		e.rollback("netpanel stopped before it was confirmed")
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
			out = append(out, e.view(en))
		}
	}
	return out
}
