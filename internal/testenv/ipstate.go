package testenv

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// IPState is what `ip -j` prints for a namespace's links, addresses,
// routes (every table, both families), rules and neighbours, one object
// per line, for tests that need "exactly as before" (a rollback). Only
// what legitimately differs between two equal states is normalized:
//
//   - bridge timers (`*_timer`) tick by themselves;
//   - neighbour entries the kernel learns from traffic (any state but
//     PERMANENT and NOARP) come, go and age with packets and timers; the
//     static ones are compared, as a set: the kernel lists them in hash
//     bucket order, newest first within a bucket, so re-adding one can
//     move it;
//   - routes are compared as a set: the kernel prints routes of equal
//     prefix and metric (fe80::/64 and ff00::/8 on every link) in the
//     order they were inserted, and a link that goes down and up
//     re-inserts its own. Rules keep their order, which is their meaning.
//
// Link, address and rule lines stay in the kernel's order, byte for byte.
func (ns *NS) IPState() string {
	ns.t.Helper()
	var b strings.Builder
	for _, v := range [][]string{
		{"-d", "link", "show"},
		{"addr", "show"},
		{"route", "show", "table", "all"},
		{"rule", "show"},
		{"-6", "rule", "show"},
		{"neigh", "show"},
	} {
		var objs []map[string]any
		ns.IPJSON(&objs, v...)
		var lines []string
		for _, o := range objs {
			if v[0] == "neigh" && !staticNeigh(o) {
				continue
			}
			dropTimers(o)
			line, err := json.Marshal(o) // maps marshal with sorted keys
			if err != nil {
				ns.t.Fatal(err)
			}
			lines = append(lines, string(line))
		}
		if v[0] == "route" || v[0] == "neigh" {
			slices.Sort(lines)
		}
		fmt.Fprintf(&b, "## ip -j %s\n%s\n", strings.Join(v, " "), strings.Join(lines, "\n"))
	}
	return b.String()
}

// SettledIPState waits until IPState stays the same for 1.25 s (the
// kernel's link watcher delays operstate changes by up to a second;
// carrier propagates, IPv6 addresses leave "tentative" and link-local ones
// appear after a link comes up) and returns it: a state to compare later
// ones with.
func (ns *NS) SettledIPState() string {
	ns.t.Helper()
	last, same := ns.IPState(), 0
	deadline := time.Now().Add(15 * time.Second)
	for same < 5 {
		time.Sleep(250 * time.Millisecond)
		now := ns.IPState()
		if now != last {
			if time.Now().After(deadline) {
				ns.t.Fatalf("the namespace did not settle in 15 s:\n%s", StateDiff(last, now))
			}
			last, same = now, 0
			continue
		}
		same++
	}
	return last
}

// WaitIPState waits until IPState equals want (the kernel finishes some
// work after a rollback returns: carrier, link-local addresses), and
// fails the test with the difference after within.
func (ns *NS) WaitIPState(want string, within time.Duration) {
	ns.t.Helper()
	deadline := time.Now().Add(within)
	for {
		d := StateDiff(want, ns.IPState())
		if d == "" {
			return
		}
		if time.Now().After(deadline) {
			ns.t.Fatalf("the namespace is not as before after %v:\n%s", within, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func staticNeigh(o map[string]any) bool {
	states, _ := o["state"].([]any)
	for _, s := range states {
		if s == "PERMANENT" || s == "NOARP" {
			return true
		}
	}
	return false
}

func dropTimers(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if strings.HasSuffix(k, "_timer") {
				delete(x, k)
				continue
			}
			dropTimers(val)
		}
	case []any:
		for _, e := range x {
			dropTimers(e)
		}
	}
}

// StateDiff lists the lines of want missing from got ("-") and the lines
// of got not in want ("+"), or "" when they are equal.
func StateDiff(want, got string) string {
	if want == got {
		return ""
	}
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("  - " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("  + " + l + "\n")
		}
	}
	if b.Len() == 0 {
		return "  (same lines, in another order)\n" + got
	}
	return b.String()
}
