package handlers

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/model"
)

// A row's data-fields go through the browser as a query and come back
// through the form's parser: nothing of the object may be lost on the
// way (change's fieldsof_test.go holds the fields to the kernel).
func TestRowFieldsComeBackAsTheObjectsForm(t *testing.T) {
	st := normalState()
	store := model.NewStoreFrom(st)
	names := store.Names(fixtureTables)
	t.Run("routes", func(t *testing.T) {
		n := 0
		store.EachRoute(func(r *model.Route) bool {
			want, err := change.RouteFieldsOf(*r, names)
			got, ferr := routeFields(r, names)
			if err != nil || ferr != nil {
				if (err == nil) != (ferr == nil) {
					t.Errorf("%s: RouteFieldsOf says %v, the row %v", r.Dst, err, ferr)
				}
				return true
			}
			n++
			for _, action := range []string{"add", "replace"} {
				q, _ := url.ParseQuery(got)
				q.Set("action", action)
				ops, err := parseRouteForm(q, fixtureTables)
				want.Action = action
				wantOp, werr := change.ParseRoute(want, fixtureTables)
				if err != nil || werr != nil || len(ops) != 1 || !reflect.DeepEqual(ops[0], change.Op(wantOp)) {
					t.Errorf("%s %s: the row's fields %q parse to %+v (%v), want %+v (%v)", action, r.Dst, got, ops, err, wantOp, werr)
				}
			}
			return true
		})
		if n == 0 {
			t.Fatal("no route of the fixture has a form")
		}
	})
	t.Run("rules", func(t *testing.T) {
		for _, r := range store.Rules(0) {
			want, err := change.RuleFieldsOf(r, names)
			if err != nil {
				continue
			}
			got, _ := ruleFields(&r, names)
			q, _ := url.ParseQuery(got)
			q.Set("action", "del")
			ops, err := parseRuleForm(q, fixtureTables)
			want.Action = "del"
			wantOp, werr := change.ParseRule(want, fixtureTables)
			if err != nil || werr != nil || len(ops) != 1 || !reflect.DeepEqual(ops[0], change.Op(wantOp)) {
				t.Errorf("rule %d: the row's fields %q parse to %+v (%v), want %+v (%v)", r.Priority, got, ops, err, wantOp, werr)
			}
		}
	})
}

// A Replace opened from a row sends that row in "old".
func TestReplaceFromARow(t *testing.T) {
	names := model.NewStoreFrom(normalState()).Names(fixtureTables)
	commands := func(ops []change.Op) string {
		var out []string
		for _, op := range ops {
			out = append(out, op.Command(names))
		}
		return strings.Join(out, "; ")
	}
	form := func(kind string, fields, old url.Values) url.Values {
		v := url.Values{}
		for k, x := range fields {
			v[k] = x
		}
		if old != nil {
			v.Set("old", old.Encode())
		}
		return v
	}
	oldRoute := url.Values{"dst": {"198.51.100.0/24"}, "via": {"192.0.2.1"}, "dev": {"eth0"}, "metric": {"10"}, "mtu": {"1400"}}
	oldRule := url.Values{"family": {"inet"}, "priority": {"1000"}, "from": {"10.0.0.0/8"}, "table": {"main"}}
	for _, c := range []struct {
		name   string
		parse  OpParser
		fields url.Values
		old    url.Values
		want   string // the commands, or the error
	}{
		{"a route replaced in its slot is one replace", parseRouteForm,
			url.Values{"action": {"replace"}, "dst": {"198.51.100.0/24"}, "via": {"192.0.2.9"}, "metric": {"10"}}, oldRoute,
			"ip route replace 198.51.100.0/24 via 192.0.2.9 metric 10"},
		{"a route moved to another metric deletes the old one first", parseRouteForm,
			url.Values{"action": {"replace"}, "dst": {"198.51.100.0/24"}, "via": {"192.0.2.1"}, "metric": {"20"}}, oldRoute,
			"ip route del 198.51.100.0/24 via 192.0.2.1 dev eth0 metric 10; ip route replace 198.51.100.0/24 via 192.0.2.1 metric 20"},
		{"a route added from a copy ignores old", parseRouteForm,
			url.Values{"action": {"add"}, "dst": {"198.51.101.0/24"}, "via": {"192.0.2.1"}}, oldRoute,
			"ip route add 198.51.101.0/24 via 192.0.2.1"},
		{"a rule replaced is deleted and added", parseRuleForm,
			url.Values{"action": {"replace"}, "family": {"inet"}, "priority": {"1000"}, "from": {"10.0.0.0/16"}, "table": {"main"}}, oldRule,
			"ip rule del from 10.0.0.0/8 priority 1000 lookup main; ip rule add from 10.0.0.0/16 priority 1000 lookup main"},
		{"a rule replace needs the rule", parseRuleForm,
			url.Values{"action": {"replace"}, "priority": {"1000"}}, nil,
			"action: replace works on a rule: open Replace from the rule's row, or use add and del"},
		{"a garbled old is not the form's fault", parseRouteForm,
			url.Values{"action": {"replace"}, "dst": {"198.51.100.0/24"}, "via": {"192.0.2.9"}}, url.Values{"dst": {"nonsense"}},
			"the object to replace cannot be read (dst: nonsense is not an IPv4 or IPv6 address): open Replace from its row again"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ops, err := c.parse(form("", c.fields, c.old), fixtureTables)
			got := commands(ops)
			if err != nil {
				got = err.Error()
				if _, isField := err.(change.FieldErrors); isField && strings.HasPrefix(c.want, "the object") {
					t.Errorf("an error about old is reported on the form's fields: %v", err)
				}
			}
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}
