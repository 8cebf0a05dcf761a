package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
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
}

// maxJSONBody bounds a change sent as JSON; a change is a few fields.
const maxJSONBody = 64 << 10

// errBodyTooLarge names the limit, where a decoder cut at the limit would
// only say "unexpected EOF".
var errBodyTooLarge = errors.New("request body too large (limit 64 KiB)")

// changeRequest reads a change from a form post or a JSON body
// {"kind": "route", "fields": {"action": "add", "dst": "...", ...}}.
func changeRequest(r *http.Request) (kind string, form url.Values, err error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body struct {
			Kind   string         `json:"kind"`
			Fields map[string]any `json:"fields"`
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
		switch {
		case err != nil:
			return "", nil, fmt.Errorf("the request body could not be read: %w", err)
		case len(raw) > maxJSONBody:
			return "", nil, errBodyTooLarge
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&body); err != nil {
			return "", nil, fmt.Errorf("the request body is not the expected JSON: %w", err)
		}
		form = url.Values{}
		for k, v := range body.Fields {
			switch v := v.(type) {
			case string:
				form.Set(k, v)
			case bool:
				if v {
					form.Set(k, "on")
				}
			case float64:
				form.Set(k, fmt.Sprint(v))
			case []any:
				for _, x := range v {
					form.Add(k, fmt.Sprint(x))
				}
			default:
				return "", nil, fmt.Errorf("field %s: unsupported value %v", k, v)
			}
		}
		return body.Kind, form, nil
	}
	if err := r.ParseForm(); err != nil {
		return "", nil, fmt.Errorf("the form could not be read: %w", err)
	}
	return r.PostForm.Get("kind"), r.PostForm, nil
}

func (h *Handlers) parseChange(r *http.Request) ([]change.Op, string, error) {
	kind, form, err := changeRequest(r)
	if err != nil {
		return nil, kind, err
	}
	p, ok := changeParsers[kind]
	if !ok {
		return nil, kind, fmt.Errorf("unknown kind of change %q", kind)
	}
	ops, err := p(form, h.d.Tables())
	return ops, kind, err
}

// preview is what the form shows before apply: the commands, or the
// messages per field.
func (h *Handlers) preview(ops []change.Op, err error) views.ChangePreview {
	var pv views.ChangePreview
	var fe change.FieldErrors
	switch {
	case errors.As(err, &fe):
		pv.Fields = map[string]string(fe)
		pv.Error = "Fix the marked fields; nothing was changed."
	case err != nil:
		pv.Error = err.Error()
	}
	names := h.names()
	for _, op := range ops {
		pv.Cmds = append(pv.Cmds, views.Cmd{IP: op.Command(names), Old: op.OldCommand(names)})
	}
	return pv
}

// ChangePreview serves POST /changes/preview: the ip command(s) the form
// would run, as the admin types.
func (h *Handlers) ChangePreview(w http.ResponseWriter, r *http.Request) {
	ops, _, err := h.parseChange(r)
	if err == nil {
		for _, op := range ops {
			if cerr := op.Check(h.d.Store); cerr != nil {
				err = cerr
				break
			}
		}
	}
	pv := h.preview(ops, err)
	pv.ReadOnly = h.d.Changes == nil
	h.render(w, r, http.StatusOK, views.PreviewBlock(pv))
}

// Change serves POST /changes: validate, apply with commit-confirm, and
// answer with the outcome. The answer closes the connection, so the
// confirmation has to come over a new one: proof that the admin can still
// reach the machine after the change.
func (h *Handlers) Change(w http.ResponseWriter, r *http.Request) {
	api := strings.HasPrefix(r.URL.Path, "/api/")
	if h.d.Changes == nil {
		h.changeFailed(w, r, api, http.StatusForbidden, views.ChangePreview{}, errReadOnly)
		return
	}
	ops, _, err := h.parseChange(r)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errBodyTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		h.changeFailed(w, r, api, status, h.preview(ops, err), err)
		return
	}
	out, err := h.d.Changes.Apply(identity(r), ops)
	if err != nil {
		h.changeFailed(w, r, api, http.StatusUnprocessableEntity, h.preview(ops, err), err)
		return
	}
	w.Header().Set("Connection", "close")
	if api {
		writeJSON(w, http.StatusOK, outcomeJSON(out))
		return
	}
	h.render(w, r, http.StatusOK, views.OutcomeBlock(outcomeVM(out)))
}

