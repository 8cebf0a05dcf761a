package persist_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// TestPreviewsSavesAndSummariesAtOnce: previews, saves and summaries of
// what no file describes run at once on one manager (run it with -race)
// while the model holds still; the model, the table names and the files
// change between rounds. Every preview is of the model as it is: its
// files, notices and placements are the uncached preview's, and its
// changes are among the uncached preview's from before the saves (a save
// that ran meanwhile made some files as generated), all of them and its
// digest when none had; every save writes the reviewed plan or refuses
// it cleanly (ErrChanged, a file changed since the plan, nothing to
// save), one at most writes; after each round the manager's preview and
// summary, from what it kept, are again the uncached ones.
func TestPreviewsSavesAndSummariesAtOnce(t *testing.T) {
	c := newChurn(t, 21)
	persist.SetBatchRoutes(t, 8) // several batches
	written, refused, full := 0, 0, 0
	for round := range 12 {
		for range 3 {
			c.change()
		}
		step := fmt.Sprintf("round %d, after %s", round, c.step)
		sel := persist.Selection{Links: c.names()}
		want, err := c.m.Uncached().Preview(sel)
		if err != nil {
			t.Fatalf("%s: the uncached preview: %v", step, err)
		}
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			previews []*persist.Preview
			saves    []error
			failures []string
		)
		fail := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			failures = append(failures, fmt.Sprintf(format, args...))
		}
		for range 2 {
			wg.Go(func() {
				for range 3 {
					p, err := c.m.Preview(sel)
					if err != nil {
						fail("Preview: %v", err)
						return
					}
					mu.Lock()
					previews = append(previews, p)
					mu.Unlock()
				}
			})
			wg.Go(func() {
				_, err := c.m.Save(context.Background(), sel, want.Digest)
				mu.Lock()
				saves = append(saves, err)
				mu.Unlock()
			})
		}
		wg.Go(func() {
			for range 3 {
				if _, err := c.m.ForeignSummary(3); err != nil {
					fail("ForeignSummary: %v", err)
				}
			}
		})
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("%s: %s", step, strings.Join(failures, "; "))
		}
		ok := 0
		for _, err := range saves {
			switch {
			case err == nil:
				ok++
				written++
			case errors.Is(err, persist.ErrChanged) || errors.Is(err, persist.ErrFilesChanging) || errors.Is(err, configfiles.ErrStale) || strings.HasPrefix(err.Error(), "nothing to save"):
				refused++
			default:
				t.Fatalf("%s: Save: %v, want a clean refusal", step, err)
			}
		}
		if ok > 1 {
			t.Fatalf("%s: %d saves of one reviewed plan wrote", step, ok)
		}
		for _, p := range previews {
			if p.Digest == want.Digest {
				full++
			}
			partOf(t, step, p, want)
		}
		// What the manager kept through it all is still true.
		got, err := c.m.Preview(sel)
		if err != nil {
			t.Fatal(err)
		}
		after, err := c.m.Uncached().Preview(sel)
		if err != nil {
			t.Fatal(err)
		}
		samePreview(t, step+", once the previews and saves ended", c.opts.NetworkDir, got, after)
		sameForeign(t, step+", once the previews and saves ended", c.m)
	}
	// What the comparisons reached: else they prove little.
	if written == 0 || refused == 0 || full == 0 {
		t.Errorf("%d saves wrote, %d refused, %d previews were the whole plan before the saves", written, refused, full)
	}
	t.Logf("%d saves wrote, %d refused, %d previews were the whole plan before the saves", written, refused, full)
}

// partOf fails unless p, a preview made while a save of want's plan may
// have run, is of want's model: its files, notices and placements are
// want's, its changes among want's, and all of them (with its digest)
// when it shows every one.
func partOf(t *testing.T, step string, p, want *persist.Preview) {
	t.Helper()
	if p.Target != want.Target || !reflect.DeepEqual(p.Notices, want.Notices) || !reflect.DeepEqual(p.Placements, want.Placements) {
		t.Fatalf("%s: a preview made during a save has other notices or placements:\n got %v %v\nwant %v %v", step, p.Notices, p.Placements, want.Notices, want.Placements)
	}
	for rel, data := range p.Files {
		if w, ok := want.Files[rel]; !ok || !bytes.Equal(w, data) {
			t.Fatalf("%s: a preview made during a save made %s otherwise:\n%s\nwant\n%s", step, rel, data, w)
		}
	}
	wantChanges := map[string]configfiles.Change{}
	for _, ch := range want.Plan.Changes {
		wantChanges[ch.Rel] = ch
	}
	for _, ch := range p.Plan.Changes {
		w, ok := wantChanges[ch.Rel]
		if !ok || !bytes.Equal(ch.Old, w.Old) || !bytes.Equal(ch.New, w.New) || (ch.Old == nil) != (w.Old == nil) || (ch.New == nil) != (w.New == nil) {
			t.Fatalf("%s: a preview made during a save changes %s, which the plan before it does not, or otherwise:\n%s\n->\n%s", step, ch.Rel, ch.Old, ch.New)
		}
	}
	if len(p.Plan.Changes) == len(want.Plan.Changes) && p.Digest != want.Digest {
		t.Fatalf("%s: a preview made during a save shows every change of the plan before it, with digest %s, not %s", step, p.Digest, want.Digest)
	}
}
