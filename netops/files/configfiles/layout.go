package configfiles

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Layout says where files go. Rel names have at most one directory level:
// a plain name ("10-br0.network") goes into Dirs[""], and "root/name"
// ("docker/daemon.json") goes into Dirs["root"].
type Layout struct {
	// Dirs maps a root name to an absolute directory, e.g.
	// "" -> /etc/systemd/network, "docker" -> /etc/docker.
	Dirs map[string]string
	// BackupDir holds one directory per backup, e.g. /var/lib/netpanel/backups.
	BackupDir string

	// hook, when set by tests, runs before each step of an atomic write
	// or removal; a non-nil error makes the step fail as if the syscall had.
	hook func(step, abs string) error
}

// Errors Abs wraps in a *NameError, so a caller can tell the admin what is
// wrong with a name typed into a form.
var (
	ErrEmptyName   = errors.New("empty name")
	ErrAbsolute    = errors.New("absolute names are not allowed")
	ErrDotName     = errors.New(`"." and ".." and names starting with "." are not allowed`)
	ErrTooDeep     = errors.New("at most one directory level is allowed")
	ErrBadChar     = errors.New("only letters, digits and . _ - @ + : are allowed")
	ErrTooLong     = errors.New("name longer than 255 bytes")
	ErrUnknownRoot = errors.New("unknown directory")
	ErrNoDir       = errors.New("directory not configured or not absolute")
)

// NameError is a rejected rel name; Err is one of the Err* values above.
type NameError struct {
	Rel string
	Err error
}

func (e *NameError) Error() string { return fmt.Sprintf("file name %q: %v", e.Rel, e.Err) }
func (e *NameError) Unwrap() error { return e.Err }

// maxName is NAME_MAX on Linux.
const maxName = 255

// Abs returns the absolute path for rel. Rel names also come from HTTP
// forms, so anything but "name" or "root/name" with a conservative
// character set is refused; the result is always directly inside one of
// the configured directories.
func (l Layout) Abs(rel string) (string, error) {
	fail := func(err error) (string, error) { return "", &NameError{Rel: rel, Err: err} }
	if rel == "" {
		return fail(ErrEmptyName)
	}
	if strings.HasPrefix(rel, "/") {
		return fail(ErrAbsolute)
	}
	root, name, nested := strings.Cut(rel, "/")
	if !nested {
		root, name = "", rel
	} else if strings.Contains(name, "/") {
		return fail(ErrTooDeep)
	}
	if nested {
		if err := checkElem(root); err != nil {
			return fail(err)
		}
	}
	if err := checkElem(name); err != nil {
		return fail(err)
	}
	dir, ok := l.Dirs[root]
	if !ok {
		return fail(ErrUnknownRoot)
	}
	if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir {
		return fail(ErrNoDir)
	}
	return filepath.Join(dir, name), nil
}

// checkElem validates one path element. A leading "." is refused too: it
// rules out "." and "..", and keeps names apart from our temp files.
func checkElem(s string) error {
	switch {
	case s == "":
		return ErrEmptyName
	case len(s) > maxName:
		return ErrTooLong
	case s[0] == '.':
		return ErrDotName
	}
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i]) {
			return ErrBadChar
		}
	}
	return nil
}

func nameByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("._-@+:", c) >= 0
}
