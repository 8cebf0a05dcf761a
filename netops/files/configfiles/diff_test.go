package configfiles

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
)

// difflibDiff is the diff Plan showed before it had its own matcher:
// go-difflib's unified diff of the same lines.
func difflibDiff(rel string, old, new []byte) string {
	if string(old) == string(new) {
		return ""
	}
	a, b := diffLines(old), diffLines(new)
	header := "--- a/" + rel + "\n+++ b/" + rel + "\n"
	s, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: a, B: b, FromFile: "a/" + rel, ToFile: "b/" + rel, Context: 3})
	if err != nil || s == "" {
		return header
	}
	return s
}

// applyDiff applies a unified diff to old as patch(1) would, strictly:
// every context and removed line must be old's, every hunk where its
// header says, and the counts in the header right.
func applyDiff(old []byte, diff string) ([]byte, error) {
	if diff == "" {
		return old, nil
	}
	// The diff's lines, each "\ No newline" marker joined to the line
	// before it, as diffLines joins it.
	var lines []string
	for _, l := range strings.SplitAfter(diff, "\n") {
		if l == "" {
			continue
		}
		if l == noNewline {
			if len(lines) == 0 {
				return nil, fmt.Errorf("a marker before any line")
			}
			lines[len(lines)-1] += l
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "--- a/") || !strings.HasPrefix(lines[1], "+++ b/") {
		return nil, fmt.Errorf("no header: %q", diff)
	}
	a := diffLines(old)
	var out []string
	at := 0 // lines of a consumed
	for k := 2; k < len(lines); {
		var os, ol, ns, nl int
		if _, err := fmt.Sscanf(rangeForm(lines[k]), "@@ -%d,%d +%d,%d @@\n", &os, &ol, &ns, &nl); err != nil {
			return nil, fmt.Errorf("hunk header %q: %v", lines[k], err)
		}
		k++
		start := os - 1
		if ol == 0 {
			start = os
		}
		if start < at || start > len(a) {
			return nil, fmt.Errorf("hunk at %d after line %d of %d", os, at, len(a))
		}
		out = append(out, a[at:start]...)
		at = start
		newStart := ns - 1
		if nl == 0 {
			newStart = ns
		}
		if newStart != len(out) {
			return nil, fmt.Errorf("hunk says new line %d, is at %d", ns, len(out)+1)
		}
		gotOld, gotNew := 0, 0
		for ; k < len(lines) && !strings.HasPrefix(lines[k], "@@ "); k++ {
			l := lines[k]
			switch l[0] {
			case ' ', '-':
				if at >= len(a) || a[at] != l[1:] {
					return nil, fmt.Errorf("line %d is not %q", at+1, l[1:])
				}
				at++
				gotOld++
				if l[0] == ' ' {
					out = append(out, l[1:])
					gotNew++
				}
			case '+':
				out = append(out, l[1:])
				gotNew++
			default:
				return nil, fmt.Errorf("line %q", l)
			}
		}
		if gotOld != ol || gotNew != nl {
			return nil, fmt.Errorf("hunk counts -%d +%d, header -%d +%d", gotOld, gotNew, ol, nl)
		}
	}
	out = append(out, a[at:]...)
	// A line with two newlines is a last line and its marker.
	for i, l := range out {
		if strings.Count(l, "\n") == 2 {
			if i != len(out)-1 {
				return nil, fmt.Errorf("a line without newline in the middle")
			}
			out[i] = strings.TrimSuffix(l, "\n"+noNewline)
		}
	}
	return []byte(strings.Join(out, "")), nil
}

// rangeForm writes a hunk header's one-line ranges ("-3") as "-3,1".
func rangeForm(h string) string {
	f := strings.Fields(h)
	if len(f) != 4 {
		return h
	}
	for _, i := range []int{1, 2} {
		if !strings.Contains(f[i], ",") {
			f[i] += ",1"
		}
	}
	return strings.Join(f, " ") + "\n"
}

// countLines counts the "+" and "-" lines of a diff below its header.
func countLines(diff string) (added, removed int) {
	for i, l := range strings.Split(diff, "\n") {
		if i < 2 || l == "" {
			continue
		}
		switch l[0] {
		case '+':
			added++
		case '-':
			removed++
		}
	}
	return added, removed
}

// genFile makes n lines: with repeats when alphabet is small (as a
// networkd file repeats "[Route]"), unique otherwise.
func genFile(r *rand.Rand, n, alphabet int) []string {
	lines := make([]string, n)
	for i := range lines {
		if alphabet > 0 {
			lines[i] = "l" + strconv.Itoa(r.IntN(alphabet)) + "\n"
		} else {
			lines[i] = "u" + strconv.Itoa(i) + "\n"
		}
	}
	return lines
}

// edit changes lines at random: inserts, deletes and changes at the
// start, in the middle and at the end; fresh lines are unique.
func edit(r *rand.Rand, lines []string, edits int, fresh *int) []string {
	out := append([]string(nil), lines...)
	for range edits {
		at := 0
		switch r.IntN(3) {
		case 1:
			at = r.IntN(len(out) + 1)
		case 2:
			at = len(out)
		}
		n := 1 + r.IntN(3)
		*fresh++
		add := make([]string, n)
		for i := range add {
			add[i] = "new" + strconv.Itoa(*fresh) + "." + strconv.Itoa(i) + "\n"
		}
		switch r.IntN(3) {
		case 0: // insert
			out = append(out[:at], append(add, out[at:]...)...)
		case 1: // delete
			end := min(len(out), at+n)
			at = min(at, end)
			out = append(out[:at], out[end:]...)
		case 2: // change
			end := min(len(out), at+n)
			at = min(at, end)
			out = append(out[:at], append(add, out[end:]...)...)
		}
	}
	return out
}

func join(lines []string, noFinalNewline bool) []byte {
	s := strings.Join(lines, "")
	if noFinalNewline && s != "" {
		s = strings.TrimSuffix(s, "\n")
	}
	return []byte(s)
}

// TestDiffMatchesDifflib compares the diff with go-difflib's, which the
// plans used before, on generated pairs of files: every diff applies to
// the old file and gives the new one, with the counts of its lines; it
// equals difflib's wherever the shortest diff is the only one (unique
// lines, one changed stretch), and elsewhere it never changes more lines
// than difflib's does (difflib's matcher is not minimal; where several
// minimal diffs exist the two may pick different, equally valid ones).
func TestDiffMatchesDifflib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 17))
	same, differ, fresh := 0, 0, 0
	check := func(name string, old, new []byte, mustEqual bool) {
		t.Helper()
		got, added, removed := unifiedDiff("x.network", old, new)
		want := difflibDiff("x.network", old, new)
		back, err := applyDiff(old, got)
		if err != nil || string(back) != string(new) {
			t.Fatalf("%s: the diff does not turn old into new (%v)\nold %q\nnew %q\ndiff:\n%s", name, err, old, new, got)
		}
		if a, r := countLines(got); a != added || r != removed {
			t.Fatalf("%s: counts +%d -%d, the diff has +%d -%d", name, added, removed, a, r)
		}
		if got == want {
			same++
			return
		}
		differ++
		wa, wr := countLines(want)
		if mustEqual || added+removed > wa+wr {
			t.Fatalf("%s: differs from difflib's (+%d -%d against +%d -%d)\nold %q\nnew %q\ngot:\n%s\nwant:\n%s", name, added, removed, wa, wr, old, new, got, want)
		}
	}
	check("both empty", nil, []byte{}, true)
	check("identical", []byte("a\nb\n"), []byte("a\nb\n"), true)
	check("new file", nil, []byte("a\nb\n"), true)
	check("removed file", []byte("a\nb\n"), nil, true)
	check("final newline dropped", []byte("a\nb\n"), []byte("a\nb"), true)
	check("final newline added", []byte("a\nb"), []byte("a\nb\n"), true)
	check("no final newline, changed", []byte("a\nb"), []byte("a\nc"), true)
	for i := range 3000 {
		n := r.IntN(60)
		alphabet := 0
		if i%3 == 1 {
			alphabet = 1 + r.IntN(6)
		}
		oldLines := genFile(r, n, alphabet)
		edits := 1 + r.IntN(4)
		if i%5 == 0 {
			edits = 1
		}
		newLines := edit(r, oldLines, edits, &fresh)
		old, new := join(oldLines, i%7 == 3), join(newLines, i%11 == 4)
		if i%13 == 0 {
			old = nil
		}
		// One changed stretch of unique lines has one shortest diff.
		single := alphabet == 0 && edits == 1 && i%7 != 3 && i%11 != 4 && i%13 != 0
		check(fmt.Sprintf("pair %d", i), old, new, single)
	}
	t.Logf("%d diffs equal to difflib's, %d different and no longer", same, differ)
	if same < 2000 {
		t.Errorf("only %d of the diffs equal difflib's", same)
	}
}

