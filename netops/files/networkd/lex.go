package networkd

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// The lexer is ours rather than go-systemd's unit.DeserializeOptions: that
// one drops line numbers (every error here must say file:line), skips text
// before the first section without a word, and flattens repeated sections,
// which for [Route] and [Address] are separate objects. Writing is ours
// too (writer.bytes), in unit.SerializeSections' format.

type rawEntry struct {
	key, value string
	line       int
}

type rawSection struct {
	file    string // the file the section came from: a drop-in keeps its own name
	name    string
	line    int
	entries []rawEntry
}

// whitespace is systemd's WHITESPACE set; trimming anything wider would make
// values differ from what networkd sees.
const whitespace = " \t\n\r"

// lex splits data into sections following systemd.syntax(7): '#' and ';'
// comments, [Section] headers, Key=Value lines, and a trailing odd number of
// backslashes continuing a line (the backslash becomes a space).
func lex(file string, data []byte) ([]rawSection, []Warning, error) {
	// At most a section per '[' (counting a byte is fast, a pair is not).
	secs := make([]rawSection, 0, bytes.Count(data, []byte("["))+1)
	warn, err := lexEach(file, data, false, func(sec rawSection) { secs = append(secs, sec) })
	return secs, warn, err
}

// lexEach is lex handing each section to each as it ends. With reuse,
// the entries of a section are valid only during its call: their array
// is reused for the next section's, so a file of a million [Route]
// sections is read with one small array, not one of every entry (200 MB
// at a million routes). Without, one array holds every section's
// entries, a section's after those of the one before: an allocation per
// file, not several per section. The lines are cut one at a time, not
// split into a slice first (100 MB more).
func lexEach(file string, data []byte, reuse bool, each func(rawSection)) ([]Warning, error) {
	text := strings.TrimPrefix(string(data), "\ufeff")
	var (
		warn    []Warning
		errs    []error
		entries []rawEntry
		cur     rawSection // the section being read
		in      bool       // cur is one
		rest    = text
		n       int // lines cut so far
	)
	if !reuse {
		entries = make([]rawEntry, 0, strings.Count(text, "=")) // at most an entry per '='
	}
	end := func() {
		if !in {
			return
		}
		each(cur)
		if reuse {
			entries = entries[:0]
		}
	}
	for rest != "" {
		n++
		lineNo := n
		l := trim(cutLine(&rest))
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		if l[0] == '[' {
			if l[len(l)-1] != ']' || len(l) < 3 {
				errs = append(errs, &ParseError{File: file, Line: lineNo, Err: fmt.Errorf("invalid section header %q", l)})
				continue
			}
			end()
			cur, in = rawSection{file: file, name: l[1 : len(l)-1], line: lineNo}, true
			continue
		}
		for continued(l) {
			l = l[:len(l)-1] + " "
			// Comment lines inside a continuation are skipped, as systemd does.
			for rest != "" {
				n++
				next := strings.TrimRight(cutLine(&rest), whitespace)
				if t := strings.TrimLeft(next, whitespace); t != "" && (t[0] == '#' || t[0] == ';') {
					continue
				}
				l += next
				break
			}
		}
		k, v, ok := strings.Cut(l, "=")
		k = trim(k)
		switch {
		case !ok:
			warn = append(warn, Warning{File: file, Line: lineNo, Kind: WarnStrayLine, Msg: fmt.Sprintf("missing '=' in %q, line ignored", l)})
		case k == "":
			warn = append(warn, Warning{File: file, Line: lineNo, Kind: WarnStrayLine, Msg: "missing key name before '=', line ignored"})
		case !in:
			warn = append(warn, Warning{File: file, Line: lineNo, Kind: WarnStrayLine, Msg: fmt.Sprintf("%s= outside of any section, ignored", k)})
		default:
			first := len(entries) - len(cur.entries)
			entries = append(entries, rawEntry{key: k, value: trim(v), line: lineNo})
			cur.entries = entries[first:len(entries):len(entries)]
		}
	}
	end()
	return warn, errors.Join(errs...)
}

// cutLine returns the text of *rest up to its first newline and moves
// *rest past that newline.
func cutLine(rest *string) string {
	line, after, _ := strings.Cut(*rest, "\n")
	*rest = after
	return line
}

// trim is strings.Trim(s, whitespace), without making a set of the
// cutset each time: it runs three times for each line of a file that may
// hold a million routes.
func trim(s string) string {
	for len(s) > 0 && strings.IndexByte(whitespace, s[0]) >= 0 {
		s = s[1:]
	}
	for len(s) > 0 && strings.IndexByte(whitespace, s[len(s)-1]) >= 0 {
		s = s[:len(s)-1]
	}
	return s
}

// continued reports whether l ends in an odd number of backslashes; an even
// number is escaped backslashes, not a continuation.
func continued(l string) bool {
	n := 0
	for n < len(l) && l[len(l)-1-n] == '\\' {
		n++
	}
	return n%2 == 1
}
