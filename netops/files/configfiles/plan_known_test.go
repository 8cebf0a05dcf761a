package configfiles

import (
	"testing"

	"golang.org/x/sys/unix"
)

// PlanKnown leaves out a file the caller knows holds what is wanted
// without reading it (a FIFO there would fail the read), and reads and
// plans every other file as Plan does.
func TestPlanKnownLeavesOutKnownFilesUnread(t *testing.T) {
	e := newEnv(t)
	abs, err := e.l.Abs("10-known.network")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(abs, 0o644); err != nil {
		t.Fatal(err)
	}
	e.put(t, "20-changed.network", ownedFile("[Match]\nName=eth1\n"), 0o644)
	files := map[string][]byte{
		"10-known.network":   []byte(ownedFile("[Match]\nName=eth0\n")),
		"20-changed.network": []byte(ownedFile("[Match]\nName=eth9\n")),
	}
	if _, err := e.l.Plan(files, nil, OwnedByHeader(header), nil); err == nil {
		t.Fatal("Plan read a FIFO without an error: the test tests nothing")
	}
	asked := map[string]bool{}
	p, err := e.l.PlanKnown(files, nil, OwnedByHeader(header), nil, func(rel string, data []byte) bool {
		asked[rel] = true
		return rel == "10-known.network" && string(data) == string(files[rel])
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := rels(p.Changes); got != "20-changed.network" || !asked["20-changed.network"] {
		t.Fatalf("changes %s, asked %v: want the unknown file planned", got, asked)
	}
}
