package testenv

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// UnnamedNS starts a process in a network namespace of its own that no
// /run/netns entry names (ip then knows it only by id: link-netnsid N)
// and returns its pid, which ip takes in place of a name (`ip link set
// DEV netns PID`). The process is killed at cleanup, and the namespace
// goes with it.
func UnnamedNS(t testing.TB) int {
	t.Helper()
	RequireRoot(t)
	RequireTool(t, "unshare")
	cmd := exec.Command("unshare", "-n", "sleep", "3600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// unshare makes the namespace, then runs sleep: wait for the switch.
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net"); err == nil && ns != self {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatal("unshare did not enter a network namespace of its own")
		}
	}
}
