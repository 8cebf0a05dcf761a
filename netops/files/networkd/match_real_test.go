package networkd

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

// The real networkd applies files whose [Match] uses fnmatch's brackets
// ("[!x]", a class in Kind=), quotes (literal in Name=, removed in Kind=),
// a backslash (taken off in Name=) and a Name= word it drops (a ":" in
// it) to the links NetworkFor predicts, and to no other; a file whose
// [Match] is empty, or has only a dropped word or a key it does not know
// (a typo), it ignores.
func TestMatchAgainstNetworkd(t *testing.T) {
	ns, _ := installedNetworkd(t)
	ns.Batch([]string{
		"link add npa0 type veth peer name npx0",
		`link add qq0 type veth peer name "qq1"`,
		"link add es0 type veth peer name cl1",
		"link add kb0 type bridge",
	})
	const cfg = "\n[Network]\nLinkLocalAddressing=no\nAddress="
	files := map[string]string{
		"10-glob.network":    "[Match]\nName=np[!x]*" + cfg + "10.9.1.1/24\n",
		"11-quoted.network":  "[Match]\nName=\"qq0\" 'qq1'" + cfg + "10.9.2.1/24\n",
		"12-escaped.network": "[Match]\nName=e\\s0" + cfg + "10.9.3.1/24\n",
		"13-kind.network":    "[Match]\nName=kb*\nKind=[[:alpha:]]ri\"dge\"" + cfg + "10.9.4.1/24\n",
		"14-colon.network":   "[Match]\nName=cl[[:digit:]] zz9" + cfg + "10.9.5.1/24\n",
		"15-dropped.network": "[Match]\nName=cl[[:digit:]]" + cfg + "10.9.6.1/24\n",
		"16-empty.network":   "[Match]\n" + cfg + "10.9.7.1/24\n",
		"15-none.network":    "[Match]\nName=cl[[:digit:]]" + cfg + "10.9.6.1/24\n",
		"17-typo.network":    "[Match]\nNmae=npx0\n" + cfg + "10.9.8.1/24\n",
	}
	c := configOf(t, files)
	links := map[string]string{"npa0": "veth", "npx0": "veth", "qq0": "veth", `"qq1"`: "veth", "es0": "veth", "cl1": "veth", "kb0": "bridge"}
	want := map[string]string{}
	for n, kind := range links {
		if ld, _ := c.NetworkFor(model.Link{Name: n, Kind: kind, LinkType: "ether"}); ld != nil {
			want[n] = ld.Name
		}
	}
	// netpanel's own prediction, checked before networkd is: the cases
	// are the ones it once got wrong.
	if len(want) != 3 || want["npa0"] != "10-glob.network" || want["es0"] != "12-escaped.network" || want["kb0"] != "13-kind.network" {
		t.Fatalf("netpanel predicts %v", want)
	}
	nd := startedNetworkd(t, ns, files)
	nd.Stop()
	got := configuredWith(nd.Log())
	for n := range links {
		if got[n] != want[n] {
			t.Errorf("link %s: networkd applied %q, netpanel predicts %q", n, got[n], want[n])
		}
	}
	if !strings.Contains(nd.Log(), "Nmae") {
		t.Errorf("networkd did not warn about the key it does not know:\n%s", nd.Log())
	}
	if !strings.Contains(nd.Log(), "cl[[:digit:]]") {
		t.Errorf("networkd did not warn about the Name= word it drops:\n%s", nd.Log())
	}
}

// The real networkd applies each file Generate writes for a link whose
// name is a glob ("a*", "a?", "x[1]"), has a backslash, begins with "!"
// or is no Name= word as it is ("123", "0x1f") to that link alone, not to
// the link next to it (ab, x1, eth-other), as NetworkFor predicts.
func TestGeneratedNamesAgainstNetworkd(t *testing.T) {
	ns, _ := installedNetworkd(t)
	pairs := [][2]string{{"a*", "ab"}, {"x[1]", "x1"}, {"!foo", "eth-other"}, {`a\b`, "a?"}, {"123", "0x1f"}}
	var links []string
	for _, p := range pairs {
		// Arguments, not a batch line: ip's batch parser reads quotes and
		// backslashes.
		if out, err := exec.Command("ip", "-n", ns.Name, "link", "add", "name", p[0], "type", "veth", "peer", "name", p[1]).CombinedOutput(); err != nil {
			t.Fatalf("ip link add %q: %v: %s", p[0], err, out)
		}
		links = append(links, p[0], p[1])
	}
	selected := []string{"a*", "x[1]", "!foo", `a\b`, "a?", "123", "0x1f"}
	st := &fakeSource{}
	for i, n := range links {
		st.links = append(st.links, model.Link{Index: int32(i + 2), Name: n, LinkType: "ether", LinkNetNsID: -1})
	}
	gen, err := genFiles(st, selected, nil)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for name, data := range gen {
		if strings.HasSuffix(name, ".network") {
			files[name] = string(data)
		}
	}
	c := configOf(t, files)
	want := map[string]string{}
	for _, n := range selected {
		want[n] = filePrefix + n + ".network"
	}
	for _, n := range links {
		predicted := ""
		if ld, _ := c.NetworkFor(model.Link{Name: n, Kind: "veth", LinkType: "ether"}); ld != nil {
			predicted = ld.Name
		}
		if predicted != want[n] {
			t.Fatalf("netpanel predicts %q for link %q, want %q", predicted, n, want[n])
		}
	}
	nd := startedNetworkd(t, ns, files)
	nd.Stop()
	got := configuredWith(nd.Log())
	for _, n := range links {
		if got[n] != want[n] {
			t.Errorf("link %q: networkd applied %q, want %q (netpanel's prediction)", n, got[n], want[n])
		}
	}
	if t.Failed() {
		t.Logf("networkd's log:\n%s", nd.Log())
	}
}

// configuredWith is the file networkd applied to each link, by the link's
// name: networkd picks every link's file while it enumerates them, and
// logs it ("npa0: Configuring with /etc/systemd/network/10-glob.network.").
func configuredWith(log string) map[string]string {
	got := map[string]string{}
	for _, line := range strings.Split(log, "\n") {
		if n, file, ok := strings.Cut(line, ": Configuring with /etc/systemd/network/"); ok {
			got[n] = strings.TrimSuffix(file, ".")
		}
	}
	return got
}
