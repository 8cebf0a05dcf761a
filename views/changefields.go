package views

import (
	"slices"
	"strings"

	"github.com/a-h/templ"
)

// The change forms are declared here once, field by field: the templates
// render them from these lists, static/forms.js shows only the fields of
// the chosen action (When), and a message about a field the form does
// not show names it by its label (FieldLabel) rather than by its key.

// FormField is one field of a form.
type FormField struct {
	Name, Label, Hint string
	// Choices makes it a select of these values.
	Choices []string
	// Input says how it is asked when not by Choices: "" a text field,
	// "check" a checkbox, "devs" a choice of the interfaces, "devs?" the
	// same with "" first (optional), "tables" a text field suggesting the
	// table names.
	Input string
	// When shows the field only while another control of the form has
	// one of some values: "action=mtu", "type=vxlan,macvlan"; "" always.
	// Hidden fields are not sent.
	When string
	// Group puts consecutive fields of one group in a fieldset with this
	// legend.
	Group string
	// Replacing is the choice offered only while the form holds the
	// object it replaces (a rule has no replace of its own).
	Replacing string
}

// The change forms' inputs.
const (
	inCheck  = "check"
	inDevs   = "devs"
	inDevsOr = "devs?"
	inTables = "tables"
	// inDevsText is a text field suggesting the interfaces: a name that
	// need not exist yet.
	inDevsText = "devs-text"
)

// LinkFormFields is "Change an interface".
var LinkFormFields = []FormField{
	{Name: "name", Label: "Interface", Input: inDevs},
	{Name: "action", Label: "Change", Choices: []string{"up", "down", "mtu", "rename", "alias", "master", "del"}},
	{Name: "mtu", Label: "MTU", Hint: "1500", When: "action=mtu"},
	{Name: "new_name", Label: "New name", When: "action=rename"},
	{Name: "alias", Label: "Alias", Hint: "empty: none", When: "action=alias"},
	{Name: "master", Label: "Master (bridge)", Hint: "empty: none", When: "action=master"},
}

// AddrFormFields is "Add or delete an address".
var AddrFormFields = []FormField{
	{Name: "action", Label: "Action", Choices: []string{"add", "del"}},
	{Name: "dev", Label: "Interface", Input: inDevs},
	{Name: "prefix", Label: "Address/length", Hint: "192.0.2.5/24"},
	{Name: "peer", Label: "Peer", Hint: "point-to-point only", When: "action=add"},
	{Name: "label", Label: "Label", When: "action=add"},
	{Name: "scope", Label: "Scope", Hint: "global", When: "action=add"},
	{Name: "valid_lft", Label: "Valid lifetime", Hint: "forever", When: "action=add"},
	{Name: "preferred_lft", Label: "Preferred lifetime", Hint: "forever", When: "action=add"},
}

// RouteFormFields is "Add, replace or delete a route" without its
// metrics, which RouteMetricFields adds.
var RouteFormFields = []FormField{
	{Name: "action", Label: "Action", Choices: []string{"add", "replace", "del"}},
	{Name: "table", Label: "Table", Input: inTables},
	{Name: "dst", Label: "Destination", Hint: "default or 10.0.0.0/8"},
	{Name: "via", Label: "Gateway", Hint: "192.0.2.1"},
	{Name: "dev", Label: "Device", Input: inDevsOr},
	{Name: "metric", Label: "Metric", Hint: "0"},
	{Name: "type", Label: "Type", Choices: []string{"unicast", "blackhole", "unreachable", "prohibit"}},
	{Name: "tos", Label: "TOS", Hint: "0x10"},
	{Name: "proto", Label: "Protocol", Hint: "static"},
	{Name: "scope", Label: "Scope", Hint: "global"},
	{Name: "src", Label: "Source", When: "action=add,replace"},
	{Name: "from", Label: "From (IPv6 source prefix)", Hint: "2001:db8::/64"},
	{Name: "onlink", Label: "onlink", Input: inCheck, When: "action=add,replace"},
}

// RouteMetricFields are the route form's metrics, for adding and
// replacing (a route is deleted by its key).
func RouteMetricFields(metrics []string) []FormField {
	out := make([]FormField, 0, len(metrics)+1)
	for _, m := range metrics {
		out = append(out, FormField{Name: m, Label: m, When: "action=add,replace", Group: "Metrics"})
	}
	return append(out, FormField{Name: "mtu_lock", Label: "mtu lock", Input: inCheck, When: "action=add,replace", Group: "Metrics"})
}

// RuleFormFields is "Add or delete a rule". "replace" is offered only
// when the form holds the rule it replaces (a row's Replace action).
var RuleFormFields = []FormField{
	{Name: "action", Label: "Action", Choices: []string{"add", "del", "replace"}, Replacing: "replace"},
	{Name: "family", Label: "Family", Choices: []string{"inet", "inet6"}},
	{Name: "priority", Label: "Priority", Hint: "16286"},
	{Name: "from", Label: "From", Hint: "all or 10.0.0.0/8"},
	{Name: "to", Label: "To"},
	{Name: "fwmark", Label: "fwmark[/mask]", Hint: "0x20/0x20"},
	{Name: "iif", Label: "iif", Input: inDevsOr},
	{Name: "oif", Label: "oif", Input: inDevsOr},
	{Name: "table", Label: "Table", Input: inTables},
	{Name: "ipproto", Label: "ipproto", Hint: "tcp"},
	{Name: "sport", Label: "sport", Hint: "1000-2000"},
	{Name: "dport", Label: "dport", Hint: "443"},
	{Name: "uidrange", Label: "uidrange", Hint: "1000-1999"},
	{Name: "suppress_prefixlength", Label: "suppress_prefixlength", Hint: "0"},
	{Name: "goto", Label: "goto (priority)"},
	{Name: "type", Label: "Type", Choices: []string{"", "nop", "blackhole", "unreachable", "prohibit"}},
	{Name: "not", Label: "not", Input: inCheck},
	{Name: "l3mdev", Label: "l3mdev", Input: inCheck},
}

