package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
)

// result is how one run of the binary ended.
type result struct {
	code           int
	stdout, stderr string
}

// runOnce runs the binary to its end. The minute is a guard against a
// command that starts a server instead of exiting, not a speed check.
func runOnce(t *testing.T, stdin string, cmd *exec.Cmd) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.SysProcAttr, c.Dir = cmd.SysProcAttr, cmd.Dir
	var out, errb bytes.Buffer
	c.Stdin, c.Stdout, c.Stderr = strings.NewReader(stdin), &out, &errb
	err := c.Run()
	if ctx.Err() != nil {
		t.Fatalf("%q did not exit within a minute (a server started?)\nstdout:\n%s\nstderr:\n%s", cmd.Args, out.String(), errb.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running %q: %v", cmd.Args, err)
	}
	return result{c.ProcessState.ExitCode(), out.String(), errb.String()}
}

func TestCommandLine(t *testing.T) {
	testenv.RequireRoot(t)
	bin := binary(t)
	dir := t.TempDir()
	run := func(t *testing.T, stdin string, args ...string) result {
		return runOnce(t, stdin, exec.Command(bin, args...))
	}

	t.Run("global flags before the subcommand list the users, and start nothing", func(t *testing.T) {
		r := run(t, "", "--state-dir", dir, "user", "list")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "NAME") || strings.Contains(r.stdout+r.stderr, "created the user") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("token create with flags before prints a token", func(t *testing.T) {
		if r := run(t, "a long enough password\n", "--state-dir", dir, "user", "add", "admin", "--role", "admin"); r.code != 0 {
			t.Fatalf("user add: exit %d: %s", r.code, r.stderr)
		}
		r := run(t, "", "--state-dir", dir, "token", "create", "admin")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "np_") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("an unknown word is an error with the usage", func(t *testing.T) {
		r := run(t, "", "--state-dir", dir, "users", "list")
		if r.code != 2 || !strings.Contains(r.stderr, `unknown command "users"`) || !strings.Contains(r.stderr, "usage:") {
			t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
	})
}

// Run as nobody, --demo says that it needs root instead of passing on
// the kernel's "operation not permitted", and creates nothing.
func TestDemoAsNonRootSaysRootIsNeeded(t *testing.T) {
	testenv.RequireRoot(t)
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	// The test's own temp dirs are 0700: nobody could not run the binary.
	dir, err := os.MkdirTemp("", "netpanel-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "netpanel")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("np-test-nobody-%d", os.Getpid())
	cmd := exec.Command(bin, "--demo", "--demo-name", name, "--state-dir", filepath.Join(dir, "state"))
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	r := runOnce(t, "", cmd)
	if r.code == 0 || !strings.Contains(r.stderr, "--demo needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)") ||
		strings.Contains(r.stderr, "not permitted") {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if slices.Contains(namedNetns(t), name) {
		exec.Command("ip", "netns", "del", name).Run()
		t.Fatalf("netns %s was created by an unprivileged run", name)
	}
}

// A second --demo of the same name refuses and names the first, which
// keeps running on its namespace; a demo killed with SIGKILL leaves no
// lock behind.
func TestDemoLock(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	name := fmt.Sprintf("np-test-lock-%d", os.Getpid())
	t.Cleanup(func() {
		for _, n := range []string{name, name + "-isp"} {
			if slices.Contains(namedNetns(t), n) {
				exec.Command("ip", "netns", "del", n).Run()
			}
		}
	})
	first := startPanel(t, "--demo", "--demo-name", name)
	pid := strconv.Itoa(first.cmd.Process.Pid)

	r := runOnce(t, "", exec.Command(binary(t), "--demo", "--demo-name", name, "--listen", freePort(t), "--state-dir", t.TempDir()))
	if r.code == 0 || !strings.Contains(r.stderr, "pid "+pid) || !strings.Contains(r.stderr, "kill "+pid) {
		t.Fatalf("second demo: exit %d, want a refusal naming pid %s\nstderr:\n%s", r.code, pid, r.stderr)
	}
	if strings.Contains(r.stderr, "left over") {
		t.Fatalf("the second demo took the running one's namespaces for leftovers:\n%s", r.stderr)
	}
	if out, err := exec.Command("ip", "-n", name, "-j", "link", "show", "wan").CombinedOutput(); err != nil {
		t.Fatalf("the running demo lost its wan link: %v: %s", err, out)
	}

	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.done
	again := startPanel(t, "--demo", "--demo-name", name)
	if !strings.Contains(again.log.String(), "left over") {
		t.Errorf("the demo after a SIGKILL did not replace the leftover namespaces:\n%s", again.log.String())
	}
	again.Stop()
	if slices.Contains(namedNetns(t), name) {
		t.Errorf("netns %s outlives the demo", name)
	}
}
