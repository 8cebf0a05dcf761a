package configfiles

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strings"
)

// Change is one file a Plan would create, replace or delete.
type Change struct {
	Rel string
	Abs string
	Old []byte // current content; nil when the file does not exist
	New []byte // content to write; nil deletes the file
	// Foreign is set when the file exists and the owned func says netpanel
	// did not write it. Such a change is refused unless TakenOver.
	Foreign   bool
	TakenOver bool

	old meta        // mode and owner of Old, kept on replace
	new fs.FileMode // mode to write New with; 0 means keep old or 0644
	uid int         // owner to write New with, -1 for the process's
	gid int
}

// Plan is the set of files that would change, sorted by Rel.
type Plan struct {
	Changes []Change
	// Unread are files the plan left out without reading them, as the
	// caller knew them to hold what is wanted (PlanKnown's known, or
	// files the caller did not even ask for, holding what it made):
	// Apply reads them again under its lock and refuses the plan
	// (*StaleError) when one no longer holds Sum, as it refuses a change
	// whose Old is no longer on disk. What the caller knew comes from
	// inotify (networkd's Loader), which misses a write through a shared
	// mmap; a save must not report success over such a file. The digest
	// of a plan does not cover them.
	Unread []Unread
}

// Unread is a file a plan left out as holding the content of digest Sum.
type Unread struct {
	Rel string
	Abs string
	Sum [sha256.Size]byte
}

// AddUnread adds each file of files, known by the caller to hold content
// of the digest it maps to, to p's Unread, which it keeps sorted by Rel;
// none is in it yet. On an error (the first name, in order, the layout
// refuses), p is as it was.
func (l Layout) AddUnread(p *Plan, files map[string][sha256.Size]byte) error {
	add := make([]Unread, 0, len(files))
	for _, rel := range slices.Sorted(maps.Keys(files)) {
		abs, err := l.Abs(rel)
		if err != nil {
			return err
		}
		add = append(add, Unread{Rel: rel, Abs: abs, Sum: files[rel]})
	}
	p.Unread = append(p.Unread, add...)
	slices.SortFunc(p.Unread, func(a, b Unread) int { return strings.Compare(a.Rel, b.Rel) })
	return nil
}

// ErrDuplicate is returned when a name is both written and removed.
var ErrDuplicate = errors.New("both written and removed")

// OwnedFunc reports whether netpanel wrote data, the current content of rel.
type OwnedFunc func(rel string, data []byte) bool

// OwnedByHeader returns an OwnedFunc for files whose first line is header,
// such as networkd.Header.
func OwnedByHeader(header string) OwnedFunc {
	prefix := []byte(header + "\n")
	return func(_ string, data []byte) bool { return bytes.HasPrefix(data, prefix) }
}

// Plan compares files (rel name -> wanted content) and remove (rel names
// to delete) with what is on disk. Unchanged files and removals of files
// that do not exist are left out. owned decides which existing files
// netpanel wrote (nil: none); takeOver lists foreign files the admin
// allows netpanel to overwrite or delete.
func (l Layout) Plan(files map[string][]byte, remove []string, owned OwnedFunc, takeOver []string) (*Plan, error) {
	return l.PlanKnown(files, remove, owned, takeOver, nil)
}

// KnownFunc reports whether the caller knows the disk holds data at rel:
// it read it, and learns of its changes since (networkd's Loader). If
// so, sum is the SHA-256 of data (the caller compared it with the disk's:
// Apply checks the file against it, Plan.Unread).
type KnownFunc func(rel string, data []byte) (sum [sha256.Size]byte, ok bool)

