package monitor

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// trieStat is /proc/net/fib_triestat as Linux 6.18 prints it (trimmed to
// three tables), with a table id from 2^31 up printed negative.
const trieStat = `Basic info: size of leaf: 48 bytes, size of tnode: 40 bytes.
Id 100:
	Aver depth:     1.86
	Max depth:      3
	Leaves:         126875
	Prefixes:       150000
	Internal nodes: 5005
	  2: 2504  4: 1476  5: 321  7: 703  16: 1
	Pointers: 199424
Null ptrs: 67545
Total size: 15904  kB
Id -294967296:
	Aver depth:     0.00
	Max depth:      0
	Leaves:         1
	Prefixes:       1
	Internal nodes: 0
	Pointers: 0
Null ptrs: 0
Total size: 1  kB
Main:
	Aver depth:     2.98
	Max depth:      4
	Leaves:         217329
	Prefixes:       300453
	Internal nodes: 2060
	  1: 151  2: 2  4: 13
	Pointers: 307142
Null ptrs: 87754
Total size: 26000  kB
Local:
	Aver depth:     2.98
	Prefixes:       300453
`

func TestParseTrieStat(t *testing.T) {
	got, err := parseTrieStat([]byte(trieStat))
	if err != nil {
		t.Fatal(err)
	}
	want := []fibTable{{100, 150000}, {4000000000, 1}, {254, 300453}, {255, 300453}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	jobs := splitJobs(got)
	var names []string
	for _, j := range jobs {
		names = append(names, j.String())
	}
	// Largest first, the main table (dumped before the list is read)
	// left out.
	wantJobs := []string{"inet table 255", "inet table 100", "inet table 4000000000"}
	if !slices.Equal(names, wantJobs) {
		t.Fatalf("jobs %v, want %v", names, wantJobs)
	}
}

// trieStatCounters is trie_show_usage's block as a kernel built with
// CONFIG_IP_FIB_TRIE_STATS prints it after a table's statistics.
const trieStatCounters = "\nCounters:\n---------\ngets = 1528\nbacktracks = 3\nsemantic match passed = 1500\n" +
	"semantic match miss = 0\nnull node hit= 7\nskipped node resize = 0\n\n"

// TestParseTrieStatWithCounters: the tables of a kernel built with
// CONFIG_IP_FIB_TRIE_STATS, a block of counters after each table's
// statistics, are the same tables.
func TestParseTrieStatWithCounters(t *testing.T) {
	text := strings.ReplaceAll(trieStat, "  kB\n", "  kB\n"+trieStatCounters) + trieStatCounters
	if n := strings.Count(text, "Counters:"); n != 4 {
		t.Fatalf("%d blocks of counters in %q", n, text)
	}
	got, err := parseTrieStat([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if want := []fibTable{{100, 150000}, {4000000000, 1}, {254, 300453}, {255, 300453}}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// A line the parser does not know could be a table it would miss: the
// list is refused, and the sync splits the routes by family instead.
func TestParseTrieStatRefusesWhatItDoesNotKnow(t *testing.T) {
	for name, text := range map[string]string{
		"empty":                 "",
		"no basic info line":    "Main:\n\tPrefixes: 3\n",
		"an unknown header":     "Basic info: x\nTable 100:\n\tPrefixes: 3\n",
		"an id that is no int":  "Basic info: x\nId 1x:\n",
		"an id past 32 bits":    "Basic info: x\nId 4294967296:\n",
		"table 0":               "Basic info: x\nId 0:\n",
		"a prefix count no int": "Basic info: x\nMain:\n\tPrefixes: many\n",
		// An indented table header, or any other indented line, could
		// be a table too.
		"an indented header":     "Basic info: x\nMain:\n\tPrefixes: 3\n\tId 100:\n\tPrefixes: 5\n",
		"an unknown statistic":   "Basic info: x\nMain:\n\tPrefixes: 3\n\tRoutes: 5\n",
		"node sizes not counts":  "Basic info: x\nMain:\n\tPrefixes: 3\n\t  2: 3  4:\n",
		"a statistic first":      "Basic info: x\n\tPrefixes: 3\nMain:\n\tPrefixes: 3\n",
		"two prefix counts":      "Basic info: x\nMain:\n\tPrefixes: 3\n\tPrefixes: 4\n",
		"no prefix count":        "Basic info: x\nMain:\n\tLeaves: 3\nId 100:\n\tPrefixes: 4\n",
		"a last table uncounted": "Basic info: x\nMain:\n\tPrefixes: 3\nId 100:\n",
		// Only trie_show_usage's block, whole, once, after a table's count.
		"counters first":          "Basic info: x" + trieStatCounters + "Main:\n\tPrefixes: 3\n",
		"counters before a count": "Basic info: x\nMain:" + trieStatCounters + "\tPrefixes: 3\n",
		"counters twice":          "Basic info: x\nMain:\n\tPrefixes: 3" + trieStatCounters + trieStatCounters,
		"counters cut short":      "Basic info: x\nMain:\n\tPrefixes: 3" + trieStatCounters[:strings.Index(trieStatCounters, "null")],
		"counters out of order":   "Basic info: x\nMain:\n\tPrefixes: 3" + strings.Replace(trieStatCounters, "gets = 1528\nbacktracks = 3", "backtracks = 3\ngets = 1528", 1),
		"an unknown counter":      "Basic info: x\nMain:\n\tPrefixes: 3" + strings.Replace(trieStatCounters, "gets =", "puts =", 1),
		"a counter no int":        "Basic info: x\nMain:\n\tPrefixes: 3" + strings.Replace(trieStatCounters, "= 1528", "= -1528", 1),
		"an indented counter":     "Basic info: x\nMain:\n\tPrefixes: 3" + strings.Replace(trieStatCounters, "gets =", "\tgets =", 1),
		"a blank in the counters": "Basic info: x\nMain:\n\tPrefixes: 3" + strings.Replace(trieStatCounters, "gets = 1528\n", "gets = 1528\n\n", 1),
		"dashes not the kernel's": "Basic info: x\nMain:\n\tPrefixes: 3" + strings.Replace(trieStatCounters, "---------", "----", 1),
		"a table in the counters": "Basic info: x\nMain:\n\tPrefixes: 3" + strings.Replace(trieStatCounters, "gets = 1528", "Id 100:", 1),
	} {
		if got, err := parseTrieStat([]byte(text)); !errors.Is(err, errTrieStat) {
			t.Errorf("%s: got %v, %v; want errTrieStat", name, got, err)
		}
	}
}

func FuzzParseTrieStat(f *testing.F) {
	f.Add([]byte(trieStat))
	f.Add([]byte("Basic info: x\nId -1:\n\tPrefixes: 1\n"))
	f.Add([]byte(strings.ReplaceAll(trieStat, "  kB\n", "  kB\n"+trieStatCounters) + trieStatCounters))
	f.Fuzz(func(t *testing.T, b []byte) {
		tables, err := parseTrieStat(b)
		if err != nil {
			return
		}
		for _, tb := range tables {
			if tb.id == 0 {
				t.Fatalf("table 0 accepted from %q", b)
			}
		}
		// Every line that names a table made one.
		named := 0
		for _, line := range strings.Split(string(b), "\n") {
			l := strings.TrimSpace(line)
			if strings.HasSuffix(l, ":") && (strings.HasPrefix(l, "Id") || strings.HasPrefix(l, "Main") || strings.HasPrefix(l, "Local")) {
				named++
			}
		}
		if named != len(tables) {
			t.Fatalf("%d lines name a table, %d tables from %q", named, len(tables), b)
		}
	})
}
