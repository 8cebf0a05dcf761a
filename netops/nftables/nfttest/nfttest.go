// Package nfttest holds what tests of netpanel's nftables packages share:
// running the real nft tool in a test namespace as the oracle, comparing
// netpanel's model with it, and running a live model.
package nfttest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/vishvananda/netlink"
)

// Nft runs `nft ARGS` inside the namespace and fails the test on error.
func Nft(t testing.TB, ns *testenv.NS, args ...string) string {
	t.Helper()
	testenv.RequireTool(t, "nft")
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns.Name, "nft"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("nft %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Load feeds a ruleset file to `nft -f -` inside the namespace.
func Load(t testing.TB, ns *testenv.NS, text string) {
	t.Helper()
	testenv.RequireTool(t, "nft")
	cmd := exec.Command("ip", "netns", "exec", ns.Name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft -f: %v: %s\n%s", err, out, text)
	}
}

// JSON runs `nft -j ARGS` and returns its objects without the metainfo.
func JSON(t testing.TB, ns *testenv.NS, args ...string) []map[string]any {
	t.Helper()
	out := Nft(t, ns, append([]string{"-j"}, args...)...)
	var doc struct {
		Nftables []map[string]any `json:"nftables"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("decoding nft -j %v: %v", args, err)
	}
	var objs []map[string]any
	for _, o := range doc.Nftables {
		if _, ok := o["metainfo"]; !ok {
			objs = append(objs, o)
		}
	}
	return objs
}

// Normalize round-trips v through encoding/json so netpanel's values
// compare with decoded ones.
func Normalize(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// ObjKey names an nft -j object for messages: "rule inet filter input 7".
func ObjKey(o map[string]any) string {
	for kind, v := range o {
		m, _ := v.(map[string]any)
		parts := []string{kind}
		for _, k := range []string{"family", "table", "chain", "name", "handle"} {
			if x, ok := m[k]; ok {
				parts = append(parts, fmt.Sprint(x))
			}
		}
		return strings.Join(parts, " ")
	}
	return "?"
}

var handleRe = regexp.MustCompile(`^(.*) # handle (\d+)$`)

// RuleTexts runs `nft -a list ARGS` and returns each rule's text by
// "family table chain handle".
func RuleTexts(t testing.TB, ns *testenv.NS, args ...string) map[string]string {
	t.Helper()
	out := Nft(t, ns, append([]string{"-a", "list"}, args...)...)
	texts := map[string]string{}
	var table, chain string
	for _, line := range strings.Split(out, "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "table "):
			f := strings.Fields(line)
			table = f[1] + " " + f[2]
		case strings.HasPrefix(line, "\tchain "):
			chain = strings.Fields(trim)[1]
		case strings.HasPrefix(line, "\t}"):
			chain = ""
		case strings.HasPrefix(line, "\t\t") && chain != "" && !strings.HasPrefix(trim, "type "):
			if m := handleRe.FindStringSubmatch(trim); m != nil {
				texts[table+" "+chain+" "+m[2]] = m[1]
			}
		}
	}
	return texts
}

// Diff compares netpanel's model with the nft tool's view of the same
// namespace (every object of `nft -j list ruleset`, every rule's text)
// and describes the differences; "" means none.
func Diff(t testing.TB, ns *testenv.NS, rs *nftables.Ruleset, res nftables.Resolver) string {
	t.Helper()
	p := nftables.Printer{Res: res}
	var got []any
	for _, o := range p.JSON(rs).Nftables[1:] {
		got = append(got, o)
	}
	texts := map[string]string{}
	for _, tb := range rs.Tables {
		for _, c := range tb.Chains {
			for _, r := range c.Rules {
				texts[tb.Family.String()+" "+tb.Name+" "+c.Name+" "+strconv.FormatUint(r.Handle, 10)] = p.RuleText(r, tb)
			}
		}
	}
	return diffObjects(t, JSON(t, ns, "list", "ruleset"), got) + diffTexts(RuleTexts(t, ns, "ruleset"), texts)
}

// DiffDocument compares a document in `nft -j list ruleset` shape (as
// netpanel's API serves it, decoded) with the nft tool's; "" means the
// same objects in the same order.
func DiffDocument(t testing.TB, ns *testenv.NS, doc []any) string {
	t.Helper()
	var got []any
	for _, o := range doc {
		if m, ok := o.(map[string]any); ok {
			if _, meta := m["metainfo"]; meta {
				continue
			}
		}
		got = append(got, o)
	}
	return diffObjects(t, JSON(t, ns, "list", "ruleset"), got)
}

// DiffTable is Diff for one table (`nft -j list table FAMILY NAME`).
func DiffTable(t testing.TB, ns *testenv.NS, tb *nftables.Table, res nftables.Resolver) string {
	t.Helper()
	p := nftables.Printer{Res: res}
	var got []any
	for _, o := range p.TableJSON(tb) {
		got = append(got, o)
	}
	return diffObjects(t, JSON(t, ns, "list", "table", tb.Family.String(), tb.Name), got)
}

func diffObjects(t testing.TB, want []map[string]any, got []any) string {
	gotN, _ := Normalize(t, got).([]any)
	var b strings.Builder
	if len(gotN) != len(want) {
		var gk, wk []string
		for _, o := range gotN {
			gk = append(gk, ObjKey(o.(map[string]any)))
		}
		for _, o := range want {
			wk = append(wk, ObjKey(o))
		}
		return fmt.Sprintf("netpanel has %d objects, nft %d:\nnetpanel: %s\nnft:      %s\n", len(gotN), len(want), strings.Join(gk, ", "), strings.Join(wk, ", "))
	}
	for i, w := range want {
		g := gotN[i].(map[string]any)
		KnownNftDifferences(g, w)
		if !reflect.DeepEqual(g, any(w)) {
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			fmt.Fprintf(&b, "object %d differs:\nnetpanel: %s\nnft:      %s\n", i, gb, wb)
		}
	}
	return b.String()
}

func diffTexts(want, got map[string]string) string {
	var b strings.Builder
	keys := make([]string, 0, len(want)+len(got))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got[k] != want[k] {
			fmt.Fprintf(&b, "rule %s:\nnetpanel: %s\nnft:      %s\n", k, got[k], want[k])
		}
	}
	return b.String()
}

// KnownNftDifferences removes from g what nft 1.0.6 gets wrong in its
// JSON (newer nft prints what netpanel does): it leaves out a netdev
// chain's "dev" and the "dynamic" set flag, and prints a dormant table's
// name as its flags.
func KnownNftDifferences(g, w map[string]any) {
	if gt, ok := g["table"].(map[string]any); ok {
		if wt, _ := w["table"].(map[string]any); wt != nil && gt["flags"] == "dormant" && wt["flags"] == wt["name"] {
			gt["flags"] = wt["flags"]
		}
	}
	if gc, ok := g["chain"].(map[string]any); ok {
		if wc, _ := w["chain"].(map[string]any); wc != nil {
			if _, ok := wc["dev"]; !ok {
				delete(gc, "dev")
			}
		}
	}
	for _, kind := range []string{"set", "map"} {
		gs, ok := g[kind].(map[string]any)
		if !ok {
			continue
		}
		ws, _ := w[kind].(map[string]any)
		gf, _ := gs["flags"].([]any)
		wf, _ := ws["flags"].([]any)
		if len(gf) == len(wf)+1 && gf[len(gf)-1] == "dynamic" {
			if len(wf) == 0 {
				delete(gs, "flags")
			} else {
				gs["flags"] = wf
			}
		}
	}
}

// Resolver names the namespace's interfaces by index, for iif and oif.
func Resolver(t testing.TB, ns *testenv.NS) nftables.Resolver {
	t.Helper()
	h, err := netlink.NewHandleAt(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return nftables.ResolverFunc(func(i int) (string, bool) {
		l, err := h.LinkByIndex(i)
		if err != nil {
			return "", false
		}
		return l.Attrs().Name, true
	})
}

// Watch runs netpanel's watcher on the namespace until the test ends and
// returns its store once synced. recvBuf 0 keeps the default buffer.
func Watch(t testing.TB, ns *testenv.NS, recvBuf int) *nftables.Store {
	t.Helper()
	store := nftables.NewStore()
	w := nftables.NewWatcher(ns.Handle(), store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if recvBuf > 0 {
		w.RecvBuf = recvBuf
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	WaitFor(t, 10*time.Second, "the first sync", func() string {
		if !store.Status().Synced {
			return "not synced"
		}
		return ""
	})
	return store
}

// WaitFor polls cond until it returns "" or d passes, then fails with its
// last answer. It waits for convergence; it asserts nothing about speed.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not converged after %v:\n%s", what, d, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Gen returns the namespace's current ruleset generation.
func Gen(t testing.TB, ns *testenv.NS) uint32 {
	t.Helper()
	rs, err := nftables.Dump(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	return rs.Gen
}

// TableWithoutHandles is `nft -j list table FAMILY NAME` without the
// handles, which count per namespace: two namespaces holding the same
// table, rule order included, give the same text.
func TableWithoutHandles(t testing.TB, ns *testenv.NS, family, name string) string {
	t.Helper()
	return fmt.Sprint(stripHandles(Normalize(t, JSON(t, ns, "list", "table", family, name))))
}

func stripHandles(v any) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "handle")
		for k, e := range x {
			x[k] = stripHandles(e)
		}
	case []any:
		for i, e := range x {
			x[i] = stripHandles(e)
		}
	}
	return v
}

// CountFlows loads into ns a table that counts the UDP packets arriving
// for each flow ("203.0.113.5:1194", IPv4), before anything else sees
// them, for tests that send real packets and look where they arrived.
func CountFlows(t testing.TB, ns *testenv.NS, flows ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("table inet seen {\n\tchain pre {\n\t\ttype filter hook prerouting priority raw; policy accept;\n")
	for _, f := range flows {
		host, port, ok := strings.Cut(f, ":")
		if !ok {
			t.Fatalf("flow %q is not ADDRESS:PORT", f)
		}
		fmt.Fprintf(&b, "\t\tip daddr %s udp dport %s counter\n", host, port)
	}
	b.WriteString("\t}\n}\n")
	Load(t, ns, b.String())
}

// Counted reads the counters CountFlows loaded, by flow.
func Counted(t testing.TB, ns *testenv.NS) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, o := range JSON(t, ns, "list", "table", "inet", "seen") {
		r, ok := o["rule"].(map[string]any)
		if !ok {
			continue
		}
		var dst string
		var port, packets float64
		for _, x := range r["expr"].([]any) {
			x := x.(map[string]any)
			if m, ok := x["match"].(map[string]any); ok {
				switch v := m["right"].(type) {
				case string:
					dst = v
				case float64:
					port = v
				}
			}
			if c, ok := x["counter"].(map[string]any); ok {
				packets = c["packets"].(float64)
			}
		}
		out[fmt.Sprintf("%s:%d", dst, int(port))] = uint64(packets)
	}
	return out
}
