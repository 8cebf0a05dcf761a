package sockets

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// fakeProc builds a /proc-like tree: pid -> comm and fd -> link target.
func fakeProc(t *testing.T, procs map[int]struct {
	comm string
	fds  map[int]string
}) string {
	t.Helper()
	root := t.TempDir()
	for pid, p := range procs {
		dir := filepath.Join(root, strconv.Itoa(pid))
		if err := os.MkdirAll(filepath.Join(dir, "fd"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "comm"), []byte(p.comm+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for fd, target := range p.fds {
			if err := os.Symlink(target, filepath.Join(dir, "fd", strconv.Itoa(fd))); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Entries that are not processes are ignored.
	if err := os.WriteFile(filepath.Join(root, "meminfo"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestSocketOwnersMatchesInodesAcrossProcesses(t *testing.T) {
	root := fakeProc(t, map[int]struct {
		comm string
		fds  map[int]string
	}{
		10: {"nginx", map[int]string{3: "socket:[100]", 4: "socket:[101]", 5: "/dev/null", 6: "pipe:[100]"}},
		11: {"nginx", map[int]string{3: "socket:[100]"}}, // forked worker shares the listener
		12: {"sshd", map[int]string{7: "socket:[999]"}},  // a socket of another namespace
		13: {"(sd-pam)", map[int]string{0: "socket:[101]", 9: "x"}},
	})
	want := map[uint32][]Process{100: nil, 101: nil, 102: nil}
	socketOwners(root, want)
	expect := map[uint32][]Process{
		100: {{PID: 10, Name: "nginx", FD: 3}, {PID: 11, Name: "nginx", FD: 3}},
		101: {{PID: 10, Name: "nginx", FD: 4}, {PID: 13, Name: "(sd-pam)", FD: 0}},
		102: nil,
	}
	if !reflect.DeepEqual(want, expect) {
		t.Errorf("owners = %v\nwant %v", want, expect)
	}
}

func TestParseSocketLink(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   uint32
		wantOK bool
	}{
		{"a socket link", "socket:[12345]", 12345, true},
		{"the largest inode", "socket:[4294967295]", 4294967295, true},
		{"a pipe is not a socket", "pipe:[12345]", 0, false},
		{"an empty inode", "socket:[]", 0, false},
		{"a signed inode", "socket:[+5]", 0, false},
		{"an inode beyond 32 bits", "socket:[4294967296]", 0, false},
		{"a missing bracket", "socket:[5", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseSocketLink(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseSocketLink(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
