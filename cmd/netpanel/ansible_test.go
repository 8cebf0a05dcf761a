package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

const playbook = "dist/ansible/netpanel-config.yml"

// The Ansible example passes ansible-playbook's own syntax check, and
// does its job for real: an archive exported from one namespace,
// installed by the playbook where systemd-networkd runs in another, makes
// networkd build the same link with the same address there (the
// playbook's networkctl reload over D-Bus included).
func TestAnsiblePlaybook(t *testing.T) {
	testenv.RequireTool(t, "ansible-playbook")
	if out, err := exec.Command("ansible-playbook", "--syntax-check", "-i", "localhost,", playbook).CombinedOutput(); err != nil {
		t.Fatalf("ansible-playbook --syntax-check: %v\n%s", err, out)
	}

	testenv.RequireRoot(t)
	python, err := exec.LookPath("python3")
	if err != nil {
		testenv.Missing(t, "python3 for Ansible's modules")
	}
	for _, p := range []string{"/usr/bin/python3"} {
		if _, err := os.Stat(p); err == nil {
			python = p // Debian's, which has Ansible's dependencies
		}
	}

	src := testenv.NewNS(t)
	src.Batch([]string{"link add p0 type veth peer name p1", "addr add 10.94.0.1/24 dev p0", "link set p0 up", "link set p1 up"})
	var archive, errb bytes.Buffer
	if code := cli([]string{"export", "--netns", src.Name, "--state-dir", t.TempDir(), "--rt-tables-dir", t.TempDir()}, strings.NewReader(""), &archive, &errb); code != 0 {
		t.Fatalf("export: %s", errb.String())
	}
	work := t.TempDir()
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}
	files := filepath.Join(work, "files")
	network := filepath.Join(work, "network")
	for _, d := range []string{files, network} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(files, "localhost.tar.gz"), archive.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// As an admin would: the playbook next to files/HOST.tar.gz.
	book := filepath.Join(work, filepath.Base(playbook))
	b, err := os.ReadFile(playbook)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(book, b, 0o644); err != nil {
		t.Fatal(err)
	}

	// The target: an empty namespace with networkd, the playbook run
	// against it as localhost. The host does not boot with systemd here,
	// so the play runs without become (it is root).
	dst := testenv.NewNS(t)
	script := `cd "$1"
ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP="$1/.ansible" ANSIBLE_REMOTE_TEMP="$1/.ansible" \
ansible-playbook -i localhost, -c local -e netpanel_hosts=localhost -e ansible_become=false \
	-e ansible_python_interpreter="$2" "$3"
n=0
until ip -br addr show p0 2>/dev/null | grep -q 10.94.0.1/24; do n=$((n+1)); [ $n -lt 200 ] || { echo "networkd did not configure p0"; ip addr; exit 5; }; sleep 0.1; done
echo "p0 configured"
`
	out, err := runWithNetworkd(t, dst, network, script, work, python, book)
	if err != nil || !strings.Contains(out, "p0 configured") {
		t.Fatalf("the playbook against networkd in %s: %v\n%s", dst.Name, err, out)
	}
	if !strings.Contains(out, "RUNNING HANDLER [reload networkd]") {
		t.Errorf("the play did not reload networkd:\n%s", out)
	}
	for _, f := range []string{"10-p0.netdev", "10-p0.network"} {
		fi, err := os.Stat(filepath.Join(network, f))
		if err != nil || fi.Mode() != 0o644 {
			t.Errorf("%s: %v %v, want mode 0644", f, fi, err)
		}
	}
	// networkd reads the directory as systemd-network.
	if fi, err := os.Stat(network); err != nil || fi.Mode() != os.ModeDir|0o755 {
		t.Errorf("/etc/systemd/network after the play: %v %v, want drwxr-xr-x", fi, err)
	}
	if _, err := os.Stat(filepath.Join(network, "README")); err == nil {
		t.Error("the archive's README landed in /etc/systemd/network")
	}
}
