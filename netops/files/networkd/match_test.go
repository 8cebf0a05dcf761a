package networkd

import (
	"fmt"
	"math/rand/v2"
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

// configOf parses .network texts given by name into a Config in name order.
func configOf(t *testing.T, files map[string]string) *Config {
	t.Helper()
	c := &Config{}
	for _, name := range sortedKeys(files) {
		nf, _, err := ParseNetwork(name, []byte(files[name]))
		if err != nil {
			t.Fatal(err)
		}
		c.Networks = append(c.Networks, &Loaded{Name: name, Path: name, Network: nf})
	}
	return c
}

func TestNetworkFor(t *testing.T) {
	mac, _ := net.ParseMAC("52:54:00:12:34:56")
	c := configOf(t, map[string]string{
		"10-wan.network":   "[Match]\nName=eno1\n",
		"20-en.network":    "[Match]\nName=en*\n",
		"30-notlo.network": "[Match]\nName=!lo wl*\nName=veth*\n",
		"40-mac.network":   "[Match]\nMACAddress=52:54:00:12:34:56\n",
		"50-kind.network":  "[Match]\nKind=vxlan\n",
		"60-drv.network":   "[Match]\nName=dummy*\nDriver=dummy\n",
		"70-type.network":  "[Match]\nType=bridge\n",
		"97-typo.network":  "[Match]\nNmae=eth0\n",
		"98-bad.network":   "[Match]\nName=eth[[:digit:]]\n",
		"99-all.network":   "[Match]\n",
	})
	for _, tc := range []struct {
		name  string
		link  model.Link
		file  string
		state MatchState
		keys  []string
	}{
		{"the first file by name wins over a later glob", model.Link{Name: "eno1"}, "10-wan.network", Matched, nil},
		{"a glob matches", model.Link{Name: "enp3s0"}, "20-en.network", Matched, nil},
		{"a negated line excludes each of its words", model.Link{Name: "wlan0", LinkType: "ether"}, "40-mac.network", NoMatch, nil},
		{"a negated line does not affect a later positive line", model.Link{Name: "veth1"}, "30-notlo.network", Matched, nil},
		{"MACAddress matches the hardware address", model.Link{Name: "wlan0", HWAddr: mac}, "40-mac.network", Matched, nil},
		{"Kind matches the netdev kind", model.Link{Name: "vx0", Kind: "vxlan"}, "50-kind.network", Matched, nil},
		{"an unevaluated key makes the match uncertain", model.Link{Name: "dummy0", Kind: "dummy"}, "60-drv.network", Uncertain, []string{"Driver="}},
		{"Type matches the device type", model.Link{Name: "br0", Kind: "bridge", LinkType: "ether"}, "70-type.network", Matched, nil},
		{"a file with an empty [Match] applies to no link", model.Link{Name: "lo", LinkType: "loopback"}, "", NoMatch, nil},
		{"nor does one whose only Name= word networkd drops", model.Link{Name: "eth1", LinkType: "ether"}, "", NoMatch, nil},
		{"nor one whose only key networkd does not know (a typo)", model.Link{Name: "eth0", LinkType: "ether"}, "", NoMatch, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ld, res := c.NetworkFor(tc.link)
			if tc.state == NoMatch {
				// wlan0 without a MAC skips 40-mac, and neither the
				// empty [Match] nor the dropped Name= word catches it.
				if ld != nil || res.State != NoMatch {
					t.Errorf("got %v %v, want no file", ld, res)
				}
				return
			}
			if ld == nil || ld.Name != tc.file || res.State != tc.state || !slices.Equal(res.Unevaluated, tc.keys) {
				t.Errorf("NetworkFor(%s) = %v %+v, want %s %v %v", tc.link.Name, ld, res, tc.file, tc.state, tc.keys)
			}
		})
	}
	t.Run("a [Match] of unknown keys only is empty", func(t *testing.T) {
		for _, ld := range c.Networks {
			if got, want := ld.Network.matchesAll(), ld.Name == "97-typo.network" || ld.Name == "98-bad.network" || ld.Name == "99-all.network"; got != want {
				t.Errorf("%s: matchesAll = %v", ld.Name, got)
			}
		}
	})
	t.Run("no file means unmanaged", func(t *testing.T) {
		c := configOf(t, map[string]string{"10-wan.network": "[Match]\nName=eno1\n"})
		if ld, res := c.NetworkFor(model.Link{Name: "lo"}); ld != nil || res.State != NoMatch || res.String() != "no match" {
			t.Errorf("got %v %v", ld, res)
		}
	})
	t.Run("uncertain result reads as a sentence", func(t *testing.T) {
		if s := (MatchResult{State: Uncertain, Unevaluated: []string{"Driver=", "Path="}}).String(); s != "may match (Driver=, Path= not evaluated)" {
			t.Error(s)
		}
	})
}

