package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func openTemp(t *testing.T) (*Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

func appendAll(t *testing.T, l *Log, es ...Entry) {
	t.Helper()
	for _, e := range es {
		if err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
}

// sample is a short session: an admin logs in, changes a route, fails one,
// a stranger fails to log in, a token is used.
func sample() []Entry {
	return []Entry{
		{Time: t0, User: "alice", Client: "192.0.2.10:5100", Action: ActionLogin, Result: ResultOK},
		{Time: t0.Add(1 * time.Minute), User: "alice", Client: "192.0.2.10:5100", Action: ActionChange,
			Detail: "add route 10.9.0.0/16", Command: "ip route add 10.9.0.0/16 via 10.1.0.2 dev eth0", Result: ResultOK},
		{Time: t0.Add(2 * time.Minute), User: "alice", Client: "192.0.2.10:5100", Action: ActionChange,
			Detail: "delete address", Command: "ip address del 10.1.0.1/24 dev eth0", Result: "Cannot assign requested address"},
		{Time: t0.Add(3 * time.Minute), User: "mallory", Client: "198.51.100.7:40000", Action: ActionLoginFailed, Result: "wrong password"},
		{Time: t0.Add(4 * time.Minute), User: "ci", Client: "203.0.113.5:1234", Action: ActionTokenUse, Detail: "GET /api/routes", Result: ResultOK},
	}
}

func times(es []Entry) []int {
	var out []int
	for _, e := range es {
		out = append(out, int(e.Time.Sub(t0)/time.Minute))
	}
	return out
}

func TestReadReturnsMatchingEntriesNewestFirst(t *testing.T) {
	l, _ := openTemp(t)
	appendAll(t, l, sample()...)
	for _, c := range []struct {
		name string
		f    Filter
		want []int // minutes after t0
	}{
		{"no filter returns everything newest first", Filter{}, []int{4, 3, 2, 1, 0}},
		{"a user filter keeps that user's entries", Filter{User: "alice"}, []int{2, 1, 0}},
		{"a user filter is exact, not a prefix", Filter{User: "ali"}, nil},
		{"an action filter keeps that action", Filter{Action: ActionChange}, []int{2, 1}},
		{"text matches the command case-insensitively", Filter{Text: "IP ROUTE ADD"}, []int{1}},
		{"text matches the result", Filter{Text: "cannot assign"}, []int{2}},
		{"text matches the client address", Filter{Text: "198.51.100"}, []int{3}},
		{"text matches the detail", Filter{Text: "/api/"}, []int{4}},
		{"text does not match the user name", Filter{Text: "mallory"}, nil},
		{"since keeps entries at or after the time", Filter{Since: t0.Add(3 * time.Minute)}, []int{4, 3}},
		{"limit keeps the newest", Filter{Limit: 2}, []int{4, 3}},
		{"limit applies after the other filters", Filter{User: "alice", Limit: 1}, []int{2}},
		{"filters combine", Filter{User: "alice", Action: ActionChange, Text: "eth0"}, []int{2, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := l.Read(c.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(times(got), c.want) {
				t.Errorf("got minutes %v, want %v", times(got), c.want)
			}
		})
	}
}

func TestEntriesRoundTripWithEveryField(t *testing.T) {
	l, _ := openTemp(t)
	want := sample()[2]
	want.Detail = "multi\nline \"quoted\" <detail>"
	appendAll(t, l, want)
	got, err := l.Read(Filter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("read %v, %v", got, err)
	}
	if !got[0].Time.Equal(want.Time) {
		t.Errorf("time %v, want %v", got[0].Time, want.Time)
	}
	got[0].Time = want.Time
	if got[0] != want {
		t.Errorf("got %+v\nwant %+v", got[0], want)
	}
}

func TestAppendFillsInTheTimeAndRequiresAnAction(t *testing.T) {
	l, _ := openTemp(t)
	before := time.Now()
	appendAll(t, l, Entry{Action: ActionLogout, User: "alice"})
	got, _ := l.Read(Filter{})
	if len(got) != 1 || got[0].Time.Before(before) || time.Since(got[0].Time) > time.Minute {
		t.Errorf("entry %+v has no current time", got)
	}
	if err := l.Append(Entry{User: "alice"}); err == nil {
		t.Error("an entry without an action was accepted")
	}
}

func TestTheFileIsPrivate(t *testing.T) {
	t.Run("a new log is created 0600", func(t *testing.T) {
		_, path := openTemp(t)
		assertMode(t, path, 0o600)
	})
	t.Run("an existing world-readable log is tightened to 0600", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.log")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil { // umask may have narrowed it
			t.Fatal(err)
		}
		l, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		assertMode(t, path, 0o600)
	})
	t.Run("a symlink in place of the log is refused", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "elsewhere")
		if err := os.WriteFile(target, []byte("keep\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "audit.log")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if l, err := Open(link); err == nil {
			l.Close()
			t.Fatal("opened a symlink")
		}
		assertMode(t, target, 0o644)
	})
	t.Run("a directory in place of the log is refused", func(t *testing.T) {
		if l, err := Open(t.TempDir()); err == nil {
			l.Close()
			t.Fatal("opened a directory")
		}
	})
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("mode %v, want %v", got, want)
	}
}

