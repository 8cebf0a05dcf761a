package rttables

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseReadsLinesAsIproute2Does(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []Entry // Source is checked separately
	}{
		{"decimal number and name", "100 wan\n", []Entry{{ID: 100, Name: "wan"}}},
		{"hex number with 0x prefix", "0x10 hexy\n", []Entry{{ID: 16, Name: "hexy"}}},
		{"leading zeros stay decimal in files", "010 ten\n", []Entry{{ID: 10, Name: "ten"}}},
		{"table zero can be named", "0 unspec\n", []Entry{{ID: 0, Name: "unspec"}}},
		{"largest id iproute2 reads", "2147483647 top\n", []Entry{{ID: 2147483647, Name: "top"}}},
		{"comments and blank lines are skipped", "# c\n\n   \n\t# indented\n1 a\n", []Entry{{ID: 1, Name: "a"}}},
		{"tabs and spaces around fields", "  \t7\t\tseven \t\n", []Entry{{ID: 7, Name: "seven"}}},
		{"comment after the name", "2 x # the x table\n", []Entry{{ID: 2, Name: "x"}}},
		{"hash inside a name belongs to the name", "1 foo#bar\n", []Entry{{ID: 1, Name: "foo#bar"}}},
		{"CRLF line endings", "3 y\r\n4 z\r\n", []Entry{{ID: 3, Name: "y"}, {ID: 4, Name: "z"}}},
		{"last line without newline", "5 five", []Entry{{ID: 5, Name: "five"}}},
		{"unicode name", "6 Zürich\n", []Entry{{ID: 6, Name: "Zürich"}}},
		{"same id twice keeps both in order", "9 a\n9 b\n", []Entry{{ID: 9, Name: "a"}, {ID: 9, Name: "b"}}},
		{"empty input", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.input), "f")
			if err != nil {
				t.Fatalf("Parse: unexpected error %v", err)
			}
			if !slices.EqualFunc(got, tt.want, sameIDName) {
				t.Errorf("Parse(%q) = %v, want %v", tt.input, got, tt.want)
			}
		})
	}
}

func sameIDName(a, b Entry) bool { return a.ID == b.ID && a.Name == b.Name }

func TestParseReportsBadLinesAndKeepsTheRest(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		wantErr   string // the whole message for line 2 of "rt_tables.d/x.conf"
		wantStops bool
		keep      *Entry // entry still returned from the bad line
	}{
		{"number without a name", "100", `rt_tables.d/x.conf:2: expected "NUMBER NAME", got "100"; ip ignores this line and the rest of the file`, true, nil},
		{"name before number", "wan 100", `rt_tables.d/x.conf:2: expected "NUMBER NAME", got "wan" where the table number should be; ip ignores this line and the rest of the file`, true, nil},
		{"comment in place of the name", "100 # wan", `rt_tables.d/x.conf:2: expected "NUMBER NAME", got "100 # wan"`, false, nil},
		{"uppercase 0X prefix", "0X10 x", `rt_tables.d/x.conf:2: expected "NUMBER NAME", got "0X10" where the table number should be`, false, nil},
		{"bare 0x", "0x x", `rt_tables.d/x.conf:2: expected "NUMBER NAME", got "0x" where the table number should be`, false, nil},
		{"plus sign", "+5 x", `rt_tables.d/x.conf:2: expected "NUMBER NAME", got "+5" where the table number should be`, false, nil},
		{"negative number", "-1 x", `rt_tables.d/x.conf:2: expected "NUMBER NAME", got "-1" where the table number should be`, false, nil},
		{"digits glued to letters", "12abc x", `rt_tables.d/x.conf:2: expected "NUMBER NAME", got "12abc" where the table number should be`, false, nil},
		{"decimal id beyond a C int", "2147483648 x", `rt_tables.d/x.conf:2: table number 2147483648 is out of range: iproute2 reads 0 to 2147483647`, false, nil},
		{"hex id beyond a C int", "0x80000000 x", `rt_tables.d/x.conf:2: table number 0x80000000 is out of range: iproute2 reads 0 to 2147483647`, false, nil},
		{"control character in name", "1 a\x01b", `rt_tables.d/x.conf:2: table name "a\x01b" contains a control or space character`, false, nil},
		{"invalid utf-8 name", "1 \xff", `rt_tables.d/x.conf:2: table name "\xff" is not valid UTF-8`, false, nil},
		{"lone carriage return line", "\r", `rt_tables.d/x.conf:2: blank line or comment that starts with a carriage return or other control spacing; ip ignores this line and the rest of the file`, true, nil},
		{"extra words are ignored like ip does", "7 bad line", `rt_tables.d/x.conf:2: text after the name "bad" is ignored: "line" (start comments with #)`, false, &Entry{ID: 7, Name: "bad"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := "1 before\n" + tt.line + "\n3 after\n"
			got, err := Parse(strings.NewReader(input), "rt_tables.d/x.conf")
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("Parse error = %v, want a *LineError", err)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error = %q\nwant    %q", err.Error(), tt.wantErr)
			}
			if le.Line != 2 || le.Stops != tt.wantStops {
				t.Errorf("LineError{Line: %d, Stops: %v}, want line 2, Stops %v", le.Line, le.Stops, tt.wantStops)
			}
			want := []Entry{{ID: 1, Name: "before"}}
			if tt.keep != nil {
				want = append(want, *tt.keep)
			}
			want = append(want, Entry{ID: 3, Name: "after"})
			if !slices.EqualFunc(got, want, sameIDName) {
				t.Errorf("entries = %v, want %v", got, want)
			}
		})
	}
}

func TestParseNamesTheSourceLineOfEachEntry(t *testing.T) {
	got, err := Parse(strings.NewReader("# head\n100 wan\n\n0x65 lan\n"), "/etc/iproute2/rt_tables")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/etc/iproute2/rt_tables:2", "/etc/iproute2/rt_tables:4"}
	if len(got) != 2 || got[0].Source != want[0] || got[1].Source != want[1] {
		t.Errorf("sources = %v, want %v", got, want)
	}
}

func TestParseJoinsOneErrorPerBadLine(t *testing.T) {
	_, err := Parse(strings.NewReader("x\n1 a\ny\n"), "f")
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Fatalf("error %v: want two joined line errors", err)
	}
	for i, wantLine := range []int{1, 3} {
		if le := joined.Unwrap()[i].(*LineError); le.Line != wantLine {
			t.Errorf("error %d is for line %d, want %d", i, le.Line, wantLine)
		}
	}
}

func TestParseRejectsOverlongLinesWithoutLosingTheNext(t *testing.T) {
	input := "1 " + strings.Repeat("n", 3*maxLineLen) + "\n2 ok\n"
	got, err := Parse(strings.NewReader(input), "f")
	if err == nil || !strings.Contains(err.Error(), "f:1: line longer than") {
		t.Errorf("error = %v, want line 1 too long", err)
	}
	if !slices.EqualFunc(got, []Entry{{ID: 2, Name: "ok"}}, sameIDName) {
		t.Errorf("entries = %v, want only 2 ok", got)
	}
}

func TestParseReportsReadErrors(t *testing.T) {
	r := errReader{data: "1 a\n", err: errors.New("disk on fire")}
	got, err := Parse(&r, "f")
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("error = %v, want the read error", err)
	}
	if len(got) != 1 {
		t.Errorf("entries = %v, want the line read before the error", got)
	}
}

type errReader struct {
	data string
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}
