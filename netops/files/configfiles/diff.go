package configfiles

import (
	"bytes"
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
	Write(p []byte) (int, error)
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
	steps := diffBudget
	lines, added, removed, _, err = writeUnifiedWithin(w, newEnds(old, new), rel, limit, &steps)
	return lines, added, removed, err
}

// ends are two files and the bytes both begin (p) and end (t) with, whole
// lines of both (shared): found once, they serve a diff's cost and the
// diff itself.
type ends struct {
	old, new []byte
	p, t     int
}

func newEnds(old, new []byte) ends {
	p, t := shared(old, new)
	return ends{old, new, p, t}
}

// equal reports whether the files are the same: the shared head and
// tail cover both.
func (e ends) equal() bool { return len(e.old) == len(e.new) && e.p+e.t == len(e.old) }

// middles are what lies between the shared head and tail of each file.
func (e ends) middles() (ma, mb []byte) {
	return e.old[e.p : len(e.old)-e.t], e.new[e.p : len(e.new)-e.t]
}

// writeUnifiedWithin is writeUnified within *steps of the matcher (Myers'
// search and the split at unique lines, as diffBudget counts them), less
// what it takes: a diff that would take more writes and counts nothing
// and says so (over), having read at most steps lines of each file past
// the ones both begin and end with. Within its steps, the diff is
// writeUnified's, line for line: the steps only matter once spent.
func writeUnifiedWithin(w lineWriter, e ends, rel string, limit int, steps *int) (lines, added, removed int, over bool, err error) {
	f, over := findWithin(e, steps)
	if over {
		return 0, 0, 0, true, nil
	}
	lines, added, removed, err = f.write(w, rel, limit)
	return lines, added, removed, false, err
}

// found is a diff found, its sides and their opcodes, to write (nil
// sides: the files are equal).
type found struct {
	e     ends
	a, b  *side
	codes []opcode
}

// findWithin finds the diff of e within *steps, less what it takes, as
// writeUnifiedWithin; over: it would take more.
func findWithin(e ends, steps *int) (f found, over bool) {
	if e.equal() {
		return found{e: e}, false
	}
	a, b := splitSides(e, *steps)
	if a == nil { // it read up to *steps lines of each file: they are spent
		*steps = 0
		return found{}, true
	}
	codes, spent := sideOpcodes(a, b, steps)
	if spent {
		return found{}, true
	}
	return found{e, a, b, codes}, false
}

// write writes the diff's first limit lines (all when limit < 0) to w,
// and counts them all: the lines not written cost no more than their
// hunks' count.
func (f found) write(w lineWriter, rel string, limit int) (lines, added, removed int, err error) {
	if f.a == nil {
		return 0, 0, 0, nil
	}
	old, new, a, b := f.e.old, f.e.new, f.a, f.b
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
	markA, markB := mark(old, a.n), mark(new, b.n)
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
	for _, g := range groups(f.codes, context) {
		first, last := g[0], g[len(g)-1]
		put("@@ -" + unifiedRange(first.i1, last.i2) + " +" + unifiedRange(first.j1, last.j2) + " @@\n")
		for _, c := range g {
			if c.tag == 'e' {
				lines += a.write(w, ' ', c.i1, c.i2, room(c.i2-c.i1), &err) + markA(c.i2)
				continue
			}
			lines += a.write(w, '-', c.i1, c.i2, room(c.i2-c.i1), &err) + markA(c.i2)
			lines += b.write(w, '+', c.j1, c.j2, room(c.j2-c.j1), &err) + markB(c.j2)
			removed += c.i2 - c.i1
			added += c.j2 - c.j1
		}
	}
	return lines, added, removed, err
}

// context is how many lines of context a hunk shows on each side of a
// change.
const context = 3

