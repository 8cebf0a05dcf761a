package rttables

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFileID is the largest table ID an rt_tables file can name: iproute2
// scans IDs into a C int and skips negative ones, so IDs of 2^31 and above
// never take effect even though the kernel accepts them in routes.
const MaxFileID = 1<<31 - 1

// maxLineLen bounds the memory one line can take; real lines are short
// (iproute2 itself reads through a 512-byte buffer).
const maxLineLen = 4096

// LineError is a problem with one line of an rt_tables file.
type LineError struct {
	Source string // file name as given to Parse
	Line   int    // 1-based
	Reason string
	// Stops is true when iproute2 gives up on the file at this line, so
	// that the names after it are unknown to `ip` (though Parse returns
	// them).
	Stops bool
}

func (e *LineError) Error() string {
	msg := fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Reason)
	if e.Stops {
		msg += "; ip ignores this line and the rest of the file"
	}
	return msg
}

// Parse reads rt_tables lines from r. source names the input in errors and
// in each Entry's Source ("source:line").
//
// A bad line does not stop the parse: Parse returns the entries of every
// good line together with an error that joins one *LineError per problem
// (use errors.As, or errors.Unwrap's []error, to inspect them), so one typo
// does not leave every table nameless in the panel. Beware that iproute2
// itself stops reading a file at a line it cannot scan (LineError.Stops);
// the names after it are then shown by the panel but unknown to `ip`.
//
// Parse reads a line as iproute2 does where that is sensible: words after
// the name are ignored (the entry is returned, with an error saying so).
// Where iproute2's sscanf reads a line in a surprising way ("+5 x",
// "0X10 x", "12abc x", IDs above MaxFileID) Parse skips it and says why.
func Parse(r io.Reader, source string) ([]Entry, error) {
	var (
		entries []Entry
		errs    []error
	)
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, tooLong, readErr := readLine(br)
		if readErr != nil && readErr != io.EOF {
			errs = append(errs, fmt.Errorf("%s:%d: %w", source, n, readErr))
			break
		}
		if readErr == io.EOF && line == "" && !tooLong {
			break
		}
		if tooLong {
			errs = append(errs, &LineError{Source: source, Line: n,
				Reason: fmt.Sprintf("line longer than %d bytes", maxLineLen), Stops: true})
		} else {
			e, ok, reason := parseLine(line)
			if reason != "" {
				errs = append(errs, &LineError{Source: source, Line: n,
					Reason: reason, Stops: !scansInIproute2(line)})
			}
			if ok {
				e.Source = source + ":" + strconv.Itoa(n)
				entries = append(entries, e)
			}
		}
		if readErr == io.EOF {
			break
		}
	}
	return entries, errors.Join(errs...)
}

// readLine returns the next line without its newline. A line longer than
// maxLineLen is consumed and reported as tooLong.
func readLine(br *bufio.Reader) (line string, tooLong bool, err error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(b)+len(chunk) > maxLineLen+1 {
			tooLong = true
		} else {
			b = append(b, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if tooLong {
			b = nil
		}
		return strings.TrimSuffix(string(b), "\n"), tooLong, err
	}
}

// isSpace is C's isspace in the "C" locale, which sscanf uses.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// cutField splits s after its leading spaces into the first run of
// non-space bytes and the rest.
func cutField(s string) (field, rest string) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	s = s[i:]
	j := 0
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	return s[:j], s[j:]
}

// parseLine reads one line. ok is false for blank, comment and bad lines;
// reason is non-empty for a bad line, or a good one with a warning.
func parseLine(line string) (e Entry, ok bool, reason string) {
	// iproute2 skips only spaces and tabs before deciding that a line is
	// blank or a comment; a lone "\r" (a CRLF file) is a corrupt line to it.
	if p := strings.TrimLeft(line, " \t"); p == "" || p[0] == '#' {
		return Entry{}, false, ""
	}
	num, rest := cutField(line)
	if num == "" || num[0] == '#' {
		return Entry{}, false, "blank line or comment that starts with a carriage return or other control spacing"
	}
	name, rest := cutField(rest)
	if name == "" || name[0] == '#' {
		return Entry{}, false, fmt.Sprintf("expected \"NUMBER NAME\", got %q", strings.TrimSpace(line))
	}
	id, why := parseFileID(num)
	if why != "" {
		return Entry{}, false, why
	}
	if why := checkName(name); why != "" {
		return Entry{}, false, why
	}
	e = Entry{ID: id, Name: name}
	if extra := strings.TrimFunc(rest, isSpaceRune); extra != "" && extra[0] != '#' {
		return e, true, fmt.Sprintf("text after the name %q is ignored: %q (start comments with #)", name, extra)
	}
	return e, true, ""
}

func isSpaceRune(r rune) bool { return r < 0x80 && isSpace(byte(r)) }

// scansInIproute2 reports whether iproute2's sscanf(p, "%d %s") (or its
// "0x%x" twin) succeeds on line: an optionally signed number followed,
// after optional spaces, by any non-space byte. When it fails iproute2
// prints "Database ... is corrupted" and stops reading the file.
func scansInIproute2(line string) bool {
	if nul := strings.IndexByte(line, 0); nul >= 0 {
		line = line[:nul] // C strings end there
	}
	i := 0
	for i < len(line) && isSpace(line[i]) {
		i++
	}
	if i < len(line) && (line[i] == '+' || line[i] == '-') {
		i++
	}
	start := i
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	if i == start {
		return false
	}
	for ; i < len(line); i++ {
		if !isSpace(line[i]) {
			return true
		}
	}
	return false
}

// parseFileID reads a table number the way rt_tables files write it:
// decimal (leading zeros stay decimal, unlike on ip's command line) or
// "0x" followed by hex digits.
func parseFileID(s string) (uint32, string) {
	base, digits := 10, s
	if strings.HasPrefix(s, "0x") {
		base, digits = 16, s[2:]
	}
	bad := fmt.Sprintf("expected \"NUMBER NAME\", got %q where the table number should be", s)
	if digits == "" {
		return 0, bad
	}
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i], base) {
			return 0, bad
		}
	}
	v, err := strconv.ParseUint(digits, base, 64)
	if err != nil || v > MaxFileID {
		return 0, fmt.Sprintf("table number %s is out of range: iproute2 reads 0 to %d", s, MaxFileID)
	}
	return uint32(v), ""
}

func isDigit(c byte, base int) bool {
	switch {
	case c >= '0' && c <= '9':
		return true
	case base == 16:
		return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
	}
	return false
}

// checkName rejects names a page could not show faithfully.
func checkName(name string) string {
	if !utf8.ValidString(name) {
		return fmt.Sprintf("table name %q is not valid UTF-8", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return fmt.Sprintf("table name %q contains a control or space character", name)
		}
	}
	return ""
}