// NeighFormFields is "Add or delete a permanent neighbour".
var NeighFormFields = []FormField{
	{Name: "action", Label: "Action", Choices: []string{"add", "del"}},
	{Name: "dev", Label: "Interface", Input: inDevs},
	{Name: "ip", Label: "Address", Hint: "192.0.2.9"},
	{Name: "lladdr", Label: "MAC", Hint: "02:00:00:00:00:09", When: "action=add"},
}

// TableFormFields is the named tables editor.
var TableFormFields = []FormField{
	{Name: "action", Label: "Action", Choices: []string{"add", "rename", "del"}},
	{Name: "id", Label: "Number", Hint: "1", When: "action=add"},
	{Name: "name", Label: "Name", Hint: "wan-force"},
	{Name: "new_name", Label: "New name", When: "action=rename"},
}

// NftFormFields is "Add a mark rule" to netpanel's nftables table. Its
// "action" is the rule's kind, since "kind" names the change; an
// interface or a socket owner is asked only where the hook has one.
var NftFormFields = []FormField{
	{Name: "hook", Label: "Chain", Choices: []string{"output", "prerouting"}},
	{Name: "action", Label: "Action (mark sets bits; restore, save copy from, to conntrack)", Choices: []string{"mark", "restore", "save"}},
	{Name: "proto", Label: "Protocol", Choices: []string{"", "udp", "tcp"}},
	{Name: "src", Label: "Source", Hint: "10.0.0.0/8"},
	{Name: "dst", Label: "Destination", Hint: "203.0.113.5"},
	{Name: "sport", Label: "Source port", Hint: "1000-2000"},
	{Name: "dport", Label: "Destination port", Hint: "1194"},
	{Name: "iif", Label: "Input interface", Input: inDevsText, When: "hook=prerouting"},
	{Name: "oif", Label: "Output interface", Input: inDevsText, When: "hook=output"},
	{Name: "uid", Label: "Socket owner (uid or user)", Hint: "1001", When: "hook=output"},
	{Name: "mark", Label: "Mark[/mask]", Hint: "0x20/0x20", When: "action=mark"},
	{Name: "mask", Label: "Mask", Hint: "0xffffffff", When: "action=restore,save"},
	{Name: "comment", Label: "Comment"},
}

// LinkAddFields is "Create an interface" for the kinds and fields f
// declares: each kind's own fields show while that kind is chosen.
func LinkAddFields(f LinkAddFormVM) []FormField {
	out := []FormField{
		{Name: "type", Label: "Kind", Choices: f.Kinds},
		{Name: "name", Label: "Name", Hint: "br1"},
	}
	out = append(out, f.Fields...)
	return append(out, FormField{Name: "dev", Label: "Lower device", Input: inDevsOr, When: whenAny("type", f.LowerKinds)})
}

// whenAny is a When for the values of control name; "" (always) when
// values is nil, since a When that matches nothing would hide the field
// for good.
func whenAny(name string, values []string) string {
	if len(values) == 0 {
		return ""
	}
	return name + "=" + strings.Join(values, ",")
}

// formFieldsOf returns the fields of the change form a change of kind
// with action is typed into; nil when there is none.
func formFieldsOf(kind, action string, linkAdd LinkAddFormVM) []FormField {
	switch kind {
	case "link":
		if action == "add" {
			return LinkAddFields(linkAdd)
		}
		return LinkFormFields
	case "addr":
		return AddrFormFields
	case "route":
		return RouteFormFields
	case "rule":
		return RuleFormFields
	case "neigh":
		return NeighFormFields
	case "nft":
		return NftFormFields
	}
	return nil
}

// FieldLabel is what the form of a change of kind (with action) calls
// field; a field the form does not have ("nexthops[1].via", a route
// metric) keeps its key, which is also what the API calls it.
func FieldLabel(kind, action, field string, linkAdd LinkAddFormVM) string {
	if i := slices.IndexFunc(formFieldsOf(kind, action, linkAdd), func(f FormField) bool { return f.Name == field }); i >= 0 {
		return formFieldsOf(kind, action, linkAdd)[i].Label
	}
	return field
}

// groups splits fields into runs of one Group, in order.
func groups(fields []FormField) [][]FormField {
	var out [][]FormField
	for i, f := range fields {
		if i == 0 || f.Group != fields[i-1].Group {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], f)
	}
	return out
}

// optionalDevs is the interface choice with "" (none) first.
func optionalDevs(devs []string) []string { return append([]string{""}, devs...) }

// when is the data-when attribute of a field shown only sometimes.
func when(w string) templ.Attributes {
	if w == "" {
		return nil
	}
	return templ.Attributes{"data-when": w}
}
