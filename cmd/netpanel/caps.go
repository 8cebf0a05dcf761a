package main

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/nsexec"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// checkNetns enters the namespace once at start. Without the right to
// (no CAP_SYS_ADMIN, or a seccomp filter such as systemd's
// RestrictNamespaces=) every netlink read would fail later, and the
// watcher would keep retrying instead of saying why.
func checkNetns(h netns.NsHandle, name string) error {
	err := nsexec.Do(h, func() error { return nil })
	if err == nil {
		return nil
	}
	return fmt.Errorf("--netns %s: %w: entering a namespace needs CAP_SYS_ADMIN and the setns system call; "+
		"under systemd add CAP_SYS_ADMIN to CapabilityBoundingSet= and set RestrictNamespaces=net (see netpanel(8))", name, err)
}

// socketOwnerCaps are what naming the process behind a socket takes, as
// `ss -p` does it: reading /proc/PID/fd of a process of another user
// (CAP_DAC_READ_SEARCH) or of one holding capabilities netpanel lacks
// (CAP_SYS_PTRACE: the kernel's ptrace access check).
var socketOwnerCaps = map[int]string{unix.CAP_DAC_READ_SEARCH: "CAP_DAC_READ_SEARCH", unix.CAP_SYS_PTRACE: "CAP_SYS_PTRACE"}

// warnSocketOwners says at start that the sockets page will list sockets
// without the processes of other programs, rather than leaving the admin
// to wonder why the process column is empty.
func warnSocketOwners(log *slog.Logger) {
	var missing []string
	for c, name := range socketOwnerCaps {
		if !hasCaps(c) {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return
	}
	slices.Sort(missing)
	log.Warn("the sockets page cannot name the processes of other programs", "missing", strings.Join(missing, " "))
}
