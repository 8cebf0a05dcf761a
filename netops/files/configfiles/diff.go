package configfiles

import (
	"strconv"
	"strings"
)

// UnifiedDiff is the diff a Plan shows for a change of rel from old to
// new (nil: no file): what a caller that streams or measures diffs
// computes without planning.
func UnifiedDiff(rel string, old, new []byte) string {
	var sb strings.Builder
	writeUnified(&sb, rel, old, new, -1)
	return sb.String()
}

// lineWriter is where writeUnified writes: a strings.Builder or a
// bufio.Writer.
type lineWriter interface {
	WriteString(s string) (int, error)
	WriteByte(c byte) error
}

// writeUnified writes to w the unified diff from a/rel to b/rel with
// three lines of context, nothing if old and new are equal, up to limit
// lines (all when limit < 0; a line without a "\n" at the end of a file
// and its marker count as one there), and says how many lines ("\n") the whole diff has
// and how many it adds and removes: the lines past the limit are counted,
// not made. It stops at w's first error. nil (no file) diffs like empty
// content.
//
// The output is difflib's (Python's and go-difflib's unified_diff: the
// hunks, their ranges and the order of lines within them), from another
// matcher: difflib's SequenceMatcher is quadratic or worse on a large
// file with many equal lines ("[Route]", "Table=main"), which a save of a
// million routes writes. Here the common head and tail are trimmed first,
// then the middle is diffed by Myers' algorithm while that stays cheap,
// and split at lines found once in each side otherwise (patience): a
// small change to a huge file costs a pass over it.
func writeUnified(w lineWriter, rel string, old, new []byte, limit int) (lines, added, removed int, err error) {
	if string(old) == string(new) {
		return 0, 0, 0, nil
	}
	a, b := diffLines(old), diffLines(new)
	// The lines counted are the diff's "\n"s: a last line without one
	// carries the marker line (diffLines), one more.
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
	room := func(n int) int { // how many of n more lines to write
		switch {
		case err != nil:
			return 0
		case limit < 0:
			return n
		}
		return max(0, min(n, limit-lines))
	}
	put := func(s string) {
		if room(1) == 1 {
			_, err = w.WriteString(s)
		}
		lines++
	}
	put("--- a/" + rel + "\n")
	put("+++ b/" + rel + "\n")
	for _, g := range groups(opcodes(a, b), 3) {
		first, last := g[0], g[len(g)-1]
		put("@@ -" + unifiedRange(first.i1, last.i2) + " +" + unifiedRange(first.j1, last.j2) + " @@\n")
		for _, c := range g {
			if c.tag == 'e' {
				lines += writeLines(w, ' ', a[c.i1:c.i2], room(c.i2-c.i1), &err) + markA(c.i2)
				continue
			}
			lines += writeLines(w, '-', a[c.i1:c.i2], room(c.i2-c.i1), &err) + markA(c.i2)
			lines += writeLines(w, '+', b[c.j1:c.j2], room(c.j2-c.j1), &err) + markB(c.j2)
			removed += c.i2 - c.i1
			added += c.j2 - c.j1
		}
	}
	return lines, added, removed, err
}

// writeLines writes the first n of lines to w, each after prefix, and
// returns len(lines): the lines the diff has, written or not. It keeps
// w's first error in *err.
func writeLines(w lineWriter, prefix byte, lines []string, n int, err *error) int {
	for _, l := range lines[:n] {
		if *err != nil {
			break
		}
		if *err = w.WriteByte(prefix); *err == nil {
			_, *err = w.WriteString(l)
		}
	}
	return len(lines)
}

// unifiedRange is a hunk's range as difflib writes it: "3" for one line,
// "3,4", and "2,0" (the line before) for none.
func unifiedRange(start, stop int) string {
	begin, n := start+1, stop-start
	if n == 1 {
		return strconv.Itoa(begin)
	}
	if n == 0 {
		begin--
	}
	return strconv.Itoa(begin) + "," + strconv.Itoa(n)
}

// diffLines splits data into lines that keep their "\n". difflib.SplitLines
// adds a "\n" to the last line, which would hide a missing final newline
// and add a phantom empty line; instead a last line without "\n" carries
// the marker diff(1) prints, so adding or dropping it shows as a change.
func diffLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(data), "\n")
	if last := lines[len(lines)-1]; last == "" {
		lines = lines[:len(lines)-1]
	} else {
		lines[len(lines)-1] = last + "\n" + noNewline
	}
	return lines
}

