package sockets

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// socketOwners finds the processes holding the sockets whose inodes are
// keys of want, the way ss -p does: it reads every /proc/PID/fd/N link and
// matches "socket:[INODE]". Socket inodes are unique across namespaces, so
// a process of any namespace can be matched, yet only sockets of the
// listed namespace are. Processes that exit meanwhile are skipped.
func socketOwners(procRoot string, want map[uint32][]Process) {
	if len(want) == 0 {
		return
	}
	pids, err := os.ReadDir(procRoot)
	if err != nil {
		return
	}
	link := make([]byte, 64)
	for _, de := range pids {
		pid, err := strconv.Atoi(de.Name())
		if err != nil || pid <= 0 {
			continue
		}
		scanProcess(procRoot, pid, want, link)
	}
	for ino, ps := range want {
		slices.SortFunc(ps, func(a, b Process) int {
			return cmp.Or(cmp.Compare(a.PID, b.PID), cmp.Compare(a.FD, b.FD))
		})
		want[ino] = ps
	}
}

func scanProcess(procRoot string, pid int, want map[uint32][]Process, link []byte) {
	fdDir := filepath.Join(procRoot, strconv.Itoa(pid), "fd")
	dir, err := os.Open(fdDir)
	if err != nil {
		return
	}
	defer dir.Close()
	names, _ := dir.Readdirnames(-1)
	dfd := int(dir.Fd())
	name := "" // read once, and only for processes that hold a wanted socket
	for _, fdName := range names {
		n, err := unix.Readlinkat(dfd, fdName, link)
		if err != nil {
			continue
		}
		ino, ok := parseSocketLink(string(link[:n]))
		if !ok {
			continue
		}
		owners, wanted := want[ino]
		if !wanted {
			continue
		}
		fd, err := strconv.Atoi(fdName)
		if err != nil {
			continue
		}
		if name == "" {
			name = processName(procRoot, pid)
		}
		want[ino] = append(owners, Process{PID: pid, Name: name, FD: fd})
	}
}

// parseSocketLink reads the target of a /proc/PID/fd link to a socket,
// "socket:[12345]".
func parseSocketLink(s string) (uint32, bool) {
	rest, ok := strings.CutPrefix(s, "socket:[")
	if !ok {
		return 0, false
	}
	digits, ok := strings.CutSuffix(rest, "]")
	if !ok || digits == "" || digits[0] == '+' || digits[0] == '-' {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// processName is the command name ss prints. ss takes it from
// /proc/PID/stat up to the first ')'; /proc/PID/comm holds the same name
// whole.
func processName(procRoot string, pid int) string {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}
