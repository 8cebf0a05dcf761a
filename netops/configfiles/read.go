package configfiles

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxFileSize bounds what we read from a target directory; generated
// config files are a few KiB.
const maxFileSize = 4 << 20

// ErrNotRegular is returned for a target that is a symlink, directory,
// FIFO or device: writing would silently drop a symlink (often a /dev/null
// mask) and reading a FIFO could block forever, so we leave it alone.
var ErrNotRegular = errors.New("not a regular file")

// meta is what we keep of an existing file besides its bytes.
type meta struct {
	perm     fs.FileMode
	uid, gid int
}

// readCurrent returns the content of the regular file abs, or nil data and
// no error if it does not exist. An existing empty file gives non-nil data.
func readCurrent(abs string) ([]byte, meta, error) {
	// O_NOFOLLOW refuses a symlink; O_NONBLOCK keeps a FIFO from blocking
	// the open. fstat below then refuses anything not regular.
	f, err := os.OpenFile(abs, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, meta{}, nil
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, meta{}, fmt.Errorf("%s: %w", abs, ErrNotRegular)
	}
	if err != nil {
		return nil, meta{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, meta{}, err
	}
	if !fi.Mode().IsRegular() {
		return nil, meta{}, fmt.Errorf("%s: %w", abs, ErrNotRegular)
	}
	m := meta{perm: fi.Mode().Perm(), uid: -1, gid: -1}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		m.uid, m.gid = int(st.Uid), int(st.Gid)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, meta{}, err
	}
	if len(data) > maxFileSize {
		return nil, meta{}, fmt.Errorf("%s: larger than %d bytes", abs, maxFileSize)
	}
	if data == nil {
		data = []byte{}
	}
	return data, m, nil
}
