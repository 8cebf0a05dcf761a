package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// A file renamed over between open's look at it and its open (a save
// replacing it) is looked at and opened again: read as it is after. One
// replaced at every try is refused, after openTries of them.
func TestReadOfAFileRenamedOverWhileOpened(t *testing.T) {
	for _, c := range []struct {
		name  string
		every bool
	}{{"renamed over once: read as it is after", false}, {"renamed over at every try: refused", true}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "f")
			if err := os.WriteFile(p, []byte("0"), 0o644); err != nil {
				t.Fatal(err)
			}
			calls := 0
			betweenOpens = func(string) {
				if calls > 0 && !c.every {
					return
				}
				calls++
				tmp := filepath.Join(dir, "tmp")
				if err := os.WriteFile(tmp, []byte(strconv.Itoa(calls)), 0o644); err != nil {
					t.Error(err)
				}
				if err := os.Rename(tmp, p); err != nil {
					t.Error(err)
				}
			}
			t.Cleanup(func() { betweenOpens = nil })
			data, err := Read(p)
			if c.every {
				if !errors.Is(err, ErrNotRegular) || calls != openTries {
					t.Fatalf("replaced at every try: %q, %v after %d tries; want refused after %d", data, err, calls, openTries)
				}
				return
			}
			if err != nil || string(data) != "1" {
				t.Fatalf("renamed over once: %q, %v; want the file as renamed over", data, err)
			}
		})
	}
}
