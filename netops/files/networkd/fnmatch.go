package networkd

// fnmatch reports whether s matches the shell pattern p as glibc's
// fnmatch(3) with flags 0 decides it, which is how networkd tests every
// [Match] glob (net_condition_test_strv): "*" and "?" cross "/" and a
// leading ".", a bracket negates with "!" or "^", knows the POSIX classes
// ("[[:digit:]]"), "[=c=]" and "[.c.]" of the C locale, and a "[" that
// never closes is a plain "[". A backslash quotes the next character; a
// trailing one matches nothing. Go's path.Match differs on all of these.
//
// Bytes are compared as in the C locale: interface names are ASCII
// (networkd refuses others), and so are the values of Type= and Kind=.
// The edge cases (a class name that is not one, "[a-" at the end, a
// bracket left open after a matching item) fail as glibc's do; the test
// compares with glibc itself.
func fnmatch(p, s string) bool {
	return fnmatchFrom(p, s, 0, 0, nil)
}

// starStop is where a segment match stopped at a "*": glibc matches the
// text up to the next "*" at the first place it fits and goes on from
// there, never trying a later place for an earlier "*".
type starStop struct {
	p, s int
	set  bool
}

// charClassMax is glibc's CHAR_CLASS_MAX_LENGTH: a longer class name
// fails the pattern.
const charClassMax = 256

// at is p[i], or 0 past its end (a C string's terminator).
func at(p string, i int) byte {
	if i < len(p) {
		return p[i]
	}
	return 0
}

