package views

import (
	"html"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
)

func itoa(n int) string { return strconv.Itoa(n) }

// breakable escapes s and lets the browser wrap it after each comma
// (long flag lists) without changing its text.
func breakable(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), ",", ",<wbr>")
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// endedText says why a pending change ended.
func endedText(why string) string {
	if why == "" {
		return "it was not confirmed in time"
	}
	return why
}

func joinNames(names []string) string { return strings.Join(names, ", ") }

func stateText(s string) string {
	switch s {
	case "applied":
		return "Applied."
	case "confirmed":
		return "Confirmed: the change stays."
	}
	return s
}

func joinSpace(s []string) string { return strings.Join(s, " ") }

// routeShown is a route row's line as ip route show prints it: the row's
// Line, a tooltip elsewhere, leads with "ip route ", which a column headed
// "ip route" repeats as a command without its verb.
func routeShown(line string) string { return strings.TrimPrefix(line, "ip route ") }

func boolStr(b bool) string { return strconv.FormatBool(b) }

// sortedKeys gives field messages a stable order.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// formID names a form of the save flow shared by /networkd and /docker:
// formID("/docker", "save") is "docker-save".
func formID(action, form string) string {
	return strings.TrimPrefix(action, "/") + "-" + form
}

// labelOr is labels[key], or key when it has no label.
func labelOr(labels map[string]string, key string) string {
	if l := labels[key]; l != "" {
		return l
	}
	return key
}

// upDown is a link row's data-state: which of its up/down actions apply.
func upDown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

// plural is n with its noun: "1 file", "3 files".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// ifaceHref is the address of an interface's own view; a name may hold
// any byte but '/' and whitespace, so it is escaped as a path segment.
func ifaceHref(name string) templ.SafeURL {
	return templ.SafeURL("/interfaces/" + url.PathEscape(name))
}
