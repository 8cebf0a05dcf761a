package app

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// lastSave is when files were last written; the zero value knows of no
// write yet.
type lastSave struct {
	mu     sync.Mutex
	at     time.Time
	seeded bool
}

func (l *lastSave) now() {
	l.mu.Lock()
	l.at, l.seeded = time.Now(), true
	l.mu.Unlock()
}

// LastSave returns when the files were last written successfully (a save
// or a restore), zero when never. Before the first write since start it
// is the time of the newest backup, which every write makes, read once:
// a restart does not make an old save look missing.
func (f *Files) LastSave() time.Time {
	f.saved.mu.Lock()
	defer f.saved.mu.Unlock()
	if !f.saved.seeded {
		f.saved.seeded = true
		// A backup that cannot be read leaves the others listed.
		if bs, _ := f.m.Backups(); len(bs) > 0 {
			f.saved.at = bs[0].Time
		}
	}
	return f.saved.at
}

// UnsavedCounts counts, by kind ("address", "route", "rule", and the
// kinds of generated files such as "nftables_rule"), the live objects no
// file on disk describes: what would not survive a reboot. It counts
// routes by class (persist.Manager.ForeignCount), not one by one, but still reads the
// files: call it off any request's path.
func (f *Files) UnsavedCounts() (map[string]int, error) {
	c, err := f.m.ForeignCount()
	if err != nil {
		return nil, err
	}
	counts := map[string]int{"address": c.Addresses, "route": c.Routes, "rule": c.Rules}
	for _, k := range f.m.Kinds() {
		if k.Unsaved == nil {
			continue
		}
		onDisk, err := safefile.Read(k.Abs())
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading %s: %w", k.Abs(), err)
		}
		kc, err := k.Unsaved(onDisk)
		if err != nil {
			return nil, err
		}
		for kind, n := range kc {
			counts[kind] += n
		}
	}
	return counts, nil
}
