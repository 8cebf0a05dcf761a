package rttables

import (
	"slices"
	"sync"
	"testing"
)

func TestNameFallsBackToDecimal(t *testing.T) {
	tabs := New(Entry{ID: 0, Name: "unspec"}, Entry{ID: 100, Name: "wan"})
	tests := []struct {
		name string
		id   uint32
		want string
	}{
		{"main is built in", 254, "main"},
		{"local is built in", 255, "local"},
		{"default is built in", 253, "default"},
		{"a file name is used", 100, "wan"},
		{"table 0 is named only by a file", 0, "unspec"},
		{"table 252 has no name in iproute2", 252, "252"},
		{"an unknown table prints as its number", 4294967295, "4294967295"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tabs.Name(tt.id); got != tt.want {
				t.Errorf("Name(%d) = %q, want %q", tt.id, got, tt.want)
			}
		})
	}
	if got := New().Name(0); got != "0" {
		t.Errorf("without files Name(0) = %q, want \"0\" as ip prints it", got)
	}
}

func TestIDResolvesLikeTheIpCommandLine(t *testing.T) {
	tabs := New(Entry{ID: 100, Name: "wan"}, Entry{ID: 200, Name: "1000"})
	tests := []struct {
		name   string
		in     string
		want   uint32
		wantOK bool
	}{
		{"a built-in name", "main", 254, true},
		{"a file name", "wan", 100, true},
		{"a decimal number", "1000", 200, true}, // a name wins over a number
		{"a plain decimal", "300", 300, true},
		{"hex with 0x", "0x10", 16, true},
		{"hex with 0X", "0X1f", 31, true},
		{"leading zero is octal as in strtoul", "010", 8, true},
		{"the largest table id", "4294967295", 4294967295, true},
		{"zero", "0", 0, true},
		{"beyond 32 bits", "4294967296", 0, false},
		{"bad octal digit", "08", 0, false},
		{"empty", "", 0, false},
		{"signs are not numbers", "+5", 0, false},
		{"spaces are not trimmed", " 5", 0, false},
		{"all is a view, not a table", "all", 0, false},
		{"unknown name", "nope", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tabs.ID(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ID(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestLaterEntriesWinAndShadowedNamesStillResolve(t *testing.T) {
	tabs := New(Entry{ID: 254, Name: "mymain"}, Entry{ID: 5, Name: "a"}, Entry{ID: 5, Name: "b"})
	if got := tabs.Name(254); got != "mymain" {
		t.Errorf("Name(254) = %q, want the file's mymain", got)
	}
	if got := tabs.Name(5); got != "b" {
		t.Errorf("Name(5) = %q, want the later b", got)
	}
	for _, name := range []string{"main", "mymain"} {
		if id, ok := tabs.ID(name); !ok || id != 254 {
			t.Errorf("ID(%q) = %d, %v; want 254", name, id, ok)
		}
	}
	if id, ok := tabs.ID("a"); !ok || id != 5 {
		t.Errorf("ID(a) = %d, %v; want 5 as ip still resolves it", id, ok)
	}
}

func TestDuplicateNameResolvesToTheLowestHashChain(t *testing.T) {
	// iproute2 walks hash chains 0..255 (id & 255), newest first in each.
	tests := []struct {
		name    string
		entries []Entry
		lookup  string
		want    uint32
	}{
		{"lower chain wins over a later entry", []Entry{{ID: 3, Name: "x"}, {ID: 2, Name: "x"}}, "x", 2},
		{"id 300 sits in chain 44, before id 100", []Entry{{ID: 100, Name: "x"}, {ID: 300, Name: "x"}}, "x", 300},
		{"in the same chain the newer entry wins", []Entry{{ID: 7, Name: "x"}, {ID: 263, Name: "x"}}, "x", 263},
		{"a file naming 255 main leaves main at 254", []Entry{{ID: 255, Name: "main"}}, "main", 254},
		{"a file naming 1 main moves main to 1", []Entry{{ID: 1, Name: "main"}}, "main", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := New(tt.entries...).ID(tt.lookup); !ok || got != tt.want {
				t.Errorf("ID(%q) = %d, %v; want %d", tt.lookup, got, ok, tt.want)
			}
		})
	}
}

func TestEntriesAreSortedOnePerID(t *testing.T) {
	tabs := New(Entry{ID: 1000, Name: "big"}, Entry{ID: 0, Name: "unspec"}, Entry{ID: 254, Name: "mymain", Source: "f:1"})
	got := tabs.Entries()
	want := []Entry{
		{ID: 0, Name: "unspec"}, {ID: 253, Name: "default", Source: BuiltinSource},
		{ID: 254, Name: "mymain", Source: "f:1"}, {ID: 255, Name: "local", Source: BuiltinSource},
		{ID: 1000, Name: "big"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Entries() = %v\nwant %v", got, want)
	}
	got[0].Name = "changed"
	if tabs.Entries()[0].Name != "unspec" {
		t.Error("changing the returned slice changed the snapshot")
	}
}

func TestWithReturnsANewSnapshotAndLeavesTheOldOne(t *testing.T) {
	base := New(Entry{ID: 100, Name: "wan"})
	demo := base.With(Entry{ID: 100, Name: "demo-wan"}, Entry{ID: 42, Name: "answer"})
	if got := demo.Name(100); got != "demo-wan" {
		t.Errorf("demo Name(100) = %q, want demo-wan", got)
	}
	if id, ok := demo.ID("answer"); !ok || id != 42 {
		t.Errorf("demo ID(answer) = %d, %v", id, ok)
	}
	if got := base.Name(100); got != "wan" {
		t.Errorf("base Name(100) = %q after With, want wan", got)
	}
	if _, ok := base.ID("answer"); ok {
		t.Error("base learned a name added by With")
	}
}

func TestTablesAreSafeForConcurrentReaders(t *testing.T) {
	tabs := New(Entry{ID: 100, Name: "wan"})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if tabs.Name(100) != "wan" || len(tabs.Entries()) != 4 {
					t.Error("inconsistent snapshot")
					return
				}
				tabs.ID("wan")
				tabs.With(Entry{ID: 1, Name: "x"})
			}
		})
	}
	wg.Wait()
}
