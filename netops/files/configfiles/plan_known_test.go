package configfiles

import (
	"crypto/sha256"
	"errors"
	"os"
	"testing"
	"time"

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
	p, err := e.l.PlanKnown(files, nil, OwnedByHeader(header), nil, func(rel string, data []byte) ([sha256.Size]byte, bool) {
		asked[rel] = true
		return sha256.Sum256(data), rel == "10-known.network" && string(data) == string(files[rel])
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := rels(p.Changes); got != "20-changed.network" || !asked["20-changed.network"] {
		t.Fatalf("changes %s, asked %v: want the unknown file planned", got, asked)
	}
}

// A file PlanKnown left out unread is read again by Apply: when it no
// longer holds what the caller knew (the caller's knowledge missed an
// edit), Apply refuses the plan as stale and writes nothing.
func TestApplyRefusesAKnownFileChangedSinceThePlan(t *testing.T) {
	e := newEnv(t)
	known := ownedFile("[Match]\nName=eth0\n")
	e.put(t, "10-known.network", known, 0o644)
	e.put(t, "20-changed.network", ownedFile("[Match]\nName=eth1\n"), 0o644)
	files := map[string][]byte{
		"10-known.network":   []byte(known),
		"20-changed.network": []byte(ownedFile("[Match]\nName=eth9\n")),
	}
	p, err := e.l.PlanKnown(files, nil, OwnedByHeader(header), nil, func(rel string, data []byte) ([sha256.Size]byte, bool) {
		return sha256.Sum256(data), rel == "10-known.network"
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := rels(p.Changes); got != "20-changed.network" {
		t.Fatalf("changes %s, want 20-changed.network alone", got)
	}
	e.put(t, "10-known.network", ownedFile("[Match]\nName=eth7\n"), 0o644)
	_, err = e.l.Apply(p, time.Now())
	var se *StaleError
	if !errors.As(err, &se) || se.Rel != "10-known.network" {
		t.Fatalf("Apply over a known file changed since the plan: %v, want a StaleError for it", err)
	}
	abs, _ := e.l.Abs("20-changed.network")
	if got, err := os.ReadFile(abs); err != nil || string(got) != ownedFile("[Match]\nName=eth1\n") {
		t.Fatalf("a refused Apply wrote 20-changed.network: %q, %v", got, err)
	}
}

// A plan with no changes but files left out unread is no proof the disk
// holds it: Apply (and Verify) read them, and refuse the plan as stale
// when one changed, naming it as a file the plan did not read.
func TestApplyNothingRefusesAKnownFileChanged(t *testing.T) {
	e := newEnv(t)
	known := ownedFile("[Match]\nName=eth0\n")
	e.put(t, "10-known.network", known, 0o644)
	files := map[string][]byte{"10-known.network": []byte(known)}
	p, err := e.l.PlanKnown(files, nil, OwnedByHeader(header), nil, func(_ string, data []byte) ([sha256.Size]byte, bool) { return sha256.Sum256(data), true })
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 0 || len(p.Unread) != 1 {
		t.Fatalf("changes %s, %d unread: want none and one", rels(p.Changes), len(p.Unread))
	}
	if _, err := e.l.Apply(p, time.Now()); err != nil {
		t.Fatalf("Apply of a plan the disk holds: %v", err)
	}
	e.put(t, "10-known.network", ownedFile("[Match]\nName=eth7\n"), 0o644)
	for what, err := range map[string]error{"Verify": e.l.Verify(p), "Apply": func() error { _, err := e.l.Apply(p, time.Now()); return err }()} {
		var se *StaleError
		if !errors.As(err, &se) || se.Rel != "10-known.network" || !se.Unread {
			t.Fatalf("%s of no changes over a known file changed: %v, want an Unread StaleError for it", what, err)
		}
	}
}

// PlanKnown takes a known file's digest from the caller, which compared
// it with the disk's, instead of hashing the file again: a preview of
// every link of a million routes hashed each made file three times.
func TestPlanKnownTakesTheCallersDigest(t *testing.T) {
	e := newEnv(t)
	files := map[string][]byte{"10-known.network": []byte(ownedFile("[Match]\nName=eth0\n"))}
	var given [sha256.Size]byte
	given[0] = 1
	p, err := e.l.PlanKnown(files, nil, OwnedByHeader(header), nil, func(string, []byte) ([sha256.Size]byte, bool) { return given, true })
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Unread) != 1 || p.Unread[0].Sum != given {
		t.Fatalf("unread %+v: want 10-known.network with the caller's digest", p.Unread)
	}
}