func TestNetDevFor(t *testing.T) {
	a, _, _ := ParseNetDev("10-a.netdev", []byte("[NetDev]\nName=br0\nKind=bridge\n"))
	b, _, _ := ParseNetDev("20-b.netdev", []byte("[NetDev]\nName=br0\nKind=dummy\n"))
	c := &Config{NetDevs: []*Loaded{{Name: "10-a.netdev", NetDev: a}, {Name: "20-b.netdev", NetDev: b}}}
	if got := c.NetDevFor("br0"); got == nil || got.Name != "10-a.netdev" {
		t.Errorf("NetDevFor(br0) = %v", got)
	}
	if got := c.NetDevFor("br1"); got != nil {
		t.Errorf("NetDevFor(br1) = %v", got)
	}
}

func TestMatchNameNegationRoundTrips(t *testing.T) {
	in := "[Match]\nName=!lo wl*\nName=veth*\n"
	nf, _, err := ParseNetwork("x.network", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"!lo", "!wl*", "veth*"}; !slices.Equal(nf.Match.Name, want) {
		t.Fatalf("Name = %q, want %q", nf.Match.Name, want)
	}
	again, _, err := ParseNetwork("x.network", nf.Marshal())
	if err != nil || !slices.Equal(again.Match.Name, nf.Match.Name) {
		t.Errorf("round trip: %q %v\n%s", again.Match.Name, err, nf.Marshal())
	}
}