// PlanKnown is Plan, but a file known (nil: none) to hold what is wanted
// is left out without being read: a preview of every link plans the
// .netdev files of all of them, unchanged, and read each one again. The
// caller checks afterwards that the disk still holds them (a save checks
// again what it writes), and Apply reads them again (Plan.Unread).
func (l Layout) PlanKnown(files map[string][]byte, remove []string, owned OwnedFunc, takeOver []string, known KnownFunc) (*Plan, error) {
	taken := make(map[string]bool, len(takeOver))
	for _, rel := range takeOver {
		if _, err := l.Abs(rel); err != nil {
			return nil, err
		}
		taken[rel] = true
	}
	wanted := make(map[string][]byte, len(files)+len(remove))
	for rel, data := range files {
		if data == nil {
			data = []byte{} // an empty file, not a deletion
		}
		wanted[rel] = data
	}
	for _, rel := range remove {
		if _, ok := files[rel]; ok {
			return nil, &NameError{Rel: rel, Err: ErrDuplicate}
		}
		wanted[rel] = nil
	}
	rels := make([]string, 0, len(wanted))
	for rel := range wanted {
		rels = append(rels, rel)
	}
	slices.Sort(rels)

	p := &Plan{}
	for _, rel := range rels {
		abs, err := l.Abs(rel)
		if err != nil {
			return nil, err
		}
		if known != nil && wanted[rel] != nil {
			if sum, ok := known(rel, wanted[rel]); ok {
				p.Unread = append(p.Unread, Unread{Rel: rel, Abs: abs, Sum: sum})
				continue
			}
		}
		old, m, err := readCurrent(abs)
		if err != nil {
			return nil, fmt.Errorf("configfiles: read %s: %w", rel, err)
		}
		c := Change{Rel: rel, Abs: abs, Old: old, New: wanted[rel], old: m, uid: -1, gid: -1}
		if c.Old == nil && c.New == nil || c.Old != nil && c.New != nil && bytes.Equal(c.Old, c.New) {
			continue
		}
		c.Foreign = c.Old != nil && (owned == nil || !owned(rel, c.Old))
		c.TakenOver = c.Foreign && taken[rel]
		p.Changes = append(p.Changes, c)
	}
	return p, nil
}

// Refused returns the changes to foreign files that were not taken over.
func (p *Plan) Refused() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Foreign && !c.TakenOver {
			out = append(out, c)
		}
	}
	return out
}

// UnifiedDiff returns the diffs of all changes, in Rel order.
func (p *Plan) UnifiedDiff() string {
	var b strings.Builder
	for _, c := range p.Changes {
		writeUnified(&b, c.Rel, c.Old, c.New, -1)
	}
	return b.String()
}

// A change's diff is made when it is asked for, not with the plan: a save
// of a million routes plans files whose diffs run to millions of lines,
// which a save never shows and a preview shows only the start of.

// Diff is the change's unified diff, "--- a/REL\n+++ b/REL\n@@ ...".
func (c *Change) Diff() string { return UnifiedDiff(c.Rel, c.Old, c.New) }

// PreparedDiff is a change's diff with the lines both files begin and
// end with found, once: its Cost orders a page's diffs, Find finds the
// diff without comparing them again, in one order, and Head writes as
// many of its lines as are wanted, in another (a page finds the cheapest diffs first, and shows them in
// the plan's order while its lines last).
type PreparedDiff struct {
	rel string
	e   ends
	f   found // Find's
}

// PrepareDiff finds the lines c's files share at both ends (a comparison
// at memory speed, no pass over lines).
func (c *Change) PrepareDiff() PreparedDiff {
	return PreparedDiff{rel: c.Rel, e: newEnds(c.Old, c.New)}
}

// Cost is what the matcher's work on the diff grows with: the bytes
// between the lines both files begin and end with, of the longer side (0
// when one side is empty: it is added or removed whole, unmatched).
func (d *PreparedDiff) Cost() int {
	ma, mb := d.e.middles()
	if len(ma) == 0 || len(mb) == 0 {
		return 0
	}
	return max(len(ma), len(mb))
}

// Find finds the change's diff within *steps of the matcher, less what
// it takes, and keeps it for Head: over says the diff would take more
// (then Head makes and counts nothing).
func (d *PreparedDiff) Find(steps *int) (over bool) {
	*steps = min(*steps, diffBudget-1)
	d.f, over = findWithin(d.e, steps)
	return over
}

// Head is the first n lines of the diff Find found, and how many lines,
// added and removed lines the whole diff has: DiffHead's, line for line,
// except that DiffHead (through write) may end on line n+1 when it is the
// marker after a last line without a newline, which Head cuts. The lines
// past n are counted, not made.
func (d *PreparedDiff) Head(n int) (head string, lines, added, removed int) {
	var b strings.Builder
	lines, added, removed, _ = d.f.write(&b, d.rel, max(n, 0))
	// write counts a last line without "\n" and the marker after it as
	// two lines but writes them together: the marker may be line n+1.
	head = b.String()
	if i := indexLine(head, max(n, 0)); i >= 0 {
		head = head[:i]
	}
	return head, lines, added, removed
}

// indexLine returns where line n (0-based) of s begins, or -1 when s has
// at most n lines.
func indexLine(s string, n int) int {
	at := 0
	for range n {
		i := strings.IndexByte(s[at:], '\n')
		if i < 0 {
			return -1
		}
		at += i + 1
	}
	if at == len(s) {
		return -1
	}
	return at
}

// WriteDiff streams Diff to w, buffered, and returns the first error
// writing it.
func (c *Change) WriteDiff(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if _, _, _, err := writeUnified(bw, c.Rel, c.Old, c.New, -1); err != nil {
		return err
	}
	return bw.Flush()
}
