package networkd

import "strings"

// networkd splits a [Match] list in two ways (src/shared/net-condition.c):
//
//   - Name= (config_parse_match_ifnames) with extract_first_word and no
//     flags: words split at whitespace, a backslash takes the next
//     character as it is, quotes are ordinary characters
//     (`Name="eth0"` names the link `"eth0"`, which no link is), and a
//     word that is no valid interface name (ifname_valid_full with
//     IFNAME_VALID_ALTERNATIVE: a ":" or "/" in it, all digits, longer than
//     127 bytes, ...) is dropped with a warning. So `Name=eth[[:digit:]]`
//     is no glob at all: networkd drops it for its ":".
//   - the other glob lists, Type=, Kind=, Driver=, Path= and the like
//     (config_parse_match_strv), with EXTRACT_UNQUOTE|EXTRACT_RETAIN_ESCAPE:
//     single and double quotes group and are removed (`Kind="veth" 'br'`
//     is veth and br), a backslash stays as written, for fnmatch.
//
// Both stop at a syntax error (a trailing backslash, an unclosed quote),
// keeping the words before it, and both spread a leading "!" over every
// word of the line.

// wordsSep are systemd's WHITESPACE, the separators of extract_first_word.
const wordsSep = " \t\n\r"

// nameWords are the words networkd keeps of a Name= value after its
// leading "!", unescaped, valid ones only.
func nameWords(s string) []string {
	return splitWords(s, func(s string, w *strings.Builder) (string, bool) {
		if s[0] == '\\' {
			if len(s) == 1 {
				return "", false // a trailing backslash
			}
			s = s[1:]
		}
		w.WriteByte(s[0])
		return s[1:], true
	}, ifnameValid)
}

// strvWords are the words of a glob list other than Name=: quotes group
// and are removed, backslashes stay.
func strvWords(s string) []string {
	return splitWords(s, func(s string, w *strings.Builder) (string, bool) {
		if q := s[0]; q == '"' || q == '\'' {
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				return "", false // an unclosed quote
			}
			w.WriteString(s[1 : 1+end])
			return s[end+2:], true
		}
		w.WriteByte(s[0])
		return s[1:], true
	}, nil)
}

// splitWords is extract_first_word over the whole of s: step reads the
// start of s (no separator) into the word and returns the rest, or false
// at a syntax error, which ends the list with the words before it. keep,
// if set, filters the words.
func splitWords(s string, step func(s string, w *strings.Builder) (string, bool), keep func(string) bool) []string {
	var out []string
	for {
		s = strings.TrimLeft(s, wordsSep)
		if s == "" {
			return out
		}
		var w strings.Builder
		for len(s) > 0 && !strings.ContainsRune(wordsSep, rune(s[0])) {
			var ok bool
			if s, ok = step(s, &w); !ok {
				return out
			}
		}
		if keep == nil || keep(w.String()) {
			out = append(out, w.String())
		}
	}
}

// ifnameValid is systemd's ifname_valid_full(p, IFNAME_VALID_ALTERNATIVE),
// which Name= words pass: what the kernel takes as an alternative name,
// less control characters, spaces, non-ASCII, ":", "/", "%", ".", "..",
// "all", "default", and numbers (an ifindex, or all digits).
func ifnameValid(p string) bool {
	if p == "all" || p == "default" || isIfindex(p) {
		return false
	}
	f, _ := checkIfname(p, 127)
	return f == ifnameOK
}

// isIfindex is systemd's parse_ifindex(p) >= 0: safe_atoi (strtol with
// base 0: "0x" hex, a leading "0" octal, an optional sign) giving a
// positive int.
func isIfindex(p string) bool {
	p = strings.TrimPrefix(p, "+")
	base := 10
	switch {
	case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
	case len(p) > 2 && (p[:2] == "0b" || p[:2] == "0B"): // systemd's mangle_base
		base, p = 2, p[2:]
	case len(p) > 2 && (p[:2] == "0o" || p[:2] == "0O"):
		base, p = 8, p[2:]
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	if p == "" {
		return false
	}
	v := 0
	for i := range len(p) {
		d := strings.IndexByte("0123456789abcdef"[:base], p[i]|0x20)
		if d < 0 {
			return false
		}
		if v = v*base + d; v > 1<<31-1 {
			return false
		}
	}
	return v > 0
}
