package configfiles

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// DiffHead, the reference HeadWithin is tested against, is the first n
// lines of Diff, how many lines Diff has in all, and how many "+" and "-"
// lines it has, without making the text of the lines past n.
func (c *Change) DiffHead(n int) (head string, lines, added, removed int) {
	var b strings.Builder
	lines, added, removed, _ = writeUnified(&b, c.Rel, c.Old, c.New, max(n, 0))
	return b.String(), lines, added, removed
}

// TestDiffHeadIsTheStartOfTheDiff compares, over random pairs of files
// (with and without a last "\n", new and removed files), a change's
// DiffHead at several lengths with its whole Diff: the head is Diff's
// start, of n lines (one more when it ends in the marker of a missing
// "\n"), and the counts of lines, "+" and "-" are the whole diff's; and
// WriteDiff streams Diff byte for byte.
func TestDiffHeadIsTheStartOfTheDiff(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	fresh := 0
	for i := range 300 {
		a := genFile(r, r.IntN(60), i%3)
		b := edit(r, a, 1+r.IntN(6), &fresh)
		old, new := []byte(strings.Join(a, "")), []byte(strings.Join(b, ""))
		switch i % 7 {
		case 1:
			old = []byte(strings.TrimSuffix(string(old), "\n"))
		case 2:
			new = []byte(strings.TrimSuffix(string(new), "\n"))
		case 3:
			old = nil
		case 4:
			new = nil
		}
		c := Change{Rel: "f.network", Old: old, New: new}
		full := c.Diff()
		if full != UnifiedDiff(c.Rel, old, new) {
			t.Fatalf("pair %d: Diff is not UnifiedDiff", i)
		}
		wantAdded, wantRemoved := countLines(full)
		total := strings.Count(full, "\n")
		for _, n := range []int{0, 1, 2, 3, 4, 7, r.IntN(total + 2), total - 1, total, total + 5} {
			head, lines, added, removed := c.DiffHead(n)
			if lines != total || added != wantAdded || removed != wantRemoved {
				t.Fatalf("pair %d, %d lines: counts %d +%d -%d, the diff's %d +%d -%d", i, n, lines, added, removed, total, wantAdded, wantRemoved)
			}
			got := strings.Count(head, "\n")
			if want := min(max(n, 0), total); !strings.HasPrefix(full, head) || got < want || got > want+1 ||
				got == want+1 && !strings.HasSuffix(head, noNewline) {
				t.Fatalf("pair %d: the head of %d lines has %d and is not the start of the diff:\nhead:\n%s\ndiff:\n%s", i, n, got, head, full)
			}
		}
		var sb strings.Builder
		if err := c.WriteDiff(&sb); err != nil || sb.String() != full {
			t.Fatalf("pair %d: WriteDiff wrote %d bytes (%v), Diff has %d", i, sb.Len(), err, len(full))
		}
	}
}

// failAfter takes n bytes, then fails.
type failAfter struct{ n int }

var errGone = errors.New("the client went away")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errGone
	}
	f.n -= len(p)
	return len(p), nil
}

// TestWriteDiffStopsAtTheWritersError streams a diff larger than the
// buffer to a writer that fails part way: the error comes back.
func TestWriteDiffStopsAtTheWritersError(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		b.WriteString("[Route]\nDestination=10.0.0." + string(rune('0'+i%10)) + "/32\n")
	}
	c := Change{Rel: "big.network", New: []byte(b.String())}
	if err := c.WriteDiff(&failAfter{n: 10000}); !errors.Is(err, errGone) {
		t.Errorf("WriteDiff to a failing writer: %v", err)
	}
}

// HeadWithin, what the page did before it took Find and Head (tests
// only), is the change's DiffHead within *steps of the matcher (what
// is left of a page's share of its work), less what it takes: over says
// the diff would take more, and then nothing is made or counted. Within
// its steps, it is DiffHead's, line for line.
func (d *PreparedDiff) HeadWithin(n int, steps *int) (head string, lines, added, removed int, over bool) {
	if over = d.Find(steps); over {
		return "", 0, 0, 0, true
	}
	head, lines, added, removed = d.Head(n)
	return head, lines, added, removed, false
}
