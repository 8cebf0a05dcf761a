package rttables

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

func openOwned(t *testing.T, dir string) *Owned {
	t.Helper()
	o, err := OpenOwned(dir)
	if err != nil {
		t.Fatalf("OpenOwned: %v", err)
	}
	return o
}

// entryStrings renders entries as "ID NAME" lines for comparison.
func entryStrings(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.String())
	}
	return out
}

func TestOwnedAddRenameDeleteRoundTrips(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rt_tables.d") // created on the first Add
	o := openOwned(t, dir)
	if len(o.Entries()) != 0 {
		t.Fatalf("Entries of a missing file = %v", o.Entries())
	}
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"adding a name creates the file", func() error { return o.Add(200, "vpn") }, []string{"200 vpn"}},
		{"names are kept in table order", func() error { return o.Add(1, "wan-force") }, []string{"1 wan-force", "200 vpn"}},
		{"a rename keeps the number", func() error { return o.Rename("vpn", "vpn.office") }, []string{"1 wan-force", "200 vpn.office"}},
		{"renaming to the same name changes nothing", func() error { return o.Rename("wan-force", "wan-force") }, []string{"1 wan-force", "200 vpn.office"}},
		{"a delete removes only that name", func() error { return o.Delete("wan-force") }, []string{"200 vpn.office"}},
		{"the last name can go too", func() error { return o.Delete("vpn.office") }, nil},
		{"and names come back", func() error { return o.Add(0x10, "_lab") }, []string{"16 _lab"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := s.do(); err != nil {
				t.Fatal(err)
			}
			if got := entryStrings(o.Entries()); !slices.Equal(got, s.want) {
				t.Errorf("Entries = %q, want %q", got, s.want)
			}
			data, err := os.ReadFile(o.Path())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), "# Routing table names managed by netpanel.\n") {
				t.Errorf("file does not start with the header:\n%s", data)
			}
			parsed, err := Parse(strings.NewReader(string(data)), "again")
			if err != nil || !slices.Equal(entryStrings(parsed), s.want) {
				t.Errorf("the file parses back as %q, %v; want %q", entryStrings(parsed), err, s.want)
			}
			if got := entryStrings(openOwned(t, dir).Entries()); !slices.Equal(got, s.want) {
				t.Errorf("reopened Entries = %q, want %q", got, s.want)
			}
			st, err := os.Stat(o.Path())
			if err != nil || st.Mode().Perm() != 0o644 {
				t.Errorf("file mode = %v, %v; want 0644", st.Mode(), err)
			}
			if des, _ := os.ReadDir(dir); len(des) != 1 {
				t.Errorf("directory holds %v, want only %s (no temporary files left)", des, OwnedFile)
			}
		})
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("created directory mode = %v, %v; want 0755", st.Mode(), err)
	}
	for _, e := range o.Entries() {
		if want := o.Path() + ":5"; e.Source != want {
			t.Errorf("Source = %q, want %q (the line after the header)", e.Source, want)
		}
	}
}

func TestOwnedRefusesNamesIproute2WouldMisread(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"rt_tables":              "255 local\n254 main\n253 default\n0 unspec\n100 isp\n",
		"rt_tables.d/other.conf": "300 lab\n",
	})
	o := openOwned(t, filepath.Join(root, "rt_tables.d"))
	tabs, _ := Load(root)
	o.SetLoaded(tabs)
	if err := o.Add(1, "wan-force"); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 64)
	tests := []struct {
		name string
		do   func() error
		want error
		msg  string
	}{
		{"an empty name", func() error { return o.Add(2, "") }, ErrInvalidName, "required"},
		{"a name starting with a digit", func() error { return o.Add(2, "1wan") }, ErrInvalidName, "must start with a letter"},
		{"a name that reads as a number", func() error { return o.Add(2, "0x20") }, ErrInvalidName, "must start with a letter"},
		{"a name with a space", func() error { return o.Add(2, "my wan") }, ErrInvalidName, "only letters"},
		{"a name with a slash", func() error { return o.Add(2, "wan/2") }, ErrInvalidName, "only letters"},
		{"a name that is not ASCII", func() error { return o.Add(2, "wän") }, ErrInvalidName, "only letters"},
		{"a name longer than ip prints", func() error { return o.Add(2, long) }, ErrInvalidName, "longer than 63"},
		{"a built-in name", func() error { return o.Add(2, "main") }, ErrInvalidName, "reserved"},
		{"a built-in name in capitals", func() error { return o.Add(2, "LOCAL") }, ErrInvalidName, "reserved"},
		{"unspec", func() error { return o.Add(2, "unspec") }, ErrInvalidName, "reserved"},
		{"all, which ip route show table takes", func() error { return o.Add(2, "all") }, ErrInvalidName, "reserved"},
		{"cache", func() error { return o.Add(2, "cache") }, ErrInvalidName, "reserved"},
		{"table 0", func() error { return o.Add(0, "zero") }, ErrInvalidID, "means no table"},
		{"table 252", func() error { return o.Add(252, "compat") }, ErrInvalidID, "reserved"},
		{"table 254", func() error { return o.Add(254, "mymain") }, ErrInvalidID, "reserved"},
		{"a table above 2^31-1", func() error { return o.Add(1<<31, "big") }, ErrInvalidID, "out of range"},
		{"a name another file uses", func() error { return o.Add(2, "isp") }, ErrNameTaken, "rt_tables:5"},
		{"a number another file names", func() error { return o.Add(300, "lab2") }, ErrIDTaken, "other.conf:1"},
		{"a name the file already has", func() error { return o.Add(2, "wan-force") }, ErrNameTaken, OwnedFile},
		{"a number the file already names", func() error { return o.Add(1, "wan2") }, ErrIDTaken, OwnedFile},
		{"a rename to a name another file uses", func() error { return o.Rename("wan-force", "lab") }, ErrNameTaken, "other.conf"},
		{"a rename to an invalid name", func() error { return o.Rename("wan-force", "main") }, ErrInvalidName, "reserved"},
		{"a rename of a name from another file", func() error { return o.Rename("isp", "isp2") }, ErrNotOwned, "rt_tables:5, which netpanel does not manage"},
		{"a delete of a name from another file", func() error { return o.Delete("lab") }, ErrNotOwned, "other.conf:1"},
		{"a delete of an unknown name", func() error { return o.Delete("nope") }, ErrUnknownName, "no table is named"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
		})
	}
	if got := entryStrings(o.Entries()); !slices.Equal(got, []string{"1 wan-force"}) {
		t.Errorf("refused changes altered the file: %q", got)
	}
}