// noNewline is the line diff(1) prints after a last line without "\n".
const noNewline = "\\ No newline at end of file\n"

// opcode is difflib's: a[i1:i2] equals ('e'), replaces ('r') or is
// deleted for ('d') or is inserted as ('i') b[j1:j2].
type opcode struct {
	tag            byte
	i1, i2, j1, j2 int
}

// opcodes lists how a becomes b, as difflib's GetOpCodes: runs of equal
// lines and the changes between them.
func opcodes(a, b []string) []opcode { return opcodesWithin(a, b, diffBudget) }

// opcodesWithin is opcodes with a budget of steps (diffBudget).
func opcodesWithin(a, b []string, budget int) []opcode {
	var blocks []block
	match(a, b, 0, 0, &blocks, &budget)
	blocks = append(blocks, block{len(a), len(b), 0})
	var out []opcode
	i, j := 0, 0
	for _, m := range blocks {
		tag := byte(0)
		switch {
		case i < m.i && j < m.j:
			tag = 'r'
		case i < m.i:
			tag = 'd'
		case j < m.j:
			tag = 'i'
		}
		if tag != 0 {
			out = append(out, opcode{tag, i, m.i, j, m.j})
		}
		if m.n > 0 {
			out = append(out, opcode{'e', m.i, m.i + m.n, m.j, m.j + m.n})
		}
		i, j = m.i+m.n, m.j+m.n
	}
	return out
}

// groups cuts the opcodes into hunks with n lines of context, as
// difflib's GetGroupedOpCodes.
func groups(codes []opcode, n int) [][]opcode {
	if len(codes) == 0 {
		codes = []opcode{{'e', 0, 1, 0, 1}}
	}
	if c := &codes[0]; c.tag == 'e' {
		c.i1, c.j1 = max(c.i1, c.i2-n), max(c.j1, c.j2-n)
	}
	if c := &codes[len(codes)-1]; c.tag == 'e' {
		c.i2, c.j2 = min(c.i2, c.i1+n), min(c.j2, c.j1+n)
	}
	var out [][]opcode
	var group []opcode
	for _, c := range codes {
		if c.tag == 'e' && c.i2-c.i1 > 2*n {
			group = append(group, opcode{'e', c.i1, min(c.i2, c.i1+n), c.j1, min(c.j2, c.j1+n)})
			out = append(out, group)
			group = nil
			c.i1, c.j1 = max(c.i1, c.i2-n), max(c.j1, c.j2-n)
		}
		group = append(group, c)
	}
	if len(group) > 0 && !(len(group) == 1 && group[0].tag == 'e') {
		out = append(out, group)
	}
	return out
}

// block is a run of n equal lines at a[i:] and b[j:].
type block struct{ i, j, n int }

// maxEdits bounds Myers' search on one stretch of lines: its time is
// (lines x edits) and its trace edits², so beyond this many edits the
// stretch is split at its unique lines instead.
const maxEdits = 1000

// diffBudget bounds the steps one diff takes in Myers' search and the
// split at unique lines: a diff that would take more (inputs made so
// that each split finds a single anchor) replaces what is left whole.
const diffBudget = 200_000_000

// match appends to out, in order, the runs of equal lines of a and b
// (found at offsets i0 and j0 of the whole files), adjacent runs joined;
// budget is what is left of diffBudget.
func match(a, b []string, i0, j0 int, out *[]block, budget *int) {
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	add(out, block{i0, j0, head})
	ma, mb := a[head:len(a)-tail], b[head:len(b)-tail]
	if len(ma) > 0 && len(mb) > 0 {
		if !myers(ma, mb, i0+head, j0+head, out, budget) {
			patience(ma, mb, i0+head, j0+head, out, budget)
		}
	}
	add(out, block{i0 + len(a) - tail, j0 + len(b) - tail, tail})
}

// add appends m to out, joined to the last run when they touch.
func add(out *[]block, m block) {
	if m.n == 0 {
		return
	}
	if k := len(*out) - 1; k >= 0 {
		if l := &(*out)[k]; l.i+l.n == m.i && l.j+l.n == m.j {
			l.n += m.n
			return
		}
	}
	*out = append(*out, m)
}