func fnmatchFrom(p, s string, pi, ni int, stop *starStop) bool {
	for {
		c := at(p, pi)
		if c == 0 {
			return ni == len(s)
		}
		pi++
		switch c {
		case '?':
			if ni == len(s) {
				return false
			}
		case '\\':
			c = at(p, pi)
			if c == 0 {
				return false // a trailing backslash loses
			}
			pi++
			if ni == len(s) || s[ni] != c {
				return false
			}
		case '*':
			if stop != nil {
				stop.p, stop.s, stop.set = pi-1, ni, true
				return true
			}
			c = at(p, pi)
			pi++
			for c == '?' || c == '*' {
				if c == '?' {
					if ni == len(s) {
						return false
					}
					ni++
				}
				c = at(p, pi)
				pi++
			}
			if c == 0 {
				return true
			}
			pi-- // back at the first character after the stars
			lit := c
			if c == '\\' {
				lit = at(p, pi+1)
			}
			var next starStop
			found := false
			for ; ni < len(s); ni++ {
				if (c == '[' || s[ni] == lit) && fnmatchFrom(p, s, pi, ni, &next) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
			if !next.set {
				return true
			}
			pi, ni = next.p, next.s
			continue
		case '[':
			if ni == len(s) {
				return false
			}
			end, ok := bracket(p, pi, s[ni])
			switch {
			case !ok:
				return false
			case end < 0: // never closed: a plain "["
				if s[ni] != '[' {
					return false
				}
			default:
				pi = end
			}
		default:
			if ni == len(s) || s[ni] != c {
				return false
			}
		}
		ni++
	}
}

// bracket matches ch against the bracket expression whose "[" is just
// before p[i]. It returns the index after its "]" and whether ch is in
// it; end < 0 (ok) when the expression never closes and the "[" stands
// for itself; ok false also when glibc rejects the pattern there.
func bracket(p string, i int, ch byte) (end int, ok bool) {
	not := at(p, i) == '!' || at(p, i) == '^'
	if not {
		i++
	}
	c := at(p, i)
	i++
	for {
		var cold byte
		isRange := false
		switch {
		case c == '\\':
			if at(p, i) == 0 {
				return 0, false
			}
			c = at(p, i)
			i++
			goto normal
		case c == '[' && at(p, i) == ':':
			start := i
			var name []byte
			for {
				if len(name) == charClassMax {
					return 0, false
				}
				i++
				c = at(p, i)
				if c == ':' && at(p, i+1) == ']' {
					i += 2
					break
				}
				if c < 'a' || c >= 'z' {
					i, c = start, '['
					goto normal
				}
				name = append(name, c)
			}
			in, known := inClass(string(name), ch)
			if !known {
				return 0, false
			}
			if in {
				goto matched
			}
			c = at(p, i)
			i++
			goto closing
		case c == '[' && at(p, i) == '=':
			start := i
			i++
			e := at(p, i)
			if e == 0 {
				i, c = start, '['
				goto normal
			}
			i++
			if at(p, i) != '=' || at(p, i+1) != ']' {
				i, c = start, '['
				goto normal
			}
			i += 2
			if ch == e {
				goto matched
			}
			c = at(p, i)
			i++
			goto closing
		case c == 0:
			return -1, true
		case c == '[' && at(p, i) == '.':
			sym, next, ok := collating(p, i)
			if !ok {
				return 0, false
			}
			i = next
			isRange = at(p, i) == '-' && at(p, i+1) != 0
			if !isRange && ch == sym {
				goto matched
			}
			cold = sym
			c = at(p, i)
			i++
			goto rangeEnd
		}
	normal:
		isRange = at(p, i) == '-' && at(p, i+1) != 0 && at(p, i+1) != ']'
		if !isRange && c == ch {
			goto matched
		}
		cold = c
		c = at(p, i)
		i++
	rangeEnd:
		if c == '-' && at(p, i) != ']' {
			cend := at(p, i)
			i++
			if cend == '[' && at(p, i) == '.' {
				sym, next, ok := collating(p, i)
				if !ok {
					return 0, false
				}
				cend, i = sym, next
			} else {
				if cend == '\\' {
					cend = at(p, i)
					i++
				}
				if cend == 0 {
					return 0, false
				}
			}
			if cold <= ch && ch <= cend {
				goto matched
			}
			c = at(p, i)
			i++
		}
	closing:
		if c == ']' {
			break
		}
	}
	if !not {
		return 0, false
	}
	return i, true

matched:
	// Skip the rest of the expression, as glibc does, failing where it
	// fails.
	for {
		c = at(p, i)
		i++
		if c == 0 {
			return -1, true // never closed: a plain "[" after all
		}
		switch {
		case c == '\\':
			if at(p, i) == 0 {
				return 0, false
			}
			i++
		case c == '[' && at(p, i) == ':':
			start, n := i, 0
			skipped := true
			for {
				i++
				c = at(p, i)
				if n++; n == charClassMax {
					return 0, false
				}
				if at(p, i) == ':' && at(p, i+1) == ']' {
					break
				}
				if c < 'a' || c >= 'z' {
					i, skipped = start, false
					break
				}
			}
			if skipped {
				i += 2
			}
			continue
		case c == '[' && at(p, i) == '=':
			i++
			if at(p, i) == 0 {
				return 0, false
			}
			i++
			if at(p, i) != '=' || at(p, i+1) != ']' {
				return 0, false
			}
			i += 2
			continue
		case c == '[' && at(p, i) == '.':
			for {
				i++
				c = at(p, i)
				if c == 0 {
					return 0, false
				}
				if c == '.' && at(p, i+1) == ']' {
					break
				}
			}
			i += 2
			continue
		}
		if c == ']' {
			break
		}
	}
	if not {
		return 0, false
	}
	return i, true
}

// collating reads the collating symbol "[.c.]" whose "." is p[i]: its one
// character (the C locale names no other element) and the index after it.
func collating(p string, i int) (sym byte, next int, ok bool) {
	start := i
	for {
		i++
		c := at(p, i)
		if c == '.' && at(p, i+1) == ']' {
			break
		}
		if c == 0 {
			return 0, 0, false
		}
	}
	if i-start != 2 {
		return 0, 0, false
	}
	return p[start+1], i + 2, true
}

// inClass reports whether ch is in the POSIX class name in the C locale,
// and whether there is such a class.
func inClass(name string, ch byte) (in, known bool) {
	lower := 'a' <= ch && ch <= 'z'
	upper := 'A' <= ch && ch <= 'Z'
	digit := '0' <= ch && ch <= '9'
	graph := '!' <= ch && ch <= '~'
	switch name {
	case "alnum":
		return lower || upper || digit, true
	case "alpha":
		return lower || upper, true
	case "blank":
		return ch == ' ' || ch == '\t', true
	case "cntrl":
		return ch < ' ' || ch == 0x7f, true
	case "digit":
		return digit, true
	case "graph":
		return graph, true
	case "lower":
		return lower, true
	case "print":
		return graph || ch == ' ', true
	case "punct":
		return graph && !lower && !upper && !digit, true
	case "space":
		return ch == ' ' || '\t' <= ch && ch <= '\r', true
	case "upper":
		return upper, true
	case "xdigit":
		return digit || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F', true
	}
	return false, false
}
