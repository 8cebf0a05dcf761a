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

	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/views"
)

// maxJSONBody bounds a change sent as JSON; a change is a few fields.
const maxJSONBody = 64 << 10

// errBodyTooLarge names the limit, where a decoder cut at the limit would
// only say "unexpected EOF".
var errBodyTooLarge = errors.New("request body too large (limit 64 KiB)")

// changeRequest reads a change from a form post or a JSON body
// {"kind": "route", "fields": {"action": "add", "dst": "...", ...}}.
// isJSON is true for a JSON body, whose fields are checked against its
// kind's (a form post carries the page's other controls too).
func changeRequest(r *http.Request) (kind string, form url.Values, isJSON bool, err error) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := r.ParseForm(); err != nil {
			return "", nil, false, fmt.Errorf("the form could not be read: %w", err)
		}
		return r.PostForm.Get("kind"), r.PostForm, false, nil
	}
	var body ChangeRequestJSON
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	switch {
	case err != nil:
		return "", nil, true, fmt.Errorf("the request body could not be read: %w", err)
	case len(raw) > maxJSONBody:
		return "", nil, true, errBodyTooLarge
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // {"kind": ..., "feilds": ...} must not apply an empty change
	if err := dec.Decode(&body); err != nil {
		return "", nil, true, fmt.Errorf("the request body is not the expected JSON {\"kind\": ..., \"fields\": {...}}: %w", err)
	}
	form, err = jsonFields(body.Fields)
	return body.Kind, form, true, err
}

// jsonFields reads a JSON object's fields as a form's: strings as they
// are, numbers as printed, true as a checked box, lists as repeats.
func jsonFields(fields map[string]any) (url.Values, error) {
	form := url.Values{}
	for k, v := range fields {
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
			return nil, fmt.Errorf("field %s: unsupported value %v", k, v)
		}
	}
	return form, nil
}

// changeKind is which form a change came from: its kind and action.
type changeKind struct{ kind, action string }

// parseChange reads the ops of a change form or JSON body.
func (f *frame) parseChange(r *http.Request) ([]change.Op, changeKind, error) {
	kind, form, isJSON, err := changeRequest(r)
	if err != nil {
		return nil, changeKind{}, err
	}
	ck := changeKind{kind, form.Get("action")}
	p, ok := changeParsers[kind]
	if !ok {
		p, ok = f.parsers[kind]
	}
	if !ok {
		return nil, ck, fmt.Errorf("unknown kind of change %q", kind)
	}
	if isJSON {
		if err := checkFields(kind, p, form); err != nil {
			return nil, ck, err
		}
	}
	ops, err := p.parse(form, f.tables())
	return ops, ck, err
}

// previewOf is what the form shows before apply: the commands, or the
// messages per field, each naming its field as the form does.
func (f *frame) previewOf(ck changeKind, ops []change.Op, err error) views.ChangePreview {
	var pv views.ChangePreview
	var fe change.FieldErrors
	switch {
	case errors.As(err, &fe):
		pv.Fields = map[string]string(fe)
		pv.Labels = map[string]string{}
		for field := range fe {
			pv.Labels[field] = views.FieldLabel(ck.kind, ck.action, field, linkAddForm())
		}
		pv.Error = "Fix the marked fields; nothing was changed."
	case err != nil:
		pv.Error = err.Error()
	}
	names := f.names()
	for _, op := range ops {
		pv.Cmds = append(pv.Cmds, views.Cmd{IP: op.Command(names), Old: op.OldCommand(names)})
	}
	return pv
}

// changeFailed answers a change that was not applied: JSON with the
// messages per field for the API, the form's preview block otherwise.
func (f *frame) changeFailed(w http.ResponseWriter, r *http.Request, status int, pv views.ChangePreview, err error) {
	if isAPI(r) {
		writeJSON(w, status, ErrorJSON{Error: err.Error(), Fields: pv.Fields})
		return
	}
	if pv.Error == "" {
		pv.Error = err.Error()
	}
	f.render(w, r, status, views.PreviewBlock(pv))
}
