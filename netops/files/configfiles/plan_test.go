package configfiles

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func TestPlan(t *testing.T) {
	t.Run("new, changed, unchanged and deleted files are sorted and classified", func(t *testing.T) {
		e := newEnv(t)
		e.put(t, "10-same.network", ownedFile("[Match]\nName=eth0\n"), 0o644)
		e.put(t, "20-changed.network", ownedFile("[Match]\nName=eth1\n"), 0o644)
		e.put(t, "30-gone.network", ownedFile("[Match]\nName=eth2\n"), 0o644)
		p, err := e.l.Plan(map[string][]byte{
			"10-same.network":                      []byte(ownedFile("[Match]\nName=eth0\n")),
			"20-changed.network":                   []byte(ownedFile("[Match]\nName=eth9\n")),
			"networkd.conf.d/netpanel-tables.conf": []byte(ownedFile("[Network]\nRouteTable=vpn:100\n")),
		}, []string{"30-gone.network", "40-never-existed.network"}, owned, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rels(p.Changes), "20-changed.network,30-gone.network,networkd.conf.d/netpanel-tables.conf"; got != want {
			t.Fatalf("changes = %s, want %s", got, want)
		}
		changed, gone, created := p.Changes[0], p.Changes[1], p.Changes[2]
		if changed.Old == nil || changed.New == nil || changed.Foreign {
			t.Errorf("changed file: %+v", changed)
		}
		if gone.Old == nil || gone.New != nil {
			t.Errorf("deleted file: Old=%q New=%q", gone.Old, gone.New)
		}
		if created.Old != nil || created.New == nil {
			t.Errorf("new file: Old=%q New=%q", created.Old, created.New)
		}
		if want := filepath.Join(e.root, "etc/systemd/networkd.conf.d/netpanel-tables.conf"); created.Abs != want {
			t.Errorf("Abs = %s, want %s", created.Abs, want)
		}
		if len(p.Refused()) != 0 {
			t.Errorf("refused: %s", rels(p.Refused()))
		}
	})

	t.Run("an empty existing file differs from a missing one", func(t *testing.T) {
		e := newEnv(t)
		e.put(t, "empty.network", "", 0o644)
		p, err := e.l.Plan(map[string][]byte{"empty.network": nil, "new-empty.network": {}}, nil, OwnedByHeader(""), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := rels(p.Changes); got != "new-empty.network" {
			t.Fatalf("changes = %s, want only the new empty file", got)
		}
	})

	t.Run("foreign files are refused and taking them over allows them", func(t *testing.T) {
		e := newEnv(t)
		e.put(t, "10-admin.network", "[Match]\nName=eth0\n", 0o644)
		e.put(t, "docker/daemon.json", "{\"bip\": \"10.1.0.1/24\"}\n", 0o644)
		e.put(t, "20-admin.network", "[Match]\nName=eth1\n", 0o644)
		files := map[string][]byte{
			"10-admin.network":   []byte(ownedFile("[Match]\nName=eth0\n")),
			"docker/daemon.json": []byte("{\"bip\": \"10.2.0.1/24\"}\n"),
		}
		p, err := e.l.Plan(files, []string{"20-admin.network"}, owned, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := rels(p.Refused()); got != "10-admin.network,20-admin.network,docker/daemon.json" {
			t.Fatalf("refused = %s", got)
		}
		_, err = e.l.Apply(p, testTime)
		var re *RefusedError
		if !errors.As(err, &re) || !errors.Is(err, ErrRefused) || len(re.Rels) != 3 {
			t.Fatalf("Apply err = %v, want RefusedError for 3 files", err)
		}
		if e.read(t, "10-admin.network") != "[Match]\nName=eth0\n" {
			t.Fatal("refused Apply touched a file")
		}

		p, err = e.l.Plan(files, []string{"20-admin.network"}, owned, []string{"10-admin.network", "docker/daemon.json"})
		if err != nil {
			t.Fatal(err)
		}
		if got := rels(p.Refused()); got != "20-admin.network" {
			t.Fatalf("refused after take-over = %s, want the one not taken over", got)
		}
		for _, c := range p.Changes {
			if !c.Foreign {
				t.Errorf("%s: Foreign should stay true after take-over", c.Rel)
			}
		}
	})

	t.Run("a nil owned func treats every existing file as foreign", func(t *testing.T) {
		e := newEnv(t)
		e.put(t, "docker/daemon.json", "{}\n", 0o644)
		p, err := e.l.Plan(map[string][]byte{"docker/daemon.json": []byte("{\"ipv6\": true}\n")}, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Refused()) != 1 {
			t.Fatalf("refused = %s", rels(p.Refused()))
		}
	})

	bad := []struct {
		name   string
		files  map[string][]byte
		remove []string
		take   []string
		want   error
	}{
		{"a file name with dot-dot is refused", map[string][]byte{"../x.network": nil}, nil, nil, ErrDotName},
		{"a nested file name is refused", map[string][]byte{"docker/a/b.json": nil}, nil, nil, ErrTooDeep},
		{"an unknown root is refused", map[string][]byte{"cron.d/x": nil}, nil, nil, ErrUnknownRoot},
		{"an absolute removal is refused", nil, []string{"/etc/passwd"}, nil, ErrAbsolute},
		{"a bad take-over name is refused", nil, nil, []string{"a\x00b"}, ErrBadChar},
		{"a name both written and removed is refused", map[string][]byte{"a.network": {}}, []string{"a.network"}, nil, ErrDuplicate},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.l.Plan(tc.files, tc.remove, owned, tc.take)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Plan err = %v, want %v", err, tc.want)
			}
		})
	}

	t.Run("a symlink target is refused, not followed", func(t *testing.T) {
		e := newEnv(t)
		abs, _ := e.l.Abs("99-default.link")
		if err := os.Symlink("/dev/null", abs); err != nil {
			t.Fatal(err)
		}
		_, err := e.l.Plan(map[string][]byte{"99-default.link": []byte("x\n")}, nil, owned, nil)
		if !errors.Is(err, ErrNotRegular) {
			t.Fatalf("Plan err = %v, want ErrNotRegular", err)
		}
	})
}

