package persist_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"golang.org/x/sys/unix"
)

// TestSaveRefusesAMadeFileTheLoaderMissed: a save leaves out, unread,
// the made files the Loader says are on disk as made (a kept .network,
// a known .netdev). An edit the Loader misses (a write through a shared
// mmap, which inotify does not report) must not let the save report
// success over a file that is not what netpanel believes it holds: the
// save reads them again and refuses (review F2).
func TestSaveRefusesAMadeFileTheLoaderMissed(t *testing.T) {
	for _, name := range []string{"10-eth1.network", "10-br0.netdev"} {
		t.Run(name, func(t *testing.T) {
			c, sel := savedChurn(t, 7)
			path := filepath.Join(c.opts.NetworkDir, name)
			if _, err := c.m.Config(); err != nil { // a Load inotify vouches for
				t.Fatal(err)
			}
			mmapEdit(t, path)
			edited, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := c.m.Config()
			if err != nil {
				t.Fatal(err)
			}
			if sum, ok := cfg.Sum(path); !ok || sum == sha256.Sum256(edited) {
				t.Fatal("the Loader saw the edit: the test tests nothing")
			}
			r := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
				Dst: netip.MustParsePrefix("10.77.0.0/24"), Gateway: netip.MustParseAddr("10.104.0.7"), LinkIndex: 6} // eth3
			c.update(func(a *model.Applier) { a.Route(r, false, false) })
			p, err := c.m.Preview(sel)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range p.Plan.Changes {
				if ch.Rel == name {
					t.Fatalf("the preview plans %s: the Loader did not miss the edit, the test tests nothing", name)
				}
			}
			if len(p.Plan.Changes) == 0 {
				t.Fatal("nothing to save: the test tests nothing")
			}
			eth3 := filepath.Join(c.opts.NetworkDir, "10-eth3.network")
			eth3Before, err := os.ReadFile(eth3)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.m.Save(context.Background(), sel, p.Digest)
			if !errors.Is(err, persist.ErrChanged) && !errors.Is(err, configfiles.ErrStale) {
				t.Fatalf("save over %s edited unseen by the Loader: err %v, want it refused as changed", name, err)
			}
			var se *configfiles.StaleError
			if errors.As(err, &se) && (se.Rel != name || !strings.Contains(err.Error(), name+" changed since netpanel last read it")) {
				t.Errorf("the refusal names %q: want %s as changed since netpanel last read it", err, name)
			}
			for p, want := range map[string][]byte{path: edited, eth3: eth3Before} {
				if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, want) {
					t.Errorf("a refused save changed %s (%v)", p, err)
				}
			}
			saveAfterRefusal(t, c, sel, name, edited)
		})
	}
}

// TestSaveNothingRefusesAMadeFileTheLoaderMissed: a preview with no
// changes, whose made files the Loader says are on disk as made, is not
// saved as "nothing to save" when one was edited unseen by the Loader:
// the save reads them and refuses, and the next preview plans the file
// (fsfix review F1, F2).
func TestSaveNothingRefusesAMadeFileTheLoaderMissed(t *testing.T) {
	c, sel := savedChurn(t, 7)
	name := "10-eth1.network"
	path := filepath.Join(c.opts.NetworkDir, name)
	if _, err := c.m.Config(); err != nil {
		t.Fatal(err)
	}
	mmapEdit(t, path)
	edited, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Plan.Changes) != 0 || len(p.Plan.Unread) == 0 {
		t.Fatalf("%d changes, %d unread: want none and some, else the test tests nothing", len(p.Plan.Changes), len(p.Plan.Unread))
	}
	_, err = c.m.Save(context.Background(), sel, p.Digest)
	var se *configfiles.StaleError
	if !errors.As(err, &se) || se.Rel != name {
		t.Fatalf("save of no changes over %s edited unseen by the Loader: %v, want it refused as stale", name, err)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, edited) {
		t.Fatalf("a refused save changed %s (%v)", path, err)
	}
	saveAfterRefusal(t, c, sel, name, edited)
}

