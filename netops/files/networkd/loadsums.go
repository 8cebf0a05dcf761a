package networkd

import (
	"crypto/sha256"
	"path/filepath"
)

// Sum is the sha256 of the file at path as the last Load read it, when
// that Load kept it: the main file of its name, read completely (a file
// with errors, a name's drop-in or a file in no directory of the
// Loader's is not known: ok is false). A caller that knows what it last
// wrote there tells by it whether the file is still that, without
// reading it.
func (l *Loader) Sum(path string) (sum [sha256.Size]byte, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.byName[filepath.Base(path)]
	if e == nil || e.failed || len(e.files) == 0 || len(e.paths) == 0 || e.paths[0] != path {
		return sum, false
	}
	return e.files[0].sum, true
}
