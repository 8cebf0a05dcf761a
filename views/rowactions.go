package views

import (
	"strings"

	"github.com/a-h/templ"
)

// The actions on a table's rows, declared once per kind of object. A page
// renders each kind's menu once (RowActionMenu, a <template>); a row
// carries only its object's form fields (data-fields, from the change
// package's RouteFieldsOf and the like) and a button that opens the menu,
// so a page of rows costs no more than its data. static/actions.js builds
// the menu, fills the forms and asks before what it applies from its
// dialog; the interface view reuses LinkActions.

// RowAction is one action on a row.
type RowAction struct {
	ID    string // "link-mtu": the menu item's data-action, and its case in e2e/forms_test.go
	Label string // "Change MTU…"
	Kind  string // the change it posts (a key of handlers' parsers): "link"
	Set   string // the fields it sets over the row's, as a query: "action=mtu"
	// Form is the change form (data-form) it fills with the row and opens,
	// with the focus in Focus. Without one, it is applied from a dialog
	// that shows its exact command and asks first.
	Form, Focus string
	// Replace puts the row in the form's "old": the change replaces that
	// object (handlers delete it first when the form's key differs).
	Replace bool
	// Rename gives form fields a row field's value, "form=row" ("dev=name":
	// a link's name is the address form's dev); Drop then lists the row
	// fields it does not send (a delete takes a route's key, not its
	// metrics).
	Drop, Rename []string
	// State offers it only on rows whose data-state is this.
	State  string
	Danger bool // it deletes
}

// LinkActions are an interface's. Its row carries name, mtu, alias and
// master.
var LinkActions = []RowAction{
	{ID: "link-down", Label: "Bring down", Kind: "link", Set: "action=down", Drop: linkAttrs, State: "up"},
	{ID: "link-up", Label: "Bring up", Kind: "link", Set: "action=up", Drop: linkAttrs, State: "down"},
	{ID: "link-mtu", Label: "Change MTU…", Kind: "link", Set: "action=mtu", Form: "link", Focus: "mtu"},
	{ID: "link-rename", Label: "Rename…", Kind: "link", Set: "action=rename", Form: "link", Focus: "new_name", Rename: []string{"new_name=name"}},
	{ID: "link-alias", Label: "Set alias…", Kind: "link", Set: "action=alias", Form: "link", Focus: "alias"},
	{ID: "link-master", Label: "Set master…", Kind: "link", Set: "action=master", Form: "link", Focus: "master"},
	{ID: "link-addr", Label: "Add an address…", Kind: "addr", Set: "action=add", Form: "addr", Focus: "prefix",
		Rename: []string{"dev=name"}, Drop: append([]string{"name"}, linkAttrs...)},
	{ID: "link-del", Label: "Delete…", Kind: "link", Set: "action=del", Drop: linkAttrs, Danger: true},
}

// linkAttrs are the link row's fields besides its name.
var linkAttrs = []string{"mtu", "alias", "master"}

// AddrActions are an address's: it sits in its interface's row.
var AddrActions = []RowAction{
	{ID: "addr-del", Label: "Delete address…", Kind: "addr", Set: "action=del", Danger: true},
}

// RouteActions are a route's; metrics are the route form's metric fields,
// which a delete does not send.
func RouteActions(metrics []string) []RowAction {
	key := append(append([]string(nil), metrics...), "mtu_lock")
	return []RowAction{
		{ID: "route-replace", Label: "Replace…", Kind: "route", Set: "action=replace", Form: "route", Focus: "via", Replace: true},
		{ID: "route-copy", Label: "Copy to form", Kind: "route", Set: "action=add", Form: "route", Focus: "dst"},
		{ID: "route-del", Label: "Delete…", Kind: "route", Set: "action=del", Drop: key, Danger: true},
	}
}

// RuleActions are a rule's.
var RuleActions = []RowAction{
	{ID: "rule-replace", Label: "Replace…", Kind: "rule", Set: "action=replace", Form: "rule", Focus: "priority", Replace: true},
	{ID: "rule-copy", Label: "Copy to form", Kind: "rule", Set: "action=add", Form: "rule", Focus: "priority"},
	{ID: "rule-del", Label: "Delete…", Kind: "rule", Set: "action=del", Danger: true},
}

// NeighActions are a neighbour entry's.
var NeighActions = []RowAction{
	{ID: "neigh-del", Label: "Delete…", Kind: "neigh", Set: "action=del", Drop: []string{"lladdr"}, Danger: true},
}

func (a RowAction) attrs() templ.Attributes {
	m := templ.Attributes{"data-action": a.ID, "data-kind": a.Kind, "data-set": a.Set}
	for k, v := range map[string]string{"data-form-id": a.Form, "data-focus": a.Focus, "data-state": a.State,
		"data-drop": strings.Join(a.Drop, " "), "data-rename": strings.Join(a.Rename, " ")} {
		if v != "" {
			m[k] = v
		}
	}
	if a.Replace {
		m["data-replace"] = ""
	}
	return m
}
