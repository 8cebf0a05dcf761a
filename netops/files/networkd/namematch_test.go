package networkd

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

// oddNames are link names the kernel takes that are globs, a negation or
// no Name= word to networkd as they are, each with a link it must not
// take (ab for a*, a?, a\b; x1 for x[1]; every other link for !foo).
var oddNames = []string{"a*", "ab", "x[1]", "x1", `a\b`, "!foo", "foo", "a?", "a1", "123", "0x1f", "all", "eth0"}

// Each file Generate writes applies to its own link and to no other, in
// netpanel's prediction: "a*" does not take ab, "!foo" does not take
// every link but foo, "x[1]" and `a\b` take themselves, not x1 and ab,
// and an all-digit name is not dropped.
func TestGeneratedFileMatchesOnlyItsLink(t *testing.T) {
	st := &fakeSource{}
	for i, n := range oddNames {
		st.links = append(st.links, model.Link{Index: int32(i + 2), Name: n, LinkType: "ether", LinkNetNsID: -1, Flags: net.FlagUp})
	}
	files, err := genFiles(st, oddNames, nil)
	if err != nil {
		t.Fatal(err)
	}
	nets := map[string]string{}
	for _, n := range oddNames {
		name := filePrefix + n + ".network"
		nets[name] = string(files[name])
	}
	c := configOf(t, nets)
	for _, ld := range c.Networks {
		for _, l := range st.links {
			own := ld.Name == filePrefix+l.Name+".network"
			if res := ld.Network.Match.evaluate(l); (res.State == Matched) != own || res.State == Uncertain {
				t.Errorf("%s (Name=%q) on link %q: %v", ld.Name, ld.Network.Match.Name, l.Name, res)
			}
		}
	}
	for _, l := range st.links {
		if ld, _ := c.NetworkFor(l); ld == nil {
			t.Errorf("NetworkFor(%q): no file", l.Name)
		} else if ld.Name != filePrefix+l.Name+".network" {
			t.Errorf("NetworkFor(%q) = %s", l.Name, ld.Name)
		}
	}
}

// A link whose name networkd refuses in any Name= word ("%", a byte past
// ASCII) gets no file: Generate says why, naming the link.
func TestGenerateRefusesANameNetworkdCannotMatch(t *testing.T) {
	for _, n := range []string{"a%b", "é0", "a\x01"} {
		st := &fakeSource{links: []model.Link{{Index: 2, Name: n, LinkType: "ether", LinkNetNsID: -1}}}
		_, err := genFiles(st, []string{n}, nil)
		if !errors.Is(err, ErrNotRecreatable) || !strings.Contains(err.Error(), fmt.Sprintf("link %q", n)) || !strings.Contains(err.Error(), "[Match] Name=") {
			t.Errorf("Generate(%q) = %v, want ErrNotRecreatable naming the link", n, err)
		}
	}
}

// Over random names the kernel takes, NameMatch's pattern, written as a
// file and read back as networkd reads it, matches its name and no other
// of a set of names like it; or NameMatch refuses the name for a
// character networkd refuses in every Name= word.
func TestNameMatchMatchesItsNameAlone(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = `*?[]\!^-%.+0123456789abx`
	randName := func() string {
		for {
			b := make([]byte, 1+r.IntN(15))
			for i := range b {
				if r.IntN(20) == 0 {
					b[i] = byte(1 + r.IntN(255))
				} else {
					b[i] = alphabet[r.IntN(len(alphabet))]
				}
			}
			n := string(b)
			if n != "." && n != ".." && !strings.ContainsAny(n, "/: \t\n\v\f\r") {
				return n
			}
		}
	}
	for range 20000 {
		name := randName()
		m, err := NameMatch(name)
		refused := strings.IndexFunc(name, func(c rune) bool { return c <= ' ' || c >= 127 || c == '%' }) >= 0
		if refused {
			if !errors.Is(err, ErrNotRecreatable) {
				t.Fatalf("NameMatch(%q) = %q, %v; want it refused", name, m.Name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("NameMatch(%q): %v", name, err)
		}
		text := (&NetworkFile{Match: m}).Marshal()
		nf, _, err := ParseNetwork("x.network", text)
		if err != nil {
			t.Fatalf("%q: %v\n%s", name, err, text)
		}
		others := []string{name + "x", name[1:], name[:len(name)-1], "!" + name, strings.TrimPrefix(name, "!"), "x" + name}
		for range 8 {
			others = append(others, randName())
			b := []byte(name)
			b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
			others = append(others, string(b))
		}
		if nf.Match.evaluate(model.Link{Name: name}).State != Matched {
			t.Fatalf("the file for %q does not match it:\n%s", name, text)
		}
		for _, o := range others {
			if o != name && o != "" && nf.Match.evaluate(model.Link{Name: o}).State != NoMatch {
				t.Fatalf("the file for %q matches %q too:\n%s", name, o, text)
			}
		}
	}
}

// The template of a .network writes its Name= as Generate does.
func TestTemplateMatchesItsLinkAlone(t *testing.T) {
	for _, n := range []string{"!foo", "a*", "123"} {
		name, data, err := Template("network", n, nil)
		if err != nil {
			t.Fatal(err)
		}
		nf, _, err := ParseNetwork(name, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []string{n, "foo", "ab", "eth0"} {
			if got := nf.Match.evaluate(model.Link{Name: o}).State == Matched; got != (o == n) {
				t.Errorf("template for %q matches %q: %v\n%s", n, o, got, data)
			}
		}
	}
	if _, _, err := Template("network", "a%b", nil); !errors.Is(err, ErrNotRecreatable) {
		t.Errorf("template for a%%b: %v", err)
	}
}
