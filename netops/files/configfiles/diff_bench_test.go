package configfiles

import (
	"fmt"
	"strings"
	"testing"
)

// pageHead is what a preview page makes of a change: its first 100
// lines and its counts (Change.DiffHead).
func pageHead(rel string, old, new []byte) string {
	c := Change{Rel: rel, Old: old, New: new}
	head, _, _, _ := c.DiffHead(100)
	return head
}

// BenchmarkUnifiedDiff diffs a .network file of one link's share of a
// million routes (6,700 routes, 33,500 lines) as a save preview does (the whole diff, and the head the page shows): new,
// with one line changed, and with a route in ten changed; with the diff
// the plans use and with go-difflib's, which they used before.
func BenchmarkUnifiedDiff(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("# Written by netpanel\n[Match]\nName=np0a\n\n[Network]\nAddress=10.254.0.1/24\n")
	for i := range 6700 {
		fmt.Fprintf(&sb, "\n[Route]\nDestination=10.%d.%d.%d/32\nGateway=10.254.0.2\nTable=main\n", i>>16, i>>8&255, i&255)
	}
	file := sb.String()
	oneLine := strings.Replace(file, "Destination=10.0.13.7/32\nGateway=10.254.0.2", "Destination=10.0.13.7/32\nGateway=10.254.0.3", 1)
	var tenth strings.Builder
	tables := 0
	for _, l := range strings.SplitAfter(file, "\n") {
		if strings.HasPrefix(l, "Table=") {
			if tables%10 == 3 {
				l = "Table=100\n"
			}
			tables++
		}
		tenth.WriteString(l)
	}
	for _, c := range []struct{ name, old, new string }{
		{"new file", "", file},
		{"one line changed", file, oneLine},
		{"a route in ten changed", file, tenth.String()},
	} {
		for _, d := range []struct {
			name string
			diff func(string, []byte, []byte) string
		}{{"now", UnifiedDiff}, {"difflib", difflibDiff}, {"page head", pageHead}} {
			b.Run(c.name+"/"+d.name, func(b *testing.B) {
				var old []byte
				if c.old != "" {
					old = []byte(c.old)
				}
				for b.Loop() {
					d.diff("10-np0a.network", old, []byte(c.new))
				}
			})
		}
	}
}
