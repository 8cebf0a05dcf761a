package app

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/netpanel/netpanel/netops/files/networkd"
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

// ForeignFirstPage is how many foreign objects a count keeps ready: the
// first page of the networkd page's list, shown without a lookup.
const ForeignFirstPage = 100

// ForeignSnapshot is what no file on disk describes, as a count found
// it: what the networkd page shows without computing it. Its values are
// shared by every reader: read-only.
type ForeignSnapshot struct {
	Count  networkd.ForeignCount
	Groups []networkd.ForeignGroup // in the order of networkd.ForeignView.Groups
	First  []networkd.Foreign      // the first ForeignFirstPage objects, in that order
	// Others are the foreign addresses and rules of each of Groups of
	// them, in order: their groups are listed from here.
	Others map[networkd.ForeignGroup][]networkd.Foreign
}

// Unsaved is one count of what no file describes: by kind (see
// UnsavedCounts) and, for networkd's objects, by group.
type Unsaved struct {
	ByKind  map[string]int
	Foreign *ForeignSnapshot
}

// UnsavedCounts counts, by kind ("address", "route", "rule", and the
// kinds of generated files such as "nftables_rule"), the live objects no
// file on disk describes: what would not survive a reboot (see Unsaved).
func (f *Files) UnsavedCounts() (map[string]int, error) {
	u, err := f.Unsaved()
	return u.ByKind, err
}

// Unsaved counts the live objects no file on disk describes, by kind and
// by group. It counts routes by class, and again only for the links whose
// applied file or routes changed since its last count
// (persist.Manager.ForeignSummary); the first count is a lookup per route
// the files name, seconds with a million of them: call it off any
// request's path (Tally does).
func (f *Files) Unsaved() (Unsaved, error) {
	sum, err := f.m.ForeignSummary(ForeignFirstPage)
	if err != nil {
		return Unsaved{}, err
	}
	c := sum.Count
	snap := &ForeignSnapshot{Count: c, Groups: sum.Groups, First: sum.First, Others: sum.Others}
	counts := map[string]int{"address": c.Addresses, "route": c.Routes, "rule": c.Rules}
	for _, k := range f.m.Kinds() {
		if k.Unsaved == nil {
			continue
		}
		onDisk, err := safefile.Read(k.Abs())
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Unsaved{}, fmt.Errorf("reading %s: %w", k.Abs(), err)
		}
		kc, err := k.Unsaved(onDisk)
		if err != nil {
			return Unsaved{}, err
		}
		for kind, n := range kc {
			counts[kind] += n
		}
	}
	return Unsaved{ByKind: counts, Foreign: snap}, nil
}

// ForeignGroupPage lists objects offset.. of the foreign route group g,
// at most limit, as the files on disk describe them now: a page of one
// group reads that group's link's file, not every route.
func (f *Files) ForeignGroupPage(g networkd.ForeignGroup, offset, limit int) ([]networkd.Foreign, error) {
	return f.m.ForeignGroupPage(g, offset, limit)
}