// myers appends the runs of a shortest edit script from a to b (E. W.
// Myers, "An O(ND) difference algorithm", 1986), or returns false without
// appending when it needs more than maxEdits edits or more steps than
// the budget has left.
func myers(a, b []string, i0, j0 int, out *[]block, budget *int) bool {
	n, m := len(a), len(b)
	limit := min(n+m, maxEdits)
	off := limit + 1
	v := make([]int, 2*limit+3)
	// trace[d] is v[-d..d] before step d, to walk the path back.
	var trace [][]int
	end := -1
	for d := 0; d <= limit && end < 0; d++ {
		if *budget <= 0 {
			return false
		}
		trace = append(trace, append([]int(nil), v[off-d:off+d+1]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && v[off+k-1] < v[off+k+1] {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			x0 := x
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			*budget -= 1 + x - x0
			v[off+k] = x
			if x >= n && y >= m {
				end = d
				break
			}
		}
	}
	if end < 0 {
		return false
	}
	// Walk back from (n, m), collecting the diagonal runs in reverse.
	var runs []block
	x, y := n, m
	for d := end; d >= 0; d-- {
		vd := trace[d]
		k := x - y
		var prevK int
		if k == -d || k != d && vd[k-1+d] < vd[k+1+d] {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		var px, py int
		if d > 0 {
			px = vd[prevK+d]
			py = px - prevK
			// The step from (px, py) is the edit; the diagonal after it
			// starts one line on.
			if prevK == k+1 {
				py++
			} else {
				px++
			}
		}
		if x > px {
			runs = append(runs, block{px, py, x - px})
		}
		x, y = px, py
		if d > 0 {
			if prevK == k+1 {
				y--
			} else {
				x--
			}
		}
	}
	for k := len(runs) - 1; k >= 0; k-- {
		add(out, block{i0 + runs[k].i, j0 + runs[k].j, runs[k].n})
	}
	return true
}

// patience appends the runs of a diff of a and b that is not always the
// shortest but costs little: the lines found exactly once in a and once
// in b, in the longest order both keep, are matched, and the stretches
// between them diffed alone (match). With no such line, a is replaced by
// b whole, and so it is when the budget is spent.
func patience(a, b []string, i0, j0 int, out *[]block, budget *int) {
	*budget -= len(a) + len(b)
	if *budget <= 0 {
		return
	}
	type seen struct{ na, nb, i, j int }
	count := make(map[string]*seen, len(a))
	for i, l := range a {
		s := count[l]
		if s == nil {
			s = &seen{}
			count[l] = s
		}
		s.na++
		s.i = i
	}
	for j, l := range b {
		if s := count[l]; s != nil {
			s.nb++
			s.j = j
		}
	}
	// The unique pairs in the order of a; the longest run of them
	// increasing in b (patience sorting) is the anchors.
	var pairs [][2]int
	for _, l := range a {
		if s := count[l]; s.na == 1 && s.nb == 1 {
			pairs = append(pairs, [2]int{s.i, s.j})
		}
	}
	anchors := longestIncreasing(pairs)
	if len(anchors) == 0 {
		return // all of a replaced by b: no run to add
	}
	pi, pj := 0, 0
	for _, p := range anchors {
		match(a[pi:p[0]], b[pj:p[1]], i0+pi, j0+pj, out, budget)
		add(out, block{i0 + p[0], j0 + p[1], 1})
		pi, pj = p[0]+1, p[1]+1
	}
	match(a[pi:], b[pj:], i0+pi, j0+pj, out, budget)
}

// longestIncreasing returns the longest subsequence of pairs whose second
// element increases (the first already does), in O(n log n).
func longestIncreasing(pairs [][2]int) [][2]int {
	var tops []int // index into pairs of the smallest tail of each length
	prev := make([]int, len(pairs))
	for k, p := range pairs {
		lo, hi := 0, len(tops)
		for lo < hi {
			mid := (lo + hi) / 2
			if pairs[tops[mid]][1] < p[1] {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		prev[k] = -1
		if lo > 0 {
			prev[k] = tops[lo-1]
		}
		if lo == len(tops) {
			tops = append(tops, k)
		} else {
			tops[lo] = k
		}
	}
	if len(tops) == 0 {
		return nil
	}
	out := make([][2]int, len(tops))
	for k, at := len(tops)-1, tops[len(tops)-1]; k >= 0; k, at = k-1, prev[at] {
		out[k] = pairs[at]
	}
	return out
}