// globMatch is fnmatch's verdict, with literal names compared as
// strings: over literal names, globs, classes, escapes and malformed
// patterns, against names that equal, extend, prefix or only resemble
// them.
func TestGlobMatchIsFnmatch(t *testing.T) {
	patterns := []string{"eth0", "np0a", "", "eth", "eth0.100", "br-lan", "e*", "eth?", "eth[0-3]", `eth\0`, `eth\*`,
		"[", "eth[", `eth\`, "*", "?", "wl*0", "ét0", "a/b", "a*/b", "eth]", "!eth0"}
	names := []string{"eth0", "eth1", "np0a", "np0", "np0ab", "", "eth", "eth0.100", "br-lan", "e", "eth*", "[", "ét0", "a/b", "ax/b", `eth\0`, "eth]"}
	literal := 0
	for _, p := range patterns {
		for _, s := range names {
			want := fnmatch(p, s)
			if got := globMatch(p, s); got != want {
				t.Errorf("globMatch(%q, %q) = %v, fnmatch says %v", p, s, got, want)
			}
			if want && p == s {
				literal++
			}
		}
	}
	if literal < 5 {
		t.Errorf("%d literal matches: the fast path was hardly compared", literal)
	}
}

// NetworkFor tests Name= and the other globs as networkd does, with
// fnmatch(3): the cases where Go's path.Match, which netpanel used,
// decides otherwise.
func TestNetworkForGlobsAsNetworkd(t *testing.T) {
	for _, c := range []struct {
		match, link string
		want        bool
	}{
		{"Name=np[!x]*", "npa0", true},
		{"Name=np[!x]*", "npx0", false},
		{"Name=np[!x]*", "np!0", true},
		{"Name=*[0-3]\nName=!*[!0-9]", "eth2", true},
		{"Name=*\nKind=[[:alpha:]]*[[:alpha:]]", "br0", true},
		{"Name=*\nKind=[[:digit:]]*", "br0", false},
		{"Name=eth[", "eth[", true},
		{"Name=eth[0", "eth[0", true},
		{"Name=!np[!x]*", "npa0", false},
		{"Name=!np[!x]*", "npx0", true},
		{"Name=*\nKind=[!v]*", "br0", true},
		{"Name=*\nKind=[[:alpha:]]ridge", "br0", true},
		{"Name=*\nKind=[^[:alpha:]]ridge", "br0", false},
	} {
		cfg := configOf(t, map[string]string{"10-x.network": "[Match]\n" + c.match + "\n"})
		l := model.Link{Name: c.link, Kind: "bridge"}
		for how, find := range map[string]func(model.Link) (*Loaded, MatchResult){"NetworkFor": cfg.NetworkFor, "the index": cfg.networkIndex().networkFor} {
			if ld, _ := find(l); (ld != nil) != c.want {
				t.Errorf("%s: %q applies to %s: %v, want %v", how, c.match, c.link, ld != nil, c.want)
			}
		}
	}
}

// The index of a Config's networks answers NetworkFor for every link as
// NetworkFor does: over random configs mixing files of literal names
// (one, several, repeated, shared by files in either order), globs,
// negations, MAC and Kind= matches, an empty [Match], a file without a
// parse and Driver= (uncertain), for links of those names, others, and
// none.
func TestNetworkIndexIsNetworkFor(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 17))
	names := []string{"eth0", "eth1", "np0a", "np1b", "br0", "eno1", "lo", "vx9"}
	matches := []string{"Name=%s\n", "Name=%s %s\n", "Name=%s\nName=%s\n", "Name=e*\n", "Name=!%s\n", "Name=!%s eth*\n",
		"MACAddress=52:54:00:12:34:56\n", "Kind=vxlan\n", "Name=%s\nKind=bridge\n", "", "Name=%s\nDriver=e1000\n", `Name=eth\0` + "\n"}
	mac, _ := net.ParseMAC("52:54:00:12:34:56")
	indexed := 0
	for range 200 {
		files := map[string]string{}
		for i := range 1 + r.IntN(12) {
			m := matches[r.IntN(len(matches))]
			text := "[Match]\n" + m
			for strings.Contains(text, "%s") {
				text = strings.Replace(text, "%s", names[r.IntN(len(names))], 1)
			}
			files[fmt.Sprintf("%02d-f%d.network", r.IntN(90), i)] = text
		}
		c := configOf(t, files)
		if r.IntN(4) == 0 && len(c.Networks) > 0 {
			c.Networks[r.IntN(len(c.Networks))].Network = nil
		}
		x := c.networkIndex()
		for _, n := range append(names, "other", "") {
			alts := []string{names[r.IntN(len(names))], "enp0s31f6"}
			for _, l := range []model.Link{{Name: n, Kind: "vxlan"}, {Name: n, Kind: "bridge", HWAddr: mac}, {Name: n, LinkType: "ether"},
				{Name: n, LinkType: "ether", AltNames: alts}} {
				wantLd, wantRes := c.NetworkFor(l)
				gotLd, gotRes := x.networkFor(l)
				if gotLd != wantLd || !reflect.DeepEqual(gotRes, wantRes) {
					t.Fatalf("%v, link %+v: the index says %v %v, NetworkFor %v %v", files, l, name(gotLd), gotRes, name(wantLd), wantRes)
				}
				if wantLd != nil && slices.Contains(x.byName[n], slices.Index(c.Networks, wantLd)) {
					indexed++
				}
			}
		}
	}
	if indexed < 100 {
		t.Errorf("%d links matched a file of the index's names: the index was hardly compared", indexed)
	}
}

// networkd matches Name= against a link's alternative names too
// (net_condition_test_ifname: the name, or any alternative name, each
// tested alone), so a file naming a link by its altname applies to it,
// found by NetworkFor and by the index alike, in the files' order.
func TestNameMatchesAnAlternativeName(t *testing.T) {
	c := configOf(t, map[string]string{
		"10-lan.network":  "[Match]\nName=enp0s31f6\n",
		"20-eno.network":  "[Match]\nName=eno1\n",
		"30-rest.network": "[Match]\nName=!eno1\n",
	})
	l := model.Link{Name: "eno1", AltNames: []string{"enp0s31f6"}}
	for how, find := range map[string]func(model.Link) (*Loaded, MatchResult){"NetworkFor": c.NetworkFor, "the index": c.networkIndex().networkFor} {
		if ld, _ := find(l); ld == nil || ld.Name != "10-lan.network" {
			t.Errorf("%s: eno1 (altname enp0s31f6) gets %v, want 10-lan.network", how, name(ld))
		}
	}
	// Each name is tested alone: Name=!eno1 matches through the altname,
	// as networkd has it.
	c2 := configOf(t, map[string]string{"30-rest.network": "[Match]\nName=!eno1\n"})
	if ld, _ := c2.NetworkFor(l); ld == nil {
		t.Error("Name=!eno1 does not apply to eno1 with an altname")
	}
}

// The words of [Match] lists as networkd 252 takes them
// (net-condition.c): Name= with extract_first_word and no flags
// (backslashes taken off, quotes kept, invalid interface names dropped),
// the other glob lists with EXTRACT_UNQUOTE|EXTRACT_RETAIN_ESCAPE (quotes
// taken off, backslashes kept); a syntax error ends the line, keeping the
// words before it.
func TestMatchWordsAsNetworkd(t *testing.T) {
	for _, c := range []struct {
		line string
		want []string
	}{
		{"Name=eth0  eth1", []string{"eth0", "eth1"}},
		{`Name="eth0" 'eth1'`, []string{`"eth0"`, `'eth1'`}},
		{`Name=eth\*`, []string{"eth*"}},
		{`Name=eth\\*`, []string{`eth\*`}},
		{`Name=e\"t\h0`, []string{`e"th0`}},
		{"Name=eth0 bad:name 12 all default . .. a/b a%d eth1", []string{"eth0", "eth1"}},
		{"Name=eth[[:digit:]]", nil},
		{"Name=0 !0 eth0", []string{"!0", "eth0"}}, // "0" is no name, "!0" is, and negates
		{"Name=0x5 +3 017 0b1 0o7 0 -5 0x 5x", []string{"-5", "0x", "5x"}},
		{"Name=" + strings.Repeat("a", 127) + " " + strings.Repeat("b", 128), []string{strings.Repeat("a", 127)}},
		{`Name=eth0 tail\`, []string{"eth0", "tail"}}, // the line continues: no backslash left
		{`Name=a\ b c`, []string{"c"}},
		{`Name=!eth0 "x"`, []string{"!eth0", `!"x"`}},
		{"Name=\té0 x", []string{"x"}},
		{`Kind="veth" 'bridge'`, []string{"veth", "bridge"}},
		{`Kind=a"b c"d`, []string{"ab cd"}},
		{`Kind=br\* 'x\'`, []string{`br\*`, `x\`}},
		{`Kind=veth "unclosed`, []string{"veth"}},
		{`Kind=!"veth" br`, []string{"!veth", "!br"}},
		{`Type="" ether`, []string{"", "ether"}},
	} {
		nf, _, err := ParseNetwork("x.network", []byte("[Match]\n"+c.line+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		got := nf.Match.Name
		if key, _, _ := strings.Cut(c.line, "="); key != "Name" {
			got = extraMatch(nf.Match.Extra)[key]
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: words %q, want %q", c.line, got, c.want)
		}
		again, _, err := ParseNetwork("x.network", nf.Marshal())
		if err != nil || !reflect.DeepEqual(again.Match, nf.Match) {
			t.Errorf("%s: round trip gives %q (%v)\n%s", c.line, again.Match, err, nf.Marshal())
		}
	}
}