func TestOwnedKeepsHandEditsAndRefusesAFileItCannotRead(t *testing.T) {
	dir := t.TempDir()
	o := openOwned(t, dir)
	if err := o.Add(1, "wan-force"); err != nil {
		t.Fatal(err)
	}
	// Someone adds a line by hand; the next change must keep it.
	f, err := os.OpenFile(o.Path(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("7 byhand\n")
	f.Close()
	if err := o.Add(2, "second"); err != nil {
		t.Fatal(err)
	}
	if got, want := entryStrings(o.Entries()), []string{"1 wan-force", "2 second", "7 byhand"}; !slices.Equal(got, want) {
		t.Errorf("Entries = %q, want %q", got, want)
	}

	before := "1 wan-force\nthis is not a table\n"
	writeFiles(t, dir, map[string]string{OwnedFile: before})
	if _, err := OpenOwned(dir); err == nil || !strings.Contains(err.Error(), "will not rewrite") {
		t.Errorf("OpenOwned on a bad file: err = %v", err)
	}
	if err := o.Add(3, "third"); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("Add with a bad file: err = %v, want the bad line named", err)
	}
	if data, _ := os.ReadFile(o.Path()); string(data) != before {
		t.Errorf("a file netpanel cannot read was rewritten:\n%s", data)
	}
}

func TestWatchSeesOwnedChanges(t *testing.T) {
	root := t.TempDir()
	updates := startWatch(t, root)
	o := openOwned(t, filepath.Join(root, "rt_tables.d"))
	waitFor(t, updates, "the first load", func(*Tables) bool { return true })
	if err := o.Add(1, "wan-force"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, updates, "the added name", named(1, "wan-force"))
	if err := o.Rename("wan-force", "uplink"); err != nil {
		t.Fatal(err)
	}
	u := waitFor(t, updates, "the new name", named(1, "uplink"))
	if len(u.errs) != 0 {
		t.Errorf("load errors: %v", u.errs)
	}
	if err := o.Delete("uplink"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, updates, "the name gone", named(1, "1"))
}

// TestIproute2ReadsTheOwnedFile lets the real ip read the written file,
// with the test directory bind mounted over /etc/iproute2 in a private
// mount namespace so the host's files are untouched.
func TestIproute2ReadsTheOwnedFile(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "unshare")
	testenv.RequireTool(t, "mount")
	ns := testenv.NewNS(t)
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	o := openOwned(t, filepath.Join(root, "rt_tables.d"))
	if err := o.Add(1, "wan-force"); err != nil {
		t.Fatal(err)
	}
	ipRead := func(cmds ...string) string {
		t.Helper()
		script := []string{"set -e", "mount --bind " + root + " /etc/iproute2"}
		for _, c := range cmds {
			script = append(script, "ip -n "+ns.Name+" "+c)
		}
		out, err := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", strings.Join(script, "\n")).CombinedOutput()
		if err != nil {
			t.Fatalf("ip in a private mount namespace: %v\n%s", err, out)
		}
		return string(out)
	}
	out := ipRead("route add unreachable 192.0.2.1/32 table wan-force", "route show table wan-force", "route show table all")
	if !strings.Contains(out, "unreachable 192.0.2.1 table wan-force") {
		t.Errorf("ip does not resolve or print the name:\n%s", out)
	}
	if err := o.Rename("wan-force", "uplink"); err != nil {
		t.Fatal(err)
	}
	if out := ipRead("route show table all"); !strings.Contains(out, "unreachable 192.0.2.1 table uplink") {
		t.Errorf("ip does not print the new name:\n%s", out)
	}
	if err := o.Delete("uplink"); err != nil {
		t.Fatal(err)
	}
	if out := ipRead("route show table all"); !strings.Contains(out, "unreachable 192.0.2.1 table 1 ") {
		t.Errorf("ip still names the deleted table:\n%s", out)
	}
}
