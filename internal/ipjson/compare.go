// Package ipjson compares netpanel's JSON API with `ip -j` output
// generically: every key of every object, both ways, so a field ip prints
// that the API lacks (or prints differently) cannot go unnoticed. Keys
// whose values legitimately move between two reads (counters, lifetimes,
// timers) are named in an explicit allow-list that says how they may move.
package ipjson

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Motion says how a value may differ between ip's reads and the API's.
type Motion int

// The motions. The API is read between two ip reads ("before" and
// "after"), so a value that moves must lie between them.
const (
	Exact   Motion = iota // equal to ip's value (before or after)
	Rising                // a counter: before <= api <= after
	Falling               // a countdown: before >= api >= after
	Anyhow                // a timer that wraps: the key must be there, the value is not compared
)

// Allow maps a key path to how its value may move. A path is the dotted
// chain of keys from the object, without array indexes:
// "stats64.rx.bytes", "addr_info.valid_life_time".
type Allow map[string]Motion

// Spec describes one list to compare.
type Spec struct {
	Name    string
	Ordered bool     // the order of the list matters (rules)
	Sorted  []string // paths of nested arrays whose order does not matter ("addr_info")
	Allow   Allow
}

// Decode parses a JSON array of objects keeping numbers exact.
func Decode(b []byte) ([]any, error) {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var v []any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("decoding %.200s: %w", b, err)
	}
	return v, nil
}

// Compare returns the differences between the API's list and ip's,
// read before and after it; none when they agree.
func Compare(s Spec, before, api, after []any) []string {
	c := &cmp{s: s}
	b, a, f := c.arrange(before, ""), c.arrange(api, ""), c.arrange(after, "")
	if len(b) != len(f) {
		c.add(s.Name, "ip printed %d objects, then %d: the kernel changed during the comparison", len(b), len(f))
		return c.diffs
	}
	if s.Ordered {
		if len(b) != len(a) {
			c.add(s.Name, "ip printed %d objects, netpanel %d", len(b), len(a))
			for _, o := range b {
				c.add(s.Name, "ip:        %s", c.ident(o, ""))
			}
			for _, o := range a {
				c.add(s.Name, "netpanel:  %s", c.ident(o, ""))
			}
			return c.diffs
		}
		for i := range b {
			c.value(fmt.Sprintf("%s[%s]", s.Name, c.label(b[i])), "", b[i], a[i], f[i])
		}
		return c.diffs
	}
	// Pair objects by their identity (everything that does not move);
	// what is left is paired by its most telling keys, to say which keys
	// differ, or reported whole.
	var restB, restA, restF []any
	used := make([]bool, len(a))
	for i := range b {
		id := c.ident(b[i], "")
		j := slices.IndexFunc(a, func(x any) bool { return c.ident(x, "") == id })
		for j >= 0 && used[j] {
			k := slices.IndexFunc(a[j+1:], func(x any) bool { return c.ident(x, "") == id })
			if k < 0 {
				j = -1
				break
			}
			j += k + 1
		}
		if j < 0 {
			restB, restF = append(restB, b[i]), append(restF, f[i])
			continue
		}
		used[j] = true
		c.value(fmt.Sprintf("%s[%s]", s.Name, c.label(b[i])), "", b[i], a[j], f[i])
	}
	for j := range a {
		if !used[j] {
			restA = append(restA, a[j])
		}
	}
	usedA := make([]bool, len(restA))
	for i := range restB {
		l := c.label(restB[i])
		j := slices.IndexFunc(restA, func(x any) bool { return c.label(x) == l })
		if j < 0 || usedA[j] {
			c.add(s.Name, "only in ip:        %s", c.ident(restB[i], ""))
			continue
		}
		usedA[j] = true
		c.value(fmt.Sprintf("%s[%s]", s.Name, l), "", restB[i], restA[j], restF[i])
	}
	for j := range restA {
		if !usedA[j] {
			c.add(s.Name, "only in netpanel:  %s", c.ident(restA[j], ""))
		}
	}
	return c.diffs
}

type cmp struct {
	s     Spec
	diffs []string
}

func (c *cmp) add(where, format string, args ...any) {
	c.diffs = append(c.diffs, where+": "+fmt.Sprintf(format, args...))
}

