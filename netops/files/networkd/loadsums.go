package networkd

import (
	"crypto/sha256"
	"path/filepath"
)

// Sum is the sha256 of the file at path as the last Load read it, when
// it is the main file of its name and that Load read every file of the
// name (a file that could not be read, since the last one that could,
// leaves it unknown: ok is false, as for a name's drop-in or a file in
// no directory of the Loader's; parse errors do not). A caller that
// knows what it last wrote there tells by it whether the file is still
// that, without reading it.
//
// Deprecated: a Load that ran since the caller's may have kept a newer
// version than the Config the caller holds; Config.Sum tells the sum of
// that Config's.
func (l *Loader) Sum(path string) (sum [sha256.Size]byte, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.byName[filepath.Base(path)]
	if e == nil || e.failed || len(e.files) == 0 || len(e.paths) == 0 || e.paths[0] != path {
		return sum, false
	}
	return e.files[0].sum, true
}
