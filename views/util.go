package views

import (
	"html"
	"strconv"
	"strings"
)

func itoa(n int) string { return strconv.Itoa(n) }

// breakable escapes s and lets the browser wrap it after each comma
// (long flag lists) without changing its text.
func breakable(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), ",", ",<wbr>")
}
