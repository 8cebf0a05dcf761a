package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/views"
)

// Changer applies changes with commit-confirm and audits them
// (*app.Changes).
type Changer interface {
	Apply(id app.Identity, ops []change.Op) (safeapply.Outcome, error)
	Confirm(id app.Identity, changeID string) (safeapply.Outcome, error)
	Get(changeID string) (safeapply.Outcome, bool)
	Unseen(id app.Identity) []safeapply.Outcome
	List(id app.Identity) []safeapply.Outcome
	// Pending is every admin's changes waiting for confirmation.
	Pending() []safeapply.Outcome
	// Subscribe wakes after every state a change goes through, so that
	// what shows the pending changes renders again.
	Subscribe() (<-chan struct{}, func())
}

// changeForms serves the change forms every page carries and the change
// API.
type changeForms struct {
	*frame
	changes  Changer
	readOnly bool // changes is nil: previews say nothing can be applied
}

// changeRoutes answer the routes that change the kernel: changeForms, or
// readOnlyChanges without CAP_NET_ADMIN.
type changeRoutes interface {
	notices(w http.ResponseWriter, r *http.Request)
	apply(w http.ResponseWriter, r *http.Request)
	confirm(w http.ResponseWriter, r *http.Request)
	get(w http.ResponseWriter, r *http.Request)
	list(w http.ResponseWriter, r *http.Request)
}

var errReadOnly = errors.New("netpanel runs read-only (no CAP_NET_ADMIN): it cannot change the network")

// OutcomeJSON is a change's state in the API. State "rollback-failed"
// means the rollback could not undo everything: LeftOver lists each step
// still in effect with the kernel's answer.
type OutcomeJSON struct {
	ID          string   `json:"id"`
	Summary     string   `json:"summary,omitempty"`
	Undone      []string `json:"undone,omitempty"`
	State       string   `json:"state"`
	Commands    []string `json:"commands"`
	Reason      string   `json:"reason,omitempty"`
	Deadline    string   `json:"confirm_before,omitempty"`
	Error       string   `json:"error,omitempty"`
	Ended       string   `json:"ended,omitempty"`
	LeftOver    []string `json:"left_over,omitempty"`
	ConfirmWith string   `json:"confirm_with,omitempty"`
	Waiting     []string `json:"waiting_for,omitempty"`
}

func outcomeJSON(o safeapply.Outcome) OutcomeJSON {
	j := OutcomeJSON{ID: o.ID, Summary: o.Summary, Undone: o.Undone, State: string(o.State), Commands: o.Commands, Reason: o.Reason, Error: o.Err,
		Ended: o.Ended, LeftOver: o.LeftOver, ConfirmWith: o.ConfirmWith, Waiting: o.Waiting}
	if o.State == safeapply.Pending {
		j.Deadline = o.Deadline.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	return j
}

func outcomeVM(o safeapply.Outcome) views.OutcomeVM {
	vm := views.OutcomeVM{
		ID: o.ID, State: string(o.State), Commands: o.Commands, Reason: o.Reason, Err: o.Err,
		DeadlineUnixMs: o.Deadline.UnixMilli(), Deadline: o.Deadline.Format("15:04:05"), At: o.At.Format("15:04:05"),
		Ended: o.Ended, LeftOver: o.LeftOver, ConfirmWith: o.ConfirmWith, Waiting: o.Waiting,
		Summary: o.Summary, Undone: o.Undone,
	}
	if o.State == safeapply.Applied && o.Err != "" {
		vm.Note, vm.Err = o.Err, "" // a batch with no live effect says why
	}
	return vm
}

// isAPI reports whether r came through the JSON API rather than a form.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }
