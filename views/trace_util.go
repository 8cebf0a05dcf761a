package views

import "strings"

func joinSemi(s []string) string { return strings.Join(s, "; ") }