// TestDiffOfAHugeFile diffs a file of a million lines, many of them
// repeated as a networkd file repeats its section names, against itself
// with one line changed, one inserted and a stretch rewritten: the diff
// shows just those, and applies.
func TestDiffOfAHugeFile(t *testing.T) {
	var b strings.Builder
	for i := range 250_000 {
		fmt.Fprintf(&b, "[Route]\nDestination=10.%d.%d.%d/32\nGateway=10.254.0.2\nTable=main\n", i>>16, i>>8&255, i&255)
	}
	old := []byte(b.String())
	s := strings.Replace(b.String(), "Destination=10.1.0.7/32\n", "Destination=10.1.0.7/32\nMetric=5\n", 1)
	s = strings.Replace(s, "Destination=10.2.0.0/32\nGateway=10.254.0.2", "Destination=10.2.0.0/32\nGateway=10.254.0.3", 1)
	// A rewritten stretch of 3,000 routes: more edits than Myers is let
	// search, so the file is split at its unique lines.
	from := strings.Index(s, "Destination=10.3.0.0/32")
	to := strings.Index(s, "Destination=10.3.11.184/32")
	s = s[:from] + strings.ReplaceAll(s[from:to], "Table=main", "Table=100") + s[to:]
	diff, added, removed := unifiedDiff("big.network", old, []byte(s))
	if back, err := applyDiff(old, diff); err != nil || string(back) != s {
		t.Fatalf("the diff does not apply: %v", err)
	}
	if added != 1+1+3000 || removed != 1+3000 {
		t.Errorf("+%d -%d lines, want +3002 -3001", added, removed)
	}
}

