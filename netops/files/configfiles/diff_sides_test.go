package configfiles

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// wholeUnified is writeUnified as it was before it split only the lines
// a diff can show (splitSides): both files split into lines whole and
// matched whole. The diff must not depend on which.
func wholeUnified(rel string, old, new []byte, limit int) (diff string, lines, added, removed int) {
	if string(old) == string(new) {
		return "", 0, 0, 0
	}
	var w strings.Builder
	a, b := diffLines(old), diffLines(new)
	mark := func(data []byte, n int) func(int) int {
		has := len(data) > 0 && data[len(data)-1] != '\n'
		return func(end int) int {
			if has && end == n {
				return 1
			}
			return 0
		}
	}
	markA, markB := mark(old, len(a)), mark(new, len(b))
	room := func(n int) int {
		if limit < 0 {
			return n
		}
		return max(0, min(n, limit-lines))
	}
	put := func(s string) {
		if room(1) == 1 {
			w.WriteString(s)
		}
		lines++
	}
	write := func(prefix byte, ls []string, n int) int {
		for _, l := range ls[:n] {
			w.WriteByte(prefix)
			w.WriteString(l)
		}
		return len(ls)
	}
	put("--- a/" + rel + "\n")
	put("+++ b/" + rel + "\n")
	for _, g := range groups(opcodesWithin(a, b, diffBudget), context) {
		first, last := g[0], g[len(g)-1]
		put("@@ -" + unifiedRange(first.i1, last.i2) + " +" + unifiedRange(first.j1, last.j2) + " @@\n")
		for _, c := range g {
			if c.tag == 'e' {
				lines += write(' ', a[c.i1:c.i2], room(c.i2-c.i1)) + markA(c.i2)
				continue
			}
			lines += write('-', a[c.i1:c.i2], room(c.i2-c.i1)) + markA(c.i2)
			lines += write('+', b[c.j1:c.j2], room(c.j2-c.j1)) + markB(c.j2)
			removed += c.i2 - c.i1
			added += c.j2 - c.j1
		}
	}
	return w.String(), lines, added, removed
}

// TestDiffOfSplitSidesIsTheWholeDiff compares the diff, its head at
// every limit and its counts with wholeUnified's over random pairs of
// files: edits at the start, the middle and the end, files that are
// empty, that lack a last "\n", that differ only in it, that repeat their
// lines, and whose shared bytes end or begin within a line.
func TestDiffOfSplitSidesIsTheWholeDiff(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 30))
	fresh := 0
	join := func(lines []string, cut bool) []byte {
		s := strings.Join(lines, "")
		if cut && len(s) > 0 {
			s = s[:len(s)-1-r.IntN(min(3, len(s)))]
		}
		if s == "" && r.IntN(2) == 0 {
			return nil
		}
		return []byte(s)
	}
	for i := range 4000 {
		a := genFile(r, r.IntN(40), []int{0, 2, 5}[i%3])
		b := a
		switch r.IntN(5) {
		case 0:
			b = nil
		case 1:
			b = genFile(r, r.IntN(40), 3)
		default:
			b = edit(r, a, 1+r.IntN(4), &fresh)
		}
		if r.IntN(2) == 0 {
			a, b = b, a
		}
		old, new := join(a, r.IntN(4) == 0), join(b, r.IntN(4) == 0)
		if r.IntN(8) == 0 { // the same lines, a character within one changed
			new = append([]byte(nil), old...)
			if len(new) > 0 {
				new[r.IntN(len(new))] = 'x'
			}
		}
		for _, limit := range []int{-1, 0, 1, 2, 3, 5, 8, 13, r.IntN(60)} {
			var sb strings.Builder
			lines, added, removed, err := writeUnified(&sb, "f", old, new, limit)
			want, wl, wa, wr := wholeUnified("f", old, new, limit)
			if err != nil || sb.String() != want || lines != wl || added != wa || removed != wr {
				t.Fatalf("pair %d, limit %d: %d lines +%d -%d (%v), want %d +%d -%d\nold %q\nnew %q\ngot:\n%s\nwant:\n%s",
					i, limit, lines, added, removed, err, wl, wa, wr, old, new, sb.String(), want)
			}
		}
	}
}

