package handlers

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
	"golang.org/x/sys/unix"
)

// OpParser turns a form (or a JSON object's fields) into ops.
type OpParser func(form url.Values, tables model.TableNames) ([]change.Op, error)

// A changeParser reads one kind of change.
type changeParser struct {
	parse OpParser
	// fields are the keys parse reads: its form's fields, those a row's
	// actions fill in, and "old", the object a Replace replaces. The JSON
	// API refuses any other key in "fields" (checkFields), so that a typo
	// ("metirc") is not silently dropped from the change.
	fields []string
}

// changeParsers maps each kind of change to the form fields its page
// sends. The same names work in the JSON API's "fields".
var changeParsers = map[string]changeParser{
	"route": {parseRouteForm, fieldNames(views.RouteFormFields, views.RouteMetricFields(change.RouteMetricNames()),
		// A row's Replace fills in the route's family and nexthops.
		extra("family", "nh_via", "nh_dev", "nh_weight", "nh_onlink", "old"))},
	"addr":  {parseAddrForm, fieldNames(views.AddrFormFields, extra("broadcast"))},
	"link":  {parseLinkForm, fieldNames(views.LinkFormFields, views.LinkAddFields(linkAddForm()))},
	"rule":  {parseRuleForm, fieldNames(views.RuleFormFields, extra("protocol", "old"))},
	"neigh": {parseNeighForm, fieldNames(views.NeighFormFields)},
}

// extra are fields no form shows that a row's actions send.
func extra(names ...string) []views.FormField {
	out := make([]views.FormField, len(names))
	for i, n := range names {
		out[i].Name = n
	}
	return out
}

