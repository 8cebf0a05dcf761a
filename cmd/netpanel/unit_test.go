package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/nftables/owned"
)

// unitValues reads the unit's settings: each key's values, line after
// line, as systemd merges list settings.
func unitValues(unit string) map[string][]string {
	v := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, val, _ := strings.Cut(line, "=")
		v[k] = append(v[k], val)
	}
	return v
}

// unitForTest writes the unit with ExecStart= naming an executable that
// exists here, as make install does with the installed binary.
func unitForTest(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := strings.Replace(unitFile, "ExecStart=/usr/local/sbin/netpanel", "ExecStart="+self, 1)
	if unit == unitFile {
		t.Fatal("the unit has no ExecStart=/usr/local/sbin/netpanel (make install rewrites that line)")
	}
	p := filepath.Join(t.TempDir(), "netpanel.service")
	if err := os.WriteFile(p, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// documentedExposure is the exposure level the README prints.
func documentedExposure(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)exposure level.{0,200}?\*\*(\d+\.\d) [A-Z]+\*\*`).FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md does not print the unit's exposure level as **N.N LEVEL**")
	}
	f, _ := strconv.ParseFloat(string(m[1]), 64)
	return f
}

// systemd itself accepts the unit without a warning, and rates its
// exposure at or below the level the README prints.
func TestUnitVerifies(t *testing.T) {
	testenv.RequireTool(t, "systemd-analyze")
	unit := unitForTest(t)
	// The manual page is checked where it is installed (TestMakeInstall).
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", unit).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}

	documented := documentedExposure(t)
	// --threshold is the level times ten; security fails above it.
	threshold := strconv.Itoa(int(documented*10 + 0.5))
	out, err = exec.Command("systemd-analyze", "security", "--offline=yes", "--no-pager", "--threshold="+threshold, unit).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for netpanel.service: (\d+\.\d)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security printed no level: %v\n%s", err, out)
	}
	if err != nil {
		t.Fatalf("the unit's exposure is %s, above the README's %.1f:\n%s", m[1], documented, out)
	}
	t.Logf("exposure level %s (README: %.1f)", m[1], documented)

	// The --netns drop-in the README offers: systemd merges it into the
	// unit, which then grants CAP_SYS_ADMIN and lets netpanel enter a
	// network namespace, and nothing else.
	dropIn, err := os.ReadFile("dist/netns.conf")
	if err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	d := unit + ".d"
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(dropIn), "ExecStart=/usr/local/sbin/netpanel", "ExecStart="+self, 1)
	if err := os.WriteFile(filepath.Join(d, "netns.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("systemd-analyze", "verify", "--man=no", unit).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify with netns.conf: %v\n%s", err, out)
	}
	out, _ = exec.Command("systemd-analyze", "security", "--offline=yes", "--no-pager", unit).CombinedOutput()
	var opened []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "RestrictNamespaces=~") && strings.HasPrefix(l, "✗") || strings.Contains(l, "CapabilityBoundingSet=~CAP_SYS_ADMIN") && strings.HasPrefix(l, "✗") {
			opened = append(opened, strings.Fields(l)[1])
		}
	}
	if !slices.Equal(opened, []string{"RestrictNamespaces=~net", "CapabilityBoundingSet=~CAP_SYS_ADMIN"}) && !slices.Equal(opened, []string{"CapabilityBoundingSet=~CAP_SYS_ADMIN", "RestrictNamespaces=~net"}) {
		t.Errorf("with netns.conf systemd opens %v, want CAP_SYS_ADMIN and network namespaces only:\n%s", opened, out)
	}
}

// Every directory netpanel writes by default is writable under the unit,
// and it serves where the unit's IP allow list lets clients in.
func TestUnitWritesWhereNetpanelWrites(t *testing.T) {
	v := unitValues(unitFile)
	writable := map[string]bool{}
	for _, line := range v["ReadWritePaths"] {
		for _, p := range strings.Fields(line) {
			writable[strings.TrimPrefix(p, "-")] = true
		}
	}
	if len(v["StateDirectory"]) != 1 {
		t.Fatalf("StateDirectory= %q", v["StateDirectory"])
	}
	writable["/var/lib/"+v["StateDirectory"][0]] = true

	var c command
	fs := newFlagSet(&c)
	// Flags naming a directory are either written by netpanel or only read.
	written := map[string]string{}
	readOnly := []string{"rt-tables-dir"}
	for _, f := range flagDocs() {
		if !strings.HasSuffix(f.Name, "-dir") && f.Arg != "DIR" {
			continue
		}
		switch {
		case slices.Contains(readOnly, f.Name):
		case f.Name == "rt-tables-owned":
			written[f.Name] = rttables.DefaultOwnedDir // its empty default means this
		default:
			written[f.Name] = fs.Lookup(f.Name).DefValue
		}
	}
	written["nftables file"] = filepath.Dir(owned.DefaultPath)
	for name, dir := range written {
		if !writable[dir] {
			t.Errorf("netpanel writes %s (%s) but ReadWritePaths=/StateDirectory= do not cover it", dir, name)
		}
	}
	if len(written) < 5 {
		t.Fatalf("found only %v", written)
	}

	if exec := v["ExecStart"]; len(exec) != 1 || strings.Contains(exec[0], " ") {
		t.Fatalf("ExecStart= %q: the checks here assume the default flags", exec)
	}
	if err := checkListen(fs.Lookup("listen").DefValue, false, false); err != nil || !slices.Equal(v["IPAddressAllow"], []string{"localhost"}) {
		t.Errorf("the default --listen %s and IPAddressAllow=%v must agree (loopback)", fs.Lookup("listen").DefValue, v["IPAddressAllow"])
	}
}

// checkSyscalls reads an strace -f log of netpanel (and what it ran) and
// checks it against the unit: every system call within
// SystemCallFilter=, every socket of RestrictAddressFamilies=, no
// namespace made or entered (RestrictNamespaces=yes), no writable and
// executable memory (MemoryDenyWriteExecute=yes).
func checkSyscalls(t *testing.T, trace string) {
	t.Helper()
	v := unitValues(unitFile)
	groups := syscallGroups(t)
	allowed := map[string]bool{}
	var denied []string
	for _, line := range v["SystemCallFilter"] {
		deny := strings.HasPrefix(line, "~")
		for _, name := range strings.Fields(strings.TrimPrefix(line, "~")) {
			names := resolveSyscalls(t, groups, name)
			if deny {
				denied = append(denied, names...)
			} else {
				for _, n := range names {
					allowed[n] = true
				}
			}
		}
	}
	for _, n := range denied {
		delete(allowed, n)
	}
	families := strings.Fields(strings.Join(v["RestrictAddressFamilies"], " "))
	if len(allowed) < 100 || len(families) == 0 || !slices.Equal(v["RestrictNamespaces"], []string{"yes"}) || !slices.Equal(v["MemoryDenyWriteExecute"], []string{"yes"}) {
		t.Fatalf("the unit's filters changed: update this check (%d calls allowed, families %v)", len(allowed), families)
	}

	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	call := regexp.MustCompile(`^\d+\s+([a-z0-9_]+)\((.*)`)
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := call.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		name, args := m[1], m[2]
		seen[name]++
		if seen[name] == 1 && !allowed[name] {
			t.Errorf("%s is outside SystemCallFilter=: %s", name, sc.Text())
		}
		switch {
		case name == "socket" || name == "socketpair":
			fam, _, _ := strings.Cut(args, ",")
			if !slices.Contains(families, fam) {
				t.Errorf("a socket of %s, outside RestrictAddressFamilies=: %s", fam, sc.Text())
			}
		case strings.HasPrefix(name, "clone") || name == "unshare" || name == "setns":
			if name != "clone" && name != "clone3" || strings.Contains(args, "CLONE_NEW") {
				t.Errorf("a namespace made or entered despite RestrictNamespaces=yes: %s", sc.Text())
			}
		case name == "mmap" || name == "mprotect" || name == "pkey_mprotect":
			if strings.Contains(args, "PROT_EXEC") && (name != "mmap" || strings.Contains(args, "PROT_WRITE")) {
				t.Errorf("executable memory despite MemoryDenyWriteExecute=yes: %s", sc.Text())
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if seen["socket"] == 0 || seen["execve"] == 0 {
		t.Fatalf("the trace shows no socket or execve; is it netpanel's? %v", seen)
	}
	if !t.Failed() {
		t.Logf("%d distinct system calls, all within the unit's filter", len(seen))
	}
}

// syscallGroups reads systemd's own system call groups (@system-service
// and the groups it includes), as the running systemd resolves them.
func syscallGroups(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("systemd-analyze", "syscall-filter", "--no-pager").Output()
	if err != nil {
		t.Fatalf("systemd-analyze syscall-filter: %v", err)
	}
	groups := map[string][]string{}
	var cur string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "@"):
			cur = strings.TrimSpace(line)
		case cur != "" && strings.HasPrefix(line, "    ") && !strings.HasPrefix(strings.TrimSpace(line), "#"):
			groups[cur] = append(groups[cur], strings.TrimSpace(line))
		case strings.TrimSpace(line) == "":
			cur = ""
		}
	}
	if len(groups["@system-service"]) == 0 {
		t.Fatalf("no @system-service in systemd-analyze syscall-filter:\n%s", out)
	}
	return groups
}

func resolveSyscalls(t *testing.T, groups map[string][]string, name string) []string {
	if !strings.HasPrefix(name, "@") {
		return []string{name}
	}
	members, ok := groups[name]
	if !ok {
		t.Fatalf("systemd knows no group %s", name)
	}
	var out []string
	for _, m := range members {
		out = append(out, resolveSyscalls(t, groups, m)...)
	}
	return out
}
