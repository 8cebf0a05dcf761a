package nftables

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// nftJSON runs `nft -j ARGS` in the namespace and returns its objects
// without the metainfo, each re-encoded through encoding/json so numbers
// compare equal to netpanel's.
func nftJSON(t *testing.T, ns string, args ...string) []map[string]any {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "nft", "-j"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("nft -j %v: %v: %s", args, err, out)
	}
	var doc struct {
		Nftables []map[string]any `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
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

// normalize round-trips v through JSON so Go values compare with decoded ones.
func normalize(t *testing.T, v any) any {
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

// objKey names an nft -j object for messages: "rule inet filter input 7".
func objKey(o map[string]any) string {
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

// nftRuleTexts runs `nft -a list ruleset` and returns each rule's text by
// "family table chain handle".
func nftRuleTexts(t *testing.T, ns string) map[string]string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "-a", "list", "ruleset").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list ruleset: %v: %s", err, out)
	}
	texts := map[string]string{}
	var table, chain string
	for _, line := range strings.Split(string(out), "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "table "):
			f := strings.Fields(line)
			table = f[1] + " " + f[2]
		case strings.HasPrefix(line, "\tchain "):
			chain = strings.Fields(trim)[1]
		case strings.HasPrefix(line, "\t\t") && chain != "":
			if m := handleRe.FindStringSubmatch(trim); m != nil && !strings.HasPrefix(trim, "type ") {
				texts[table+" "+chain+" "+m[2]] = m[1]
			}
		case trim == "}" && strings.HasPrefix(line, "\t}"):
			chain = ""
		}
	}
	return texts
}

// compareWithNft compares netpanel's model of ns with the nft tool's view:
// every object of `nft -j list ruleset` and every rule's text. known lists
// differences of nft 1.0.6 that are nft's bugs, by object key and field.
func compareWithNft(t *testing.T, ns string, rs *Ruleset, res Resolver) {
	t.Helper()
	p := Printer{Res: res}
	want := nftJSON(t, ns, "list", "ruleset")
	got := p.JSON(rs).Nftables[1:]
	gotN := normalize(t, got).([]any)
	if len(gotN) != len(want) {
		var gk, wk []string
		for _, o := range gotN {
			gk = append(gk, objKey(o.(map[string]any)))
		}
		for _, o := range want {
			wk = append(wk, objKey(o))
		}
		t.Fatalf("netpanel has %d objects, nft %d:\nnetpanel: %s\nnft:      %s", len(gotN), len(want), strings.Join(gk, ", "), strings.Join(wk, ", "))
	}
	for i := range want {
		g := gotN[i].(map[string]any)
		w := want[i]
		knownNftDifferences(g, w)
		if !reflect.DeepEqual(g, any(w)) {
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			t.Errorf("object %d differs:\nnetpanel: %s\nnft:      %s", i, gb, wb)
		}
	}
	texts := nftRuleTexts(t, ns)
	n := 0
	for _, tb := range rs.Tables {
		for _, c := range tb.Chains {
			for _, r := range c.Rules {
				n++
				k := tb.Family.String() + " " + tb.Name + " " + c.Name + " " + strconv.FormatUint(r.Handle, 10)
				if got, want := p.RuleText(r, tb), texts[k]; got != want {
					t.Errorf("rule %s:\nnetpanel: %s\nnft:      %s", k, got, want)
				}
			}
		}
	}
	if n != len(texts) {
		keys := make([]string, 0, len(texts))
		for k := range texts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Errorf("netpanel has %d rules, nft lists %d: %v", n, len(texts), keys)
	}
}

// knownNftDifferences removes from g what nft 1.0.6 leaves out of its JSON
// although it is there (newer nft prints both): a netdev chain's "dev"
// and the "dynamic" set flag.
func knownNftDifferences(g, w map[string]any) {
	if gc, ok := g["chain"].(map[string]any); ok {
		wc := w["chain"].(map[string]any)
		if _, ok := wc["dev"]; !ok {
			delete(gc, "dev")
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
		if len(gf) == len(wf)+1 && len(gf) > 0 && gf[len(gf)-1] == "dynamic" {
			gs["flags"] = wf
			if len(wf) == 0 {
				delete(gs, "flags")
			}
		}
	}
}