func (h *Handlers) changeFailed(w http.ResponseWriter, r *http.Request, api bool, status int, pv views.ChangePreview, err error) {
	if api {
		body := map[string]any{"error": err.Error()}
		if pv.Fields != nil {
			body["fields"] = pv.Fields
		}
		writeJSON(w, status, body)
		return
	}
	if pv.Error == "" {
		pv.Error = err.Error()
	}
	h.render(w, r, status, views.PreviewBlock(pv))
}

var errReadOnly = errors.New("netpanel runs read-only (no CAP_NET_ADMIN): it cannot change the network")

// ConfirmChange serves POST /changes/{id}/confirm.
func (h *Handlers) ConfirmChange(w http.ResponseWriter, r *http.Request) {
	if h.d.Changes == nil {
		apiError(w, http.StatusForbidden, errReadOnly)
		return
	}
	out, err := h.d.Changes.Confirm(identity(r), chi.URLParam(r, "id"))
	api := strings.HasPrefix(r.URL.Path, "/api/")
	if err != nil {
		if api {
			apiError(w, http.StatusConflict, err)
			return
		}
		got, _ := h.d.Changes.Get(chi.URLParam(r, "id"))
		vm := outcomeVM(got)
		vm.Error = err.Error()
		h.render(w, r, http.StatusConflict, views.OutcomeBlock(vm))
		return
	}
	if api {
		writeJSON(w, http.StatusOK, outcomeJSON(out))
		return
	}
	h.render(w, r, http.StatusOK, views.OutcomeBlock(outcomeVM(out)))
}

// OutcomeJSON is a change's state in the API. State "rollback-failed"
// means the rollback could not undo everything: LeftOver lists each step
// still in effect with the kernel's answer.
type OutcomeJSON struct {
	ID          string   `json:"id"`
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
	j := OutcomeJSON{ID: o.ID, State: string(o.State), Commands: o.Commands, Reason: o.Reason, Error: o.Err,
		Ended: o.Ended, LeftOver: o.LeftOver, ConfirmWith: o.ConfirmWith, Waiting: o.Waiting}
	if o.State == safeapply.Pending {
		j.Deadline = o.Deadline.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	return j
}

func outcomeVM(o safeapply.Outcome) views.OutcomeVM {
	return views.OutcomeVM{
		ID: o.ID, State: string(o.State), Commands: o.Commands, Reason: o.Reason, Err: o.Err,
		DeadlineUnixMs: o.Deadline.UnixMilli(), Deadline: o.Deadline.Format("15:04:05"), At: o.At.Format("15:04:05"),
		Ended: o.Ended, LeftOver: o.LeftOver, ConfirmWith: o.ConfirmWith, Waiting: o.Waiting,
	}
}

// Notices returns the banners about the viewer's pending or rolled-back
// changes, for every page.
func (h *Handlers) notices(r *http.Request) []views.OutcomeVM {
	if h.d.Changes == nil {
		return nil
	}
	var out []views.OutcomeVM
	for _, o := range h.d.Changes.Unseen(identity(r)) {
		out = append(out, outcomeVM(o))
	}
	return out
}

// ChangeNotices serves GET /changes/notices: the viewer's pending changes
// and the ones rolled back while the viewer was away, shown once.
func (h *Handlers) ChangeNotices(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, views.Notices(h.notices(r)))
}

// APIChange serves GET /api/v1/changes/{id}: where a change stands.
func (h *Handlers) APIChange(w http.ResponseWriter, r *http.Request) {
	if h.d.Changes == nil {
		apiError(w, http.StatusNotFound, errReadOnly)
		return
	}
	out, ok := h.d.Changes.Get(chi.URLParam(r, "id"))
	if !ok || out.User != identity(r).User {
		apiError(w, http.StatusNotFound, errors.New("no such change"))
		return
	}
	writeJSON(w, http.StatusOK, outcomeJSON(out))
}

// APIChanges serves GET /api/v1/changes: the caller's recent changes,
// newest first, so a client that lost its connection learns what happened.
func (h *Handlers) APIChanges(w http.ResponseWriter, r *http.Request) {
	out := []OutcomeJSON{}
	if h.d.Changes != nil {
		for _, o := range h.d.Changes.List(identity(r)) {
			out = append(out, outcomeJSON(o))
		}
	}
	writeJSON(w, http.StatusOK, out)
}