// side is one file of a diff, split into lines (diffLines) only where a
// diff can show them: the head both files share ends at line head, and
// of it only its last context lines are kept (headEnd); the tail both
// share is the file's last tail lines, of which only the first context
// lines are kept (tailTop); the middle between them is split (mid), or,
// when the other file's middle is empty (the whole middle added or
// removed), kept as bytes (midData, midN lines) and split as it is
// written. A small change to a huge file, or a new one, so costs a pass
// over its bytes, not a string per line.
type side struct {
	n, head, tail int
	headEnd       []string
	mid           []string
	midData       []byte
	midN          int
	tailTop       []string
	lazy          bool
}

// midLen is how many lines the middle has.
func (s *side) midLen() int {
	if s.lazy {
		return s.midN
	}
	return len(s.mid)
}

// line returns line i of the file (0-based), one a diff shows: within
// the last context lines of the head, the middle (split), or the first
// context lines of the tail.
func (s *side) line(i int) string {
	switch m := s.midLen(); {
	case i < s.head:
		return s.headEnd[i-(s.head-len(s.headEnd))]
	case i >= s.head+m:
		return s.tailTop[i-s.head-m]
	}
	return s.mid[i-s.head]
}

// write writes lines i1 up to i1+n (of the file's lines i1 to i2) to w,
// each after prefix, and returns i2-i1: the lines the diff has, written
// or not. It keeps w's first error in *err.
func (s *side) write(w lineWriter, prefix byte, i1, i2, n int, err *error) int {
	i := i1
	if s.lazy && i >= s.head && i < s.head+s.midN {
		// The middle's lines are read off its bytes in turn (the other
		// file's middle is empty: it is written whole, from its start).
		data := s.midData
		for range i - s.head {
			data = data[bytes.IndexByte(data, '\n')+1:]
		}
		for ; i < min(i1+n, s.head+s.midN) && *err == nil; i++ {
			line, end := data, ""
			if k := bytes.IndexByte(data, '\n'); k >= 0 {
				line = data[:k+1]
			} else {
				end = "\n" + noNewline
			}
			data = data[len(line):]
			if *err = w.WriteByte(prefix); *err == nil {
				_, *err = w.Write(line)
			}
			if *err == nil && end != "" {
				_, *err = w.WriteString(end)
			}
		}
	}
	for ; i < i1+n && *err == nil; i++ {
		if *err = w.WriteByte(prefix); *err == nil {
			_, *err = w.WriteString(s.line(i))
		}
	}
	return i2 - i1
}

// shared is how many bytes old and new begin with (p) and, of the rest,
// end with (t), both whole lines of both.
func shared(old, new []byte) (p, t int) {
	// In blocks first: bytes.Equal compares a block at memory speed, a
	// loop of bytes a byte at a time.
	const block = 256
	for p+block <= min(len(old), len(new)) && bytes.Equal(old[p:p+block], new[p:p+block]) {
		p += block
	}
	for p < len(old) && p < len(new) && old[p] == new[p] {
		p++
	}
	p = bytes.LastIndexByte(old[:p], '\n') + 1
	ra, rb := old[p:], new[p:]
	for t+block <= min(len(ra), len(rb)) && bytes.Equal(ra[len(ra)-t-block:len(ra)-t], rb[len(rb)-t-block:len(rb)-t]) {
		t += block
	}
	for t < len(ra) && t < len(rb) && ra[len(ra)-1-t] == rb[len(rb)-1-t] {
		t++
	}
	// The shared tail starts at a line's start in both files: where each
	// has a "\n" (or its middle's start) before it, or else after a "\n"
	// within it, the same byte in both.
	lineStart := func(r []byte) bool { i := len(r) - t; return i == 0 || r[i-1] == '\n' }
	if t > 0 && !(lineStart(ra) && lineStart(rb)) {
		if k := bytes.IndexByte(ra[len(ra)-t:], '\n'); k >= 0 {
			t -= k + 1
		} else {
			t = 0
		}
	}
	return p, t
}

// splitSides splits old and new into the sides of their diff: the whole
// lines both begin with (the longest common prefix of bytes, cut back to
// a line's start) and, of what is left, the whole lines both end with,
// are counted, not split. When both middles are left and one has more
// lines than steps (a matcher passes over each line at least once), it
// returns nil sides, having counted no more than steps lines of either.
func splitSides(e ends, steps int) (a, b *side) {
	if ma, mb := e.middles(); steps < diffBudget && len(ma) > 0 && len(mb) > 0 &&
		(linesOver(ma, steps) || linesOver(mb, steps)) {
		return nil, nil
	}
	a, b = newSide(e.old, e.p, e.t), newSide(e.new, e.p, e.t)
	switch {
	case len(a.midData) == 0:
		b.lazy = true
	case len(b.midData) == 0:
		a.lazy = true
	}
	for _, s := range []*side{a, b} {
		if !s.lazy {
			s.mid, s.midData = diffLines(s.midData), nil
		}
	}
	return a, b
}

// newSide is data's side of a diff whose files share its first p bytes
// and its last t bytes, both whole lines.
func newSide(data []byte, p, t int) *side {
	head, mid, tail := data[:p], data[p:len(data)-t], data[len(data)-t:]
	s := &side{head: bytes.Count(head, []byte{'\n'}), midData: mid, midN: lineCount(mid)}
	s.tail = lineCount(tail)
	s.n = s.head + s.midN + s.tail
	s.tailTop = firstLines(tail, context)
	// The head's last context lines: it ends with "\n".
	from := len(head)
	for range context {
		if from == 0 {
			break
		}
		from = bytes.LastIndexByte(head[:from-1], '\n') + 1
	}
	s.headEnd = diffLines(head[from:])
	return s
}

// linesOver reports whether data has more than n lines (lineCount),
// reading no more than n+1 of them.
func linesOver(data []byte, n int) bool {
	for i := 0; i <= n; i++ {
		k := bytes.IndexByte(data, '\n')
		if k < 0 {
			if len(data) > 0 {
				i++
			}
			return i > n
		}
		data = data[k+1:]
	}
	return true
}

// lineCount is how many lines diffLines splits data into.
func lineCount(data []byte) int {
	n := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// firstLines is the first n of diffLines(data), split alone.
func firstLines(data []byte, n int) []string {
	var out []string
	for len(out) < n && len(data) > 0 {
		k := bytes.IndexByte(data, '\n')
		if k < 0 {
			return append(out, string(data)+"\n"+noNewline)
		}
		out = append(out, string(data[:k+1]))
		data = data[k+1:]
	}
	return out
}

// sideOpcodes lists how a becomes b (opcodes): the shared head and tail
// are equal runs, the middles are matched within *steps (less what the
// matcher takes), or one is
// replaced by the other whole when either is empty. spent says the
// matcher used up its steps (the opcodes may then replace what more
// steps would have matched).
func sideOpcodes(a, b *side, steps *int) (codes []opcode, spent bool) {
	var blocks []block
	add(&blocks, block{0, 0, a.head})
	if !a.lazy && !b.lazy {
		whole := *steps >= diffBudget
		match(a.mid, b.mid, a.head, b.head, &blocks, steps)
		spent = *steps <= 0 && !whole
	}
	add(&blocks, block{a.head + a.midLen(), b.head + b.midLen(), a.tail})
	return opcodesOf(blocks, a.n, b.n), spent
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

// opcodesWithin lists how a becomes b, as difflib's GetOpCodes (runs of
// equal lines and the changes between them), within a budget of steps
// (diffBudget).
func opcodesWithin(a, b []string, budget int) []opcode {
	var blocks []block
	match(a, b, 0, 0, &blocks, &budget)
	return opcodesOf(blocks, len(a), len(b))
}

// opcodesOf turns the runs of equal lines of two files of na and nb
// lines into opcodes.
func opcodesOf(blocks []block, na, nb int) []opcode {
	blocks = append(blocks, block{na, nb, 0})
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
