package networkd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func problemStrings(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Severity+" "+p.String())
	}
	return out
}

// An edit is read as networkd reads it: a bad value or a syntax error is
// an error at its file and line, a key networkd does not know a warning,
// a table networkd cannot resolve an error; keys networkd knows but
// netpanel does not model pass.
func TestCheckEditReportsProblemsAtTheirLines(t *testing.T) {
	etc, usr := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(usr, "10-wan.network"), []byte("[Match]\nName=wan\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(usr, "10-wan.network.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(usr, "10-wan.network.d", "mtu.conf"), []byte("[Link]\nMTUBytes=1400\nBogus=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{etc, usr})
	if err != nil {
		t.Fatal(err)
	}
	text := "[Match]\nName=wan\n\n[Network]\nDNS=192.0.2.53\nAddress=10.0.0.300/24\nFrobnicate=yes\n[Route\n\n" +
		"[Route]\nGateway=192.0.2.1\nTable=vpn\n\n[Route]\nGateway=192.0.2.1\nTable=wan\n\n[Whatever]\nX=1\n"
	e := CheckEdit(c, etc, "10-wan.network", []byte(text), target252, DaemonConf{Tables: map[string]uint32{"wan": 7}}, predictState())
	p := filepath.Join(etc, "10-wan.network")
	d := filepath.Join(usr, "10-wan.network.d", "mtu.conf")
	want := []string{
		"error " + p + ":6: Network.Address: \"10.0.0.300/24\" is not an address or prefix",
		"warning " + p + ":7: networkd 252 knows no Frobnicate= in [Network]: it ignores the line",
		"error " + p + ":8: invalid section header \"[Route\"",
		"error " + p + ":12: networkd knows no table \"vpn\": it reads table names only from RouteTable= in networkd.conf (not rt_tables) when it starts, and drops this [Route]; write the table's number",
		"note " + p + ":16: networkd knows table wan (7) only if networkd.conf declared it before networkd started; Table=7 needs no restart",
		"warning " + p + ":18: networkd knows no section [Whatever]: it ignores the whole section",
		"warning " + d + ":3: networkd 252 knows no Bogus= in [Link]: it ignores the line",
	}
	got := problemStrings(e.Problems)
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !e.Refused() {
		t.Error("an edit with errors is not refused")
	}
	if e.Winner != filepath.Join(usr, "10-wan.network") || !slices.Equal(e.Shadows, []string{filepath.Join(usr, "10-wan.network")}) || len(e.DropIns) != 1 {
		t.Errorf("winner %q, shadows %q, drop-ins %v", e.Winner, e.Shadows, e.DropIns)
	}
	if len(e.Matches) != 1 || e.Matches[0].Link != "wan" || !e.Matches[0].Applied {
		t.Errorf("matches %+v", e.Matches)
	}
	// The same file, fixed, passes.
	good := "[Match]\nName=wan\n\n[Network]\nDNS=192.0.2.53\nAddress=10.0.0.3/24\n\n[Route]\nGateway=192.0.2.1\nTable=7\n"
	if e := CheckEdit(c, etc, "10-wan.network", []byte(good), target252, DaemonConf{}, predictState()); e.Refused() || len(e.Problems) != 1 {
		t.Errorf("a good file: %q", problemStrings(e.Problems))
	}
}

// A .network another file wins for says which; a .netdev without Name= is
// refused.
func TestCheckEditNamesTheFileThatWins(t *testing.T) {
	etc := t.TempDir()
	if err := os.WriteFile(filepath.Join(etc, "05-all.network"), []byte("[Match]\nName=w*\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _ := Load([]string{etc})
	e := CheckEdit(c, etc, "10-wan.network", []byte("[Match]\nName=wan lan\n"), target252, DaemonConf{}, predictState())
	if len(e.Matches) != 2 || e.Matches[0].Link != "wan" || e.Matches[0].Applied || e.Matches[0].By != "05-all.network" || !e.Matches[1].Applied {
		t.Errorf("matches %+v", e.Matches)
	}
	if e := CheckEdit(c, etc, "10-x.netdev", []byte("[NetDev]\nKind=bridge\n"), target252, DaemonConf{}, nil); !e.Refused() {
		t.Errorf("a .netdev without Name=: %q", problemStrings(e.Problems))
	}
}

func TestTemplates(t *testing.T) {
	name, data, err := Template("network", "eth1", nil)
	if err != nil || name != "10-eth1.network" {
		t.Fatal(name, err)
	}
	if nf, _, err := ParseNetwork(name, data); err != nil || nf.Match.Name[0] != "eth1" {
		t.Fatalf("%v %+v", err, nf)
	}
	name, data, err = Template("bridge", "br4", nil)
	if nd, _, err2 := ParseNetDev(name, data); err != nil || err2 != nil || name != "10-br4.netdev" || nd.NetDev.Kind != "bridge" {
		t.Fatal(name, err, err2)
	}
	for _, bad := range [][2]string{{"network", "../x"}, {"vlan", "v1"}, {"bridge", ""}} {
		if _, _, err := Template(bad[0], bad[1], nil); err == nil {
			t.Errorf("template %v worked", bad)
		}
	}
}

// Whatever an admin types, CheckEdit answers with problems at lines of
// the text, never a panic.
func FuzzCheckEdit(f *testing.F) {
	f.Add("[Match]\nName=wan\n\n[Route]\nTable=vpn\nGateway=192.0.2.1\n", true)
	f.Add("[NetDev]\nName=br0\nKind=bridge\n[Bridge]\nSTP=yes\n", false)
	f.Add("[Route\nX\\\n=1\n", true)
	c := &Config{}
	f.Fuzz(func(t *testing.T, text string, network bool) {
		name := "10-x.netdev"
		if network {
			name = "10-x.network"
		}
		e := CheckEdit(c, "/etc/systemd/network", name, []byte(text), target252, DaemonConf{}, predictState())
		lines := strings.Count(text, "\n") + 1
		for _, p := range e.Problems {
			if p.Line < 0 || p.Line > lines || p.Msg == "" {
				t.Fatalf("problem %+v in a text of %d lines", p, lines)
			}
		}
	})
}
