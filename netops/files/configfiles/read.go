package configfiles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// ErrNotRegular is returned for a target that is a symlink, directory,
// FIFO or device: writing would silently drop a symlink (often a /dev/null
// mask) and reading a FIFO could block forever, so we leave it alone. It
// is safefile's error, so either package's name matches.
var ErrNotRegular = safefile.ErrNotRegular

// meta is what we keep of an existing file besides its bytes.
type meta struct {
	perm     fs.FileMode
	uid, gid int
}

// readCurrent returns the content of the regular file abs, or nil data and
// no error if it does not exist. An existing empty file gives non-nil data.
func readCurrent(abs string) ([]byte, meta, error) {
	// The target is replaced by a rename, which would turn a symlink into
	// a file: refuse even the links safefile would follow.
	if fi, err := os.Lstat(abs); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, meta{}, fmt.Errorf("%s: is a symlink: %w", abs, ErrNotRegular)
	}
	data, fi, err := safefile.ReadInfo(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, meta{}, nil
	case errors.Is(err, safefile.ErrOutside):
		return nil, meta{}, fmt.Errorf("%w (%w)", err, ErrNotRegular)
	case err != nil:
		return nil, meta{}, err
	}
	m := meta{perm: fi.Mode().Perm(), uid: -1, gid: -1}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		m.uid, m.gid = int(st.Uid), int(st.Gid)
	}
	return data, m, nil
}