func TestATornLineIsSkippedAndCounted(t *testing.T) {
	l, path := openTemp(t)
	appendAll(t, l, sample()[:2]...)
	l.Close()
	// A crash in the middle of a write leaves half a line at the end.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2026-03-01T12:05:00Z","user":"al`)
	f.Close()

	l, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	res, err := l.Query(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(times(res.Entries), []int{1, 0}) || res.Malformed != 1 {
		t.Fatalf("entries %v, malformed %d; want [1 0] and 1", times(res.Entries), res.Malformed)
	}

	// The next entry must land on a line of its own, not glued to the torn one.
	appendAll(t, l, sample()[4])
	res, err = l.Query(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(times(res.Entries), []int{4, 1, 0}) || res.Malformed != 1 {
		t.Fatalf("after appending: entries %v, malformed %d; want [4 1 0] and 1", times(res.Entries), res.Malformed)
	}
	data, _ := os.ReadFile(path)
	if !bytes.Contains(data, []byte(`"user":"al`+"\n")) {
		t.Errorf("the torn line was rewritten:\n%s", data)
	}
}

func TestForeignAndOverlongLinesAreSkipped(t *testing.T) {
	var buf bytes.Buffer
	buf.WriteString("not json\n\n{\"time\":\"2026-03-01T12:00:00Z\"}\n") // garbage, blank, no action
	buf.WriteString(`{"time":"2026-03-01T12:00:00Z","action":"login","detail":"` + strings.Repeat("x", 200) + "\"}\n")
	buf.WriteString(`{"time":"2026-03-01T12:01:00Z","action":"logout"}` + "\n")
	res, err := query(bytes.NewReader(buf.Bytes()), int64(buf.Len()), Filter{}, 16, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 1 || res.Entries[0].Action != ActionLogout || res.Malformed != 3 {
		t.Errorf("entries %+v, malformed %d; want the logout and 3", res.Entries, res.Malformed)
	}
}

func TestHugeFieldsAreTruncatedSoTheLineStaysReadable(t *testing.T) {
	l, _ := openTemp(t)
	appendAll(t, l, Entry{Action: ActionChange, Result: strings.Repeat("\x01", 10<<20)})
	res, err := l.Query(Filter{})
	if err != nil || len(res.Entries) != 1 || res.Malformed != 0 {
		t.Fatalf("entries %d, malformed %d, err %v", len(res.Entries), res.Malformed, err)
	}
	if r := res.Entries[0].Result; len(r) > maxField+32 || !strings.HasSuffix(r, "(truncated)") {
		t.Errorf("result of %d bytes not truncated", len(r))
	}
}

func TestConcurrentAppendsKeepEveryLineIntact(t *testing.T) {
	l, path := openTemp(t)
	const writers, each = 16, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := Entry{User: fmt.Sprintf("u%d", w), Action: ActionChange, Detail: fmt.Sprintf("%d/%d %s", w, i, strings.Repeat("d", 3000))}
				if i%2 == 0 {
					e.Action = ActionTokenUse // mix synced and unsynced writes
				}
				if err := l.Append(e); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line does not parse (%v): %.80q", err, sc.Text())
		}
		seen[strings.Fields(e.Detail)[0]] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct lines, want %d", len(seen), writers*each)
	}
	res, err := l.Query(Filter{})
	if err != nil || len(res.Entries) != writers*each || res.Malformed != 0 {
		t.Errorf("Query: %d entries, %d malformed, err %v", len(res.Entries), res.Malformed, err)
	}
}

func TestReadingAcrossBlockBoundariesMatchesAForwardSplit(t *testing.T) {
	content := "a\nbb\n\nccc\ndddd\neeeee\nf"
	for _, block := range []int{1, 2, 3, 4, 5, 7, 64} {
		t.Run(fmt.Sprintf("block of %d bytes", block), func(t *testing.T) {
			got := backwardLines(t, []byte(content), block, 1<<20)
			want := []string{"f", "eeeee", "dddd", "ccc", "bb", "a"}
			if !slices.Equal(got, want) {
				t.Errorf("lines %q, want %q", got, want)
			}
		})
	}
}

func TestReadingStopsAtTheLimitWithoutScanningTheRest(t *testing.T) {
	var buf bytes.Buffer
	buf.WriteString("garbage before the newest entries\n")
	for i := range 10 {
		fmt.Fprintf(&buf, `{"time":"2026-03-01T12:%02d:00Z","action":"login"}`+"\n", i)
	}
	res, err := query(bytes.NewReader(buf.Bytes()), int64(buf.Len()), Filter{Limit: 3}, 8, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(times(res.Entries), []int{9, 8, 7}) || res.Malformed != 0 {
		t.Errorf("entries %v, malformed %d", times(res.Entries), res.Malformed)
	}
}

func TestAClosedLogRefusesWork(t *testing.T) {
	l, _ := openTemp(t)
	l.Close()
	if err := l.Append(Entry{Action: ActionLogin}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if _, err := l.Read(Filter{}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// backwardLines collects scanBackward's lines; "<overlong>" stands for nil.
func backwardLines(t testing.TB, data []byte, block, maxLen int) []string {
	var out []string
	err := scanBackward(bytes.NewReader(data), int64(len(data)), block, maxLen, func(line []byte) bool {
		if line == nil {
			out = append(out, "<overlong>")
		} else {
			out = append(out, string(line))
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
