package app

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/netpanel/netpanel/netops/app/audit"
	"github.com/netpanel/netpanel/netops/files/rttables"
)

// memAudit keeps entries in memory; fail makes every Append fail.
type memAudit struct {
	mu      sync.Mutex
	entries []audit.Entry
	fail    error
}

func (m *memAudit) Append(e audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.entries = append(m.entries, e)
	return nil
}

var alice = Identity{User: "alice", Role: RoleAdmin, Client: "192.0.2.7"}

// Every edit of a table name is audited once, with the shell command and
// the result, and what is on disk afterwards is published.
func TestTableEditsAreAuditedAndPublished(t *testing.T) {
	dir := t.TempDir()
	owned, err := rttables.OpenOwned(filepath.Join(dir, "rt_tables.d"))
	if err != nil {
		t.Fatal(err)
	}
	al := &memAudit{}
	var published *rttables.Tables
	tables := NewTables(owned, []string{dir}, func(t *rttables.Tables) { published = t }, NewRecorder(al, nil))

	cmd, err := tables.Add(alice, 100, "wanforce")
	if err != nil || cmd != "echo '100 wanforce' >> "+owned.Path() {
		t.Fatalf("add: %q, %v", cmd, err)
	}
	if id, ok := published.ID("wanforce"); !ok || id != 100 {
		t.Errorf("the new name was not published: %v", published)
	}
	if _, err := tables.Rename(alice, "nosuch", "other"); err == nil {
		t.Error("renaming an unknown table worked")
	}
	if _, err := tables.Delete(alice, "wanforce"); err != nil {
		t.Fatal(err)
	}
	want := []struct{ detail, result string }{
		{"named table add", audit.ResultOK},
		{"named table rename", "not ok"},
		{"named table del", audit.ResultOK},
	}
	if len(al.entries) != len(want) {
		t.Fatalf("%d entries: %+v", len(al.entries), al.entries)
	}
	for i, w := range want {
		e := al.entries[i]
		if e.User != "alice" || e.Client != "192.0.2.7" || e.Action != audit.ActionChange || e.Detail != w.detail || !strings.Contains(e.Command, owned.Path()) {
			t.Errorf("entry %d: %+v", i, e)
		}
		if (w.result == audit.ResultOK) != e.OK() {
			t.Errorf("entry %d result %q, want %s", i, e.Result, w.result)
		}
	}
	if data, _ := os.ReadFile(owned.Path()); strings.Contains(string(data), "wanforce") {
		t.Errorf("the file still names wanforce:\n%s", data)
	}
}

// An audit record that cannot be written is logged, not dropped, and the
// edit it records stands.
func TestAnAuditWriteThatFailsIsLogged(t *testing.T) {
	dir := t.TempDir()
	owned, err := rttables.OpenOwned(filepath.Join(dir, "rt_tables.d"))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	rec := NewRecorder(&memAudit{fail: errors.New("no space left on device")}, slog.New(slog.NewTextHandler(&logged, nil)))
	if _, err := NewTables(owned, []string{dir}, nil, rec).Add(alice, 7, "seven"); err != nil {
		t.Fatalf("the edit failed with the audit log: %v", err)
	}
	if !strings.Contains(logged.String(), "writing the audit log failed") || !strings.Contains(logged.String(), "no space left on device") {
		t.Errorf("the failed write was not logged: %q", logged.String())
	}
}
