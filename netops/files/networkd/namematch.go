package networkd

import (
	"fmt"
	"strings"
)

// NameMatch is the [Match] of a .network for the link called name and no
// other: every writer of a link's own file (Generate, Template, the Docker
// plan) takes it from here.
//
// A Name= word is a glob, and networkd 252 reads it in two steps
// (src/shared/net-condition.c): extract_first_word takes one backslash
// level off (nameLines writes it), then net_condition_test_strv negates a
// word that begins with "!" and tests the rest with fnmatch(3). The kernel
// allows "*", "?", "[", "\" and a leading "!" in a link's name, so the
// name as it is would be a pattern for other links ("a*" takes "ab",
// "!foo" every link but foo) or miss its own ("x[1]" matches x1). Each of
// those is quoted with a backslash, which fnmatch reads as the character
// itself, and a word that begins with "\" is not negated.
//
// networkd also drops a word that looks like an ifindex or is no valid
// name to it ("123", "0x1f", "all": ifnameValid); quoting its first
// character makes a word it keeps that still matches the name alone. A
// name with a character networkd refuses in any word ("%", a control
// character, a byte past ASCII) has no such pattern: NameMatch refuses it
// (ErrNotRecreatable), rather than write a file networkd ignores or
// applies to other links.
func NameMatch(name string) (Match, error) {
	// What the kernel refuses makes no link name; what only networkd
	// refuses makes a link networkd cannot match.
	f, c := checkIfname(name, 15)
	if f == ifnameLength || f == ifnameDots || strings.ContainsAny(name, "/: \t\n\v\f\r") {
		return Match{}, fmt.Errorf("%q is not a valid link name", name)
	}
	if f == ifnameByte {
		return Match{}, fmt.Errorf("%w: networkd cannot match link %q by its name: it refuses %q in a [Match] Name= word, and no pattern without it matches this name alone",
			ErrNotRecreatable, name, []byte{c})
	}
	var b strings.Builder
	for i := range len(name) {
		if c := name[i]; strings.IndexByte(globSpecial, c) >= 0 || i == 0 && (c == '!' || !ifnameValid(name)) {
			b.WriteByte('\\')
		}
		b.WriteByte(name[i])
	}
	return Match{Name: []string{b.String()}}, nil
}