func TestPlanDiffGolden(t *testing.T) {
	e := newEnv(t)
	var old strings.Builder
	old.WriteString(header + "\n\n[Match]\nName=br0\n\n[Network]\n")
	for i := range 8 {
		old.WriteString("Address=10.0." + string(rune('0'+i)) + ".1/24\n")
	}
	e.put(t, "10-br0.network", old.String(), 0o644)
	e.put(t, "20-old.netdev", ownedFile("[NetDev]\nName=dummy0\nKind=dummy\n"), 0o644)
	e.put(t, "docker/daemon.json", "{\"bip\": \"10.1.0.1/24\"}", 0o644) // no final newline

	updated := strings.Replace(old.String(), "Address=10.0.4.1/24\n", "Address=10.0.4.1/24\nAddress=fd00::1/64\n", 1)
	updated = strings.Replace(updated, "Address=10.0.0.1/24\n", "", 1)
	p, err := e.l.Plan(map[string][]byte{
		"10-br0.network":                       []byte(updated),
		"networkd.conf.d/netpanel-tables.conf": []byte(ownedFile("[Network]\nRouteTable=vpn:100\n")),
		"docker/daemon.json":                   []byte("{\"bip\": \"10.2.0.1/24\"}\n"),
	}, []string{"20-old.netdev"}, owned, []string{"docker/daemon.json"})
	if err != nil {
		t.Fatal(err)
	}
	got := p.UnifiedDiff()
	golden := filepath.Join("testdata", "plan.diff")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("diff differs from %s (run with -update and review):\n%s", golden, got)
	}
	for _, c := range p.Changes {
		if !strings.HasPrefix(c.Diff(), "--- a/"+c.Rel+"\n+++ b/"+c.Rel+"\n@@ ") {
			t.Errorf("%s: diff header: %q", c.Rel, c.Diff())
		}
	}
}