// saveAfterRefusal: after a save refused for name, edited unseen by the
// Loader, the next preview plans name from its edited bytes, and its save
// puts name back as made.
func saveAfterRefusal(t *testing.T, c *churn, sel persist.Selection, name string, edited []byte) {
	t.Helper()
	p, err := c.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	var planned *configfiles.Change
	for i, ch := range p.Plan.Changes {
		if ch.Rel == name {
			planned = &p.Plan.Changes[i]
		}
	}
	if planned == nil || !bytes.Equal(planned.Old, edited) {
		t.Fatalf("the preview after the refusal does not plan %s from its edited bytes (%v): the Loader still vouches for what it read before", name, planned != nil)
	}
	if _, err := c.m.Save(context.Background(), sel, p.Digest); err != nil {
		t.Fatalf("save after the refusal: %v", err)
	}
	path := filepath.Join(c.opts.NetworkDir, name)
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, planned.New) {
		t.Fatalf("%s after the save is not as made (%v)", name, err)
	}
}

// mmapEdit changes a byte of path through a shared mapping: no inotify
// event tells of it. The file stays open until the test ends (closing a
// descriptor open for writing is an event).
func mmapEdit(t *testing.T, path string) {
	t.Helper()
	data := mapShared(t, path)
	i := len(data) - 2 // the last line's last byte
	if data[i] == '7' {
		data[i] = '8'
	} else {
		data[i] = '7'
	}
	if err := unix.Munmap(data); err != nil {
		t.Fatal(err)
	}
}

// TestSaveRefusalReadsEveryUnreadFileAgain: when two files a save left
// out unread were edited unseen by the Loader, one refused save is
// enough: the Loader reads both again, and the next preview plans both
// from their edited bytes, not one per refused save (review F3).
func TestSaveRefusalReadsEveryUnreadFileAgain(t *testing.T) {
	c, sel := savedChurn(t, 7)
	names := []string{"10-eth1.network", "10-eth2.network"}
	// Each file's page is made dirty through a shared mapping (its
	// identity moves, its bytes do not); past the Loader's racy window (a
	// second) a Load reads them again, then takes them on their identity,
	// which a second write to the page still dirty leaves as it was: only
	// the Loader's distrust reads them again.
	maps := map[string][]byte{}
	for _, name := range names {
		maps[name] = dirtyPage(t, filepath.Join(c.opts.NetworkDir, name))
	}
	time.Sleep(1100 * time.Millisecond)
	now := time.Now()
	if err := os.Chtimes(filepath.Join(c.opts.NetworkDir, "10-eth3.network"), now, now); err != nil {
		t.Fatal(err) // an event: the next Load stats the files
	}
	if _, err := c.m.Config(); err != nil {
		t.Fatal(err)
	}
	edited := map[string][]byte{}
	for _, name := range names {
		data := maps[name]
		i := len(data) - 2 // the last line's last byte
		if data[i] == '7' {
			data[i] = '8'
		} else {
			data[i] = '7'
		}
		edited[name] = bytes.Clone(data)
	}
	p, err := c.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Plan.Changes) != 0 || len(p.Plan.Unread) < len(names) {
		t.Fatalf("%d changes, %d unread: want none and both, else the test tests nothing", len(p.Plan.Changes), len(p.Plan.Unread))
	}
	_, err = c.m.Save(context.Background(), sel, p.Digest)
	var se *configfiles.StaleError
	if !errors.As(err, &se) || !se.Unread {
		t.Fatalf("save over two files edited unseen by the Loader: %v, want it refused as stale", err)
	}
	if p, err = c.m.Preview(sel); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		var planned *configfiles.Change
		for i, ch := range p.Plan.Changes {
			if ch.Rel == name {
				planned = &p.Plan.Changes[i]
			}
		}
		if planned == nil || !bytes.Equal(planned.Old, edited[name]) {
			t.Errorf("the preview after one refusal does not plan %s from its edited bytes (%v): the Loader still vouches for what it read before", name, planned != nil)
		}
	}
}

// dirtyPage maps path shared and writes its bytes back as they were: the
// page is dirty, so later writes through the mapping (the test's) move
// neither mtime nor ctime. The mapping lasts until the test ends.
func dirtyPage(t *testing.T, path string) []byte {
	t.Helper()
	data := mapShared(t, path)
	t.Cleanup(func() { unix.Munmap(data) })
	b := data[0]
	data[0] = b ^ 1
	data[0] = b
	return data
}

// mapShared maps path shared, read and write; the file stays open until
// the test ends (closing a descriptor open for writing is an event).
func mapShared(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