// arrange sorts a list (and the nested lists named in Sorted) by identity
// unless its order matters.
func (c *cmp) arrange(list []any, path string) []any {
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = c.arrangeValue(v, path)
	}
	if (path == "" && !c.s.Ordered) || (path != "" && contains(c.s.Sorted, path)) {
		sort.SliceStable(out, func(i, j int) bool { return c.ident(out[i], path) < c.ident(out[j], path) })
	}
	return out
}

func (c *cmp) arrangeValue(v any, path string) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = c.arrangeValue(e, join(path, k))
		}
		return m
	case []any:
		return c.arrange(x, path)
	}
	return v
}

// ident is an object's identity: its JSON without the keys that move.
func (c *cmp) ident(v any, path string) string {
	b, _ := json.Marshal(c.still(v, path))
	return string(b)
}

func (c *cmp) still(v any, path string) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			p := join(path, k)
			if mo, ok := c.s.Allow[p]; ok && mo != Exact {
				continue
			}
			m[k] = c.still(e, p)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = c.still(e, path)
		}
		return out
	}
	return v
}

// label names an object in messages by its most telling keys.
func (c *cmp) label(v any) string {
	m, _ := v.(map[string]any)
	var parts []string
	for _, k := range []string{"ifname", "id", "priority", "type", "dst", "dev", "table", "metric", "src", "fwmark"} {
		if e, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", k, e))
		}
	}
	if len(parts) == 0 {
		return c.ident(v, "")
	}
	return strings.Join(parts, " ")
}

// value compares one value of the API with ip's before and after.
func (c *cmp) value(where, path string, before, api, after any) {
	switch b := before.(type) {
	case map[string]any:
		a, ok := api.(map[string]any)
		f, _ := after.(map[string]any)
		if !ok {
			c.add(where, "%s: ip prints an object, netpanel %s", show(path), short(api))
			return
		}
		ks := map[string]bool{}
		for k := range b {
			ks[k] = true
		}
		for k := range a {
			ks[k] = true
		}
		names := make([]string, 0, len(ks))
		for k := range ks {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			p := join(path, k)
			bv, inB := b[k]
			av, inA := a[k]
			fv, inF := f[k]
			switch {
			case !inA && (inB || inF):
				c.add(where, "%s: ip prints %s, netpanel leaves it out", p, short(bv))
			case inA && !inB && !inF:
				c.add(where, "%s: netpanel prints %s, ip does not", p, short(av))
			default:
				if !inB {
					bv = fv
				}
				if !inF {
					fv = bv
				}
				c.value(where, p, bv, av, fv)
			}
		}
	case []any:
		a, ok := api.([]any)
		f, _ := after.([]any)
		if !ok || len(a) != len(b) {
			c.add(where, "%s: ip prints %s, netpanel %s", show(path), short(before), short(api))
			return
		}
		for i := range b {
			var fi any = b[i]
			if i < len(f) {
				fi = f[i]
			}
			c.value(where, path, b[i], a[i], fi)
		}
	default:
		c.scalar(where, path, before, api, after)
	}
}

func (c *cmp) scalar(where, path string, before, api, after any) {
	mo := c.s.Allow[path]
	if mo == Anyhow {
		return
	}
	if mo == Exact {
		if equal(api, before) || equal(api, after) {
			return
		}
		c.add(where, "%s: ip prints %s, netpanel %s", path, short(before), short(api))
		return
	}
	bn, ok1 := num(before)
	an, ok2 := num(api)
	fn, ok3 := num(after)
	if !ok1 || !ok2 || !ok3 {
		c.add(where, "%s: ip prints %s then %s, netpanel %s (not numbers)", path, short(before), short(after), short(api))
		return
	}
	lo, hi := bn, fn
	if mo == Falling {
		lo, hi = fn, bn
	}
	if an < lo || an > hi {
		c.add(where, "%s: netpanel prints %s, ip %s before and %s after", path, short(api), short(before), short(after))
	}
}

func equal(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func num(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 120 {
		return string(b[:117]) + "..."
	}
	return string(b)
}

func show(path string) string {
	if path == "" {
		return "the object"
	}
	return path
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
