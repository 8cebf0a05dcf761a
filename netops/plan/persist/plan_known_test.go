package persist_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netpanel/netpanel/netops/plan/persist"
)

// TestPreviewOfAMadeFileDeletedDuringItsGenerationCreatesIt: the plan
// takes a made file the files on disk held as made, when the generation
// began, as unchanged without reading it; deleted during the generation,
// the Load after the plan no longer holds it, and the preview must plan
// it again, as a plan that reads every file does: create it.
func TestPreviewOfAMadeFileDeletedDuringItsGenerationCreatesIt(t *testing.T) {
	c, sel, src, m := madeFileDeletedAtNextGeneration(t)
	got, err := m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if !src.moved {
		t.Fatal("the file was not deleted during the generation: the test tests nothing")
	}
	created := false
	for _, ch := range got.Plan.Changes {
		created = created || ch.Rel == "10-eth1.network" && ch.Old == nil && ch.New != nil
	}
	if !created {
		t.Fatalf("the preview does not create the file deleted during its generation: %d changes", len(got.Plan.Changes))
	}
	want, err := persist.New(c.opts, c.store, c.tables.Load).Uncached().Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	samePreview(t, "a made file deleted during the generation", c.opts.NetworkDir, got, want)
}

// madeFileDeletedAtNextGeneration is a saved churn whose uncached
// manager's next preview of sel has eth1's file, known as made, deleted
// during its generation (src.moved once it is), which its plan must then
// make again.
func madeFileDeletedAtNextGeneration(t *testing.T) (*churn, persist.Selection, *movingSource, *persist.Manager) {
	t.Helper()
	c, sel := savedChurn(t, 5)
	path := filepath.Join(c.opts.NetworkDir, "10-eth1.network")
	src := &movingSource{Store: c.store, onLinks: true}
	m := persist.New(c.opts, src, c.tables.Load).Uncached() // makes every file: each is known
	if p, err := m.Preview(sel); err != nil || len(p.Plan.Changes) != 0 {
		t.Fatalf("after the save: %v, changes %d", err, len(p.Plan.Changes))
	}
	src.calls, src.at = 0, 2 // the links read for the generation, after the files on disk
	src.move = func() {
		if err := os.Remove(path); err != nil {
			t.Error(err)
		}
	}
	return c, sel, src, m
}