// TestDiffHeadWithinIsDiffHeadOrOver: PreparedDiff.HeadWithin, within
// any number of steps, makes the head and counts of DiffHead exactly, or
// says the diff is over and makes nothing; with the whole budget it is
// never over; a change of every line of a large middle is over within a
// page's steps.
func TestDiffHeadWithinIsDiffHeadOrOver(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 4))
	fresh, overs, within := 0, 0, 0
	for i := range 3000 {
		a := genFile(r, r.IntN(60), []int{0, 2, 5}[i%3])
		b := edit(r, a, 1+r.IntN(8), &fresh)
		old, new := []byte(strings.Join(a, "")), []byte(strings.Join(b, ""))
		c := Change{Rel: "f", Old: old, New: new}
		d := c.PrepareDiff()
		n := r.IntN(40)
		head, lines, added, removed := c.DiffHead(n)
		if !linesOver(old, len(a)-1) || linesOver(old, len(a)) {
			t.Fatalf("pair %d: linesOver says %d lines are not %d", i, len(a), len(a))
		}
		for _, steps := range []int{0, 1, r.IntN(20), r.IntN(200), diffBudget} {
			left := steps
			h, l, ad, rm, over := d.HeadWithin(n, &left)
			if left > steps {
				t.Fatalf("pair %d: %d steps left of %d", i, left, steps)
			}
			if over {
				overs++
				if steps == diffBudget || h != "" || l != 0 || ad != 0 || rm != 0 {
					t.Fatalf("pair %d, %d steps: over with %q %d lines +%d -%d", i, steps, h, l, ad, rm)
				}
				continue
			}
			within++
			if h != head || l != lines || ad != added || rm != removed {
				t.Fatalf("pair %d, %d steps: %d lines +%d -%d, DiffHead %d +%d -%d\n%s\nwant:\n%s", i, steps, l, ad, rm, lines, added, removed, h, head)
			}
		}
	}
	if overs == 0 || within == 0 {
		t.Fatalf("%d diffs over their steps, %d within: the steps decide nothing here", overs, within)
	}
	var old, new strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&old, "[Route]\nDestination=10.0.%d.%d/32\nTable=main\n", i>>8, i&255)
		fmt.Fprintf(&new, "[Route]\nDestination=10.0.%d.%d/32\nTable=100\n", i>>8, i&255)
	}
	c := Change{Rel: "f", Old: []byte(old.String()), New: []byte(new.String())}
	d := c.PrepareDiff()
	steps := 100_000
	if _, _, _, _, over := d.HeadWithin(400, &steps); !over {
		t.Errorf("every route's table changed: within %d steps", steps)
	}
}

// TestLinesOver counts a last line without "\n" as a line, as lineCount.
func TestLinesOver(t *testing.T) {
	for _, c := range []struct {
		data string
		n    int
		want bool
	}{{"", 0, false}, {"", -1, true}, {"a\n", 0, true}, {"a\n", 1, false}, {"a\nb", 1, true}, {"a\nb", 2, false}, {"a", 0, true}, {"\n\n\n", 2, true}, {"\n\n\n", 3, false}} {
		if got := linesOver([]byte(c.data), c.n); got != c.want || got != (lineCount([]byte(c.data)) > c.n) {
			t.Errorf("linesOver(%q, %d) = %v, want %v", c.data, c.n, got, c.want)
		}
	}
}

// TestDiffCost: PreparedDiff.Cost is the longer middle's bytes; nothing
// for a file added, removed or with lines only added.
func TestDiffCost(t *testing.T) {
	for _, c := range []struct {
		old, new string
		want     int
	}{
		{"", "a\nb\n", 0}, {"a\nb\n", "", 0}, {"a\nc\n", "a\nb\nc\n", 0},
		{"a\nb\nc\n", "a\nxy\nc\n", 3}, {"a\nb\nc\n", "x\nb\ny\n", 6},
		{"a\nb", "a\nc", 1}, {"a\nb\n", "a\nb", 2},
	} {
		ch := Change{Old: []byte(c.old), New: []byte(c.new)}
		d := ch.PrepareDiff()
		if got := d.Cost(); got != c.want {
			t.Errorf("Cost(%q -> %q) = %d, want %d", c.old, c.new, got, c.want)
		}
	}
}

// TestDiffOfLargeFilesIsTheWholeDiff changes one byte, a line or the end
// of files of some kilobytes, so the shared head and tail are found over
// many blocks (shared) and then byte by byte; the diff is wholeUnified's.
func TestDiffOfLargeFilesIsTheWholeDiff(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	for i := range 300 {
		var b strings.Builder
		for j := range 100 + r.IntN(900) {
			fmt.Fprintf(&b, "Destination=10.%d.%d.0/24 %d\n", j>>8, j&255, r.IntN(3))
		}
		old := []byte(b.String())
		new := append([]byte(nil), old...)
		switch at := r.IntN(len(new)); i % 3 {
		case 0:
			new[at] = 'x'
		case 1:
			new = append(new[:at:at], append([]byte("inserted\n"), old[at:]...)...)
		default:
			new = new[:at]
		}
		var sb strings.Builder
		lines, added, removed, _ := writeUnified(&sb, "f", old, new, -1)
		want, wl, wa, wr := wholeUnified("f", old, new, -1)
		if sb.String() != want || lines != wl || added != wa || removed != wr {
			t.Fatalf("file %d: %d lines +%d -%d, want %d +%d -%d\ngot:\n%s\nwant:\n%s", i, lines, added, removed, wl, wa, wr, sb.String(), want)
		}
	}
	// Every byte of a file of 2 KB changed in turn: a block or a byte
	// taken as shared that is not shows here.
	var b strings.Builder
	for j := range 100 {
		fmt.Fprintf(&b, "Gateway=10.0.%d.1\n", j)
	}
	old := []byte(b.String())
	for at := range old {
		new := append([]byte(nil), old...)
		new[at] = 'x'
		if got, want := UnifiedDiff("f", old, new), wholeDiff(old, new); got != want {
			t.Fatalf("byte %d changed:\n%s\nwant:\n%s", at, got, want)
		}
	}
}

// wholeDiff is wholeUnified's diff alone.
func wholeDiff(old, new []byte) string {
	d, _, _, _ := wholeUnified("f", old, new, -1)
	return d
}