// TestDiffWithinItsBudget diffs with budgets too small for the changes:
// what the budget leaves unmatched is replaced whole, and the diff still
// turns old into new.
func TestDiffWithinItsBudget(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 17))
	fresh := 0
	for i := range 500 {
		a := genFile(r, 1+r.IntN(80), i%3)
		b := edit(r, a, 1+r.IntN(6), &fresh)
		budget := r.IntN(200)
		codes := opcodesWithin(a, b, budget)
		var got []string
		ai := 0
		for _, c := range codes {
			if c.i1 != ai {
				t.Fatalf("pair %d (budget %d): opcodes skip a[%d:%d]: %+v", i, budget, ai, c.i1, codes)
			}
			switch c.tag {
			case 'e':
				if !slices.Equal(a[c.i1:c.i2], b[c.j1:c.j2]) {
					t.Fatalf("pair %d: an equal run differs: %+v", i, c)
				}
				fallthrough
			default:
				got = append(got, b[c.j1:c.j2]...)
			}
			ai = c.i2
		}
		if ai != len(a) || !slices.Equal(got, b) {
			t.Fatalf("pair %d (budget %d): the opcodes do not make b: %+v", i, budget, codes)
		}
	}
}

// FuzzDiff checks that any diff applies (old patched with it is new),
// that its counts are its lines', and that it is the diff of the files
// split whole (wholeUnified).
func FuzzDiff(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), []byte("a\nc\nd"))
	f.Add([]byte(""), []byte("x\n"))
	f.Add([]byte("[Route]\nA\n[Route]\nB\n"), []byte("[Route]\nB\n[Route]\nA\n"))
	f.Fuzz(func(t *testing.T, old, new []byte) {
		diff, added, removed := unifiedDiff("f", old, new)
		back, err := applyDiff(old, diff)
		if err != nil || string(back) != string(new) {
			t.Fatalf("the diff does not turn old into new (%v)\nold %q\nnew %q\ndiff:\n%s", err, old, new, diff)
		}
		if a, r := countLines(diff); a != added || r != removed {
			t.Fatalf("counts +%d -%d, the diff has +%d -%d", added, removed, a, r)
		}
		if whole, _, _, _ := wholeUnified("f", old, new, -1); diff != whole {
			t.Fatalf("differs from the diff of the files split whole\nold %q\nnew %q\ngot:\n%s\nwant:\n%s", old, new, diff, whole)
		}
	})
}

// unifiedDiff is UnifiedDiff with how many lines it adds and removes.
func unifiedDiff(rel string, old, new []byte) (diff string, added, removed int) {
	var sb strings.Builder
	_, added, removed, _ = writeUnified(&sb, rel, old, new, -1)
	return sb.String(), added, removed
}
