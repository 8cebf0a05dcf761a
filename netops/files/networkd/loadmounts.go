package networkd

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/files/safefile"
	"golang.org/x/sys/unix"
)

// The mount table is the process's, shared with every other process of
// its mount namespace: a host that starts containers or makes network
// namespaces (ip netns add mounts one under /run/netns) changes it all
// the time. A change counts as an event only in the Loaders it concerns:
// after the poll tells of one, the table is read again (through
// safefile, as a regular /proc file) and the mount points of the lines
// that differ from the last read are compared with each Loader's
// directories. A mount concerns a directory when it is on it, on one of
// its parents or beneath it (a drop-in directory, a file). What cannot
// be read or told concerns every Loader. safefile refuses a table above
// MaxSize (4 MiB: tens of thousands of mounts, a host that leaks them):
// read when the notifier opens, the notifier does not open and no Load
// is vouched for; read after a change, every Loader counts the change.
// The first such refusal is logged (slog's default logger), once.

// mountinfo is the mount table the notifier polls and reads.
const mountinfo = "/proc/self/mountinfo"

// mountTable is the mount table's lines, each with how many times it
// appears.
type mountTable map[string]int

// mountsUnread is set once a read of the mount table failed and was
// logged. notifier is locked.
var mountsUnread bool

// readMounts reads the mount table. notifier is locked.
func readMounts() (mountTable, error) {
	data, err := safefile.Read(mountinfo)
	if err != nil {
		if !mountsUnread {
			mountsUnread = true
			slog.Warn("networkd: cannot read the mount table: Loads stat every file, at every Load or after each change of the table, instead of trusting inotify", "err", err)
		}
		return nil, err
	}
	t := mountTable{}
	for line := range bytes.Lines(data) {
		t[string(bytes.TrimSuffix(line, []byte("\n")))]++
	}
	return t, nil
}

// changedMounts is the mount points of the lines of old and cur that are
// not in both (as many times); ok is false when a line does not parse.
func changedMounts(old, cur mountTable) ([]string, bool) {
	var points []string
	add := func(a, b mountTable) bool {
		for line, n := range a {
			if b[line] == n {
				continue
			}
			p, ok := mountPoint(line)
			if !ok {
				return false
			}
			points = append(points, p)
		}
		return true
	}
	// Not in the return statement: points would be evaluated in any
	// order with the calls that append to it.
	ok := add(old, cur) && add(cur, old)
	return points, ok
}

// mountPoint is the fifth field of a mountinfo line, its octal escapes
// undone.
func mountPoint(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) < 5 || !strings.HasPrefix(f[4], "/") {
		return "", false
	}
	return unescapeOctal(f[4]), true
}

// unescapeOctal undoes the octal escapes (\040) of a mountinfo field: of
// space, tab, newline, backslash, and in super options the comma.
func unescapeOctal(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+4 <= len(p) {
			if n, err := strconv.ParseUint(p[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// concerns reports whether a mount on point concerns a Loader reading
// dirs: point is one of them, a parent of one or beneath one.
func concerns(dirs []string, point string) bool {
	for _, d := range dirs {
		if point == d || within(d, point) || within(point, d) {
			return true
		}
	}
	return false
}

// within reports whether path is beneath dir.
func within(path, dir string) bool {
	return dir == "/" && path != "/" || strings.HasPrefix(path, dir+"/")
}

// resolved is the absolute path with its symlinks resolved as far as it
// exists: a missing search directory is made under its parent's target.
func resolved(path string) string {
	path, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	var rest []string
	for {
		if r, err := filepath.EvalSymlinks(path); err == nil {
			return filepath.Join(append([]string{r}, rest...)...)
		}
		parent := filepath.Dir(path)
		if parent == path {
			return path
		}
		rest = append([]string{filepath.Base(path)}, rest...)
		path = parent
	}
}

// mountsChanged reports whether the mount table changed since the last
// poll (or the open): any error tells it may have. notifier is locked
// and open.
func mountsChanged() bool {
	fds := []unix.PollFd{{Fd: int32(notifier.mounts), Events: unix.POLLPRI}}
	for {
		_, err := unix.Poll(fds, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err != nil || fds[0].Revents&(unix.POLLPRI|unix.POLLERR|unix.POLLNVAL) != 0
	}
}

// dispatchMounts counts a change of the mount table, which the poll
// told of, in the Loaders it concerns. The table is read after the poll:
// a change after the read is told by the next poll. notifier is locked.
func dispatchMounts() {
	old := notifier.table
	cur, err := readMounts()
	points, ok := changedMounts(old, cur)
	notifier.table = cur // nil after an error: the next change concerns all
	notifier.overlays = nil
	notifier.reads++
	for s := range notifier.states {
		if err != nil || !ok || old == nil || s.concernedBy(points) {
			s.gen++
		}
	}
}

// concernedBy reports whether a mount on one of points concerns s's
// Loader: its directories as given or with symlinks resolved, as the
// last Load that set watches resolved them (beginWatch). notifier is
// locked.
func (s *watchState) concernedBy(points []string) bool {
	return slices.ContainsFunc(points, func(p string) bool { return concerns(s.concern, p) })
}

// concernOf is dirs and, after them, what those that differ resolve to
// (a search directory reached through a link is mounted on under the
// link's target). It reads the file system: notifier is not locked.
func concernOf(dirs []string) []string {
	out := slices.Clone(dirs)
	for _, d := range dirs {
		if r := resolved(d); r != d {
			out = append(out, r)
		}
	}
	return out
}