// fieldNames are the names of the forms' fields, sorted, once each.
func fieldNames(forms ...[]views.FormField) []string {
	var out []string
	for _, form := range forms {
		for _, f := range form {
			out = append(out, f.Name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkFields refuses the keys of a JSON change's fields that its kind
// does not read, naming each and the keys the kind takes.
func checkFields(kind string, p changeParser, form url.Values) error {
	fe := change.FieldErrors{}
	for k := range form {
		if !slices.Contains(p.fields, k) {
			fe[k] = fmt.Sprintf("unknown field %q: a %s change takes %s", k, kind, strings.Join(p.fields, ", "))
		}
	}
	if len(fe) > 0 {
		return fe
	}
	return nil
}

func one(op change.Op, err error) ([]change.Op, error) {
	if err != nil {
		return nil, err
	}
	return []change.Op{op}, nil
}

// parseRouteForm reads a route change. A replace opened from a row
// carries that route in "old": when the form's key (table, destination,
// tos, metric) no longer is the old route's, `ip route replace` would add
// a second route, so the old one is deleted first, in the same change.
func parseRouteForm(f url.Values, tables model.TableNames) ([]change.Op, error) {
	op, err := routeOp(f, tables)
	if err != nil {
		return nil, err
	}
	old, err := replaced(f, func(o url.Values) (change.Op, error) {
		o.Set("action", "del")
		for _, m := range change.RouteMetricNames() {
			o.Del(m)
		}
		o.Del("mtu_lock")
		return routeOp(o, tables)
	})
	if err != nil || old == nil {
		return []change.Op{op}, err
	}
	if sameRouteKey(old.(*change.RouteOp), op) {
		return []change.Op{op}, nil
	}
	return []change.Op{old, op}, nil
}

// sameRouteKey says whether a and b name the same route slot, which a
// replace overwrites.
func sameRouteKey(a, b *change.RouteOp) bool {
	return a.Family == b.Family && a.Table == b.Table && a.Dst == b.Dst && a.Tos == b.Tos && a.Metric == b.Metric &&
		(a.Family != unix.AF_INET6 || a.Dev == b.Dev)
}

// replaced parses the object a row's Replace put in "old", with parse;
// nil when the form has none or does not replace.
func replaced(f url.Values, parse func(url.Values) (change.Op, error)) (change.Op, error) {
	if f.Get("action") != "replace" || f.Get("old") == "" {
		return nil, nil
	}
	o, err := url.ParseQuery(f.Get("old"))
	if err != nil {
		return nil, errors.New("the object to replace is garbled: open Replace from its row again")
	}
	op, err := parse(o)
	if err != nil {
		// Not the form's fields: its messages must not land on them.
		return nil, fmt.Errorf("the object to replace cannot be read (%v): open Replace from its row again", err)
	}
	return op, nil
}

func routeOp(f url.Values, tables model.TableNames) (*change.RouteOp, error) {
	rf := change.RouteFields{
		Action: f.Get("action"), Family: f.Get("family"), Table: f.Get("table"), Dst: f.Get("dst"),
		Via: f.Get("via"), Dev: f.Get("dev"), Metric: f.Get("metric"), Protocol: f.Get("proto"),
		Scope: f.Get("scope"), Src: f.Get("src"), Type: f.Get("type"), Onlink: f.Get("onlink") != "",
		Tos: f.Get("tos"), From: f.Get("from"), MTULock: f.Get("mtu_lock") != "",
	}
	for _, name := range change.RouteMetricNames() {
		if v := f.Get(name); v != "" {
			if rf.Metrics == nil {
				rf.Metrics = map[string]string{}
			}
			rf.Metrics[name] = v
		}
	}
	vias, devs, weights, onlinks := f["nh_via"], f["nh_dev"], f["nh_weight"], f["nh_onlink"]
	for i := range max(len(vias), len(devs)) {
		nh := change.NexthopFields{Via: at(vias, i), Dev: at(devs, i), Weight: at(weights, i), Onlink: at(onlinks, i) != ""}
		if nh.Via != "" || nh.Dev != "" {
			rf.Nexthops = append(rf.Nexthops, nh)
		}
	}
	op, err := change.ParseRoute(rf, tables)
	if err != nil {
		return nil, formNames(err, routeFormNames)
	}
	return op, nil
}

// routeFormNames are the route form's names for fields that
// change.RouteFields calls otherwise.
var routeFormNames = map[string]string{"protocol": "proto"}

// linkFormNames: the link kind is "type" in the form and the API, as in
// `ip link add NAME type bridge`, because "kind" names the change itself.
var linkFormNames = map[string]string{"kind": "type"}

// formNames renames the fields of field errors to the names the form and
// the API use, so that each message lands next to its field.
func formNames(err error, names map[string]string) error {
	var fe change.FieldErrors
	if !errors.As(err, &fe) {
		return err
	}
	out := make(change.FieldErrors, len(fe))
	for k, v := range fe {
		if n, ok := names[k]; ok {
			k = n
		}
		out[k] = v
	}
	return out
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

func parseAddrForm(f url.Values, _ model.TableNames) ([]change.Op, error) {
	return one(change.ParseAddr(change.AddrFields{
		Action: f.Get("action"), Dev: f.Get("dev"), Prefix: f.Get("prefix"), Peer: f.Get("peer"),
		Broadcast: f.Get("broadcast"), Label: f.Get("label"), Scope: f.Get("scope"),
		ValidLft: f.Get("valid_lft"), PreferredLft: f.Get("preferred_lft"),
	}))
}

// parseLinkForm reads the link changes; "action" picks which.
func parseLinkForm(f url.Values, _ model.TableNames) ([]change.Op, error) {
	name := f.Get("name")
	switch a := f.Get("action"); a {
	case "up", "down":
		return one(change.ParseLinkUpDown(name, a))
	case "mtu":
		return one(change.ParseLinkMTU(name, f.Get("mtu")))
	case "rename":
		return one(change.ParseLinkRename(name, f.Get("new_name")))
	case "alias":
		return one(change.ParseLinkAlias(name, f.Get("alias")))
	case "master":
		return one(change.ParseLinkMaster(name, f.Get("master")))
	case "del":
		return one(change.ParseLinkDel(name))
	case "add":
		// Each kind's own fields, as the link-kind registry declares them.
		vals := map[string]string{}
		for _, x := range linkkind.Fields() {
			vals[x.Name] = f.Get(x.Name)
		}
		op, err := change.ParseLinkAdd(change.LinkAddFields{Kind: f.Get("type"), Name: name, Dev: f.Get("dev"), Values: vals})
		return one(op, formNames(err, linkFormNames))
	default:
		return nil, change.FieldErrors{"action": fmt.Sprintf("%q is not a link change: use up, down, mtu, rename, alias, master, add or del", a)}
	}
}

// parseRuleForm reads a rule change. Rules have no replace of their own:
// "replace" (from a row's Replace, which fills "old") deletes the old rule
// and adds the form's, in one change.
func parseRuleForm(f url.Values, tables model.TableNames) ([]change.Op, error) {
	if f.Get("action") != "replace" {
		return one(ruleOp(f, tables))
	}
	if f.Get("old") == "" {
		return nil, change.FieldErrors{"action": "replace works on a rule: open Replace from the rule's row, or use add and del"}
	}
	add := url.Values{}
	for k, v := range f {
		add[k] = v
	}
	add.Set("action", "add")
	op, err := ruleOp(add, tables)
	if err != nil {
		return nil, err
	}
	old, err := replaced(f, func(o url.Values) (change.Op, error) {
		o.Set("action", "del")
		return ruleOp(o, tables)
	})
	if err != nil {
		return nil, err
	}
	return []change.Op{old, op}, nil
}

func ruleOp(f url.Values, tables model.TableNames) (*change.RuleOp, error) {
	return change.ParseRule(change.RuleFields{
		Action: f.Get("action"), Family: f.Get("family"), Priority: f.Get("priority"), From: f.Get("from"),
		To: f.Get("to"), Iif: f.Get("iif"), Oif: f.Get("oif"), Fwmark: f.Get("fwmark"), Table: f.Get("table"),
		Type: f.Get("type"), Protocol: f.Get("protocol"), Not: f.Get("not") != "", IPProto: f.Get("ipproto"),
		SPort: f.Get("sport"), DPort: f.Get("dport"), UIDRange: f.Get("uidrange"),
		SuppressPrefixLength: f.Get("suppress_prefixlength"), Goto: f.Get("goto"), L3mdev: f.Get("l3mdev") != "",
	}, tables)
}

func parseNeighForm(f url.Values, _ model.TableNames) ([]change.Op, error) {
	return one(change.ParseNeigh(change.NeighFields{Action: f.Get("action"), Dev: f.Get("dev"), IP: f.Get("ip"), LLAddr: f.Get("lladdr")}))
}
