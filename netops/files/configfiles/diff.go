package configfiles

import (
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// unifiedDiff returns a unified diff from a/rel to b/rel with three lines
// of context, or "" if old and new are equal. nil (no file) diffs like
// empty content.
func unifiedDiff(rel string, old, new []byte) string {
	if string(old) == string(new) {
		return ""
	}
	a, b := diffLines(old), diffLines(new)
	header := "--- a/" + rel + "\n+++ b/" + rel + "\n"
	if len(a) == 0 && len(b) == 0 {
		return header
	}
	s, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: a, B: b, FromFile: "a/" + rel, ToFile: "b/" + rel, Context: 3,
	})
	if err != nil || s == "" {
		// Writing to a bytes.Buffer cannot fail; keep the header anyway.
		return header
	}
	return s
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
		lines[len(lines)-1] = last + "\n\\ No newline at end of file\n"
	}
	return lines
}
