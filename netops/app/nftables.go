package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/owned"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// NftablesRoot names the nft file in plans, backups and the export.
const NftablesRoot = "nftables"

// NftablesKind is the nft file of the table netpanel owns, for
// persist.Options.Kinds: written to path from the ruleset read reads
// (a dump, counters current). What the file lacks is counted from live,
// the watcher's model, so a monitoring count costs no dump; nil: read.
func NftablesKind(path string, read func() (*nftables.Ruleset, error), live func() *nftables.Ruleset) persist.Kind {
	if live == nil {
		live = func() *nftables.Ruleset {
			rs, err := read()
			if err != nil {
				return nil
			}
			return rs
		}
	}
	return persist.Kind{
		Root: NftablesRoot, Dir: filepath.Dir(path), Name: filepath.Base(path),
		Generate: func() ([]byte, error) {
			rs, err := read()
			if err != nil {
				return nil, err
			}
			text, err := owned.FileAt(rs, path)
			return []byte(text), err
		},
		Owned: func(data []byte) bool { return owned.Owned(data) },
		Unsaved: func(onDisk []byte) (map[string]int, error) {
			rs := live()
			if rs == nil {
				return nil, errors.New("the nftables ruleset cannot be read")
			}
			return map[string]int{"nftables_rule": unsavedRules(rs, onDisk)}, nil
		},
		Install: []string{
			"install -m 0644 -D -t " + filepath.Dir(owned.DefaultPath) + " nftables/*",
			"nft -f " + owned.DefaultPath + "   # now; at boot: the include or unit its header shows",
		},
		Loaded: "the kernel already holds what the file says; at boot the include or unit its header shows loads it",
	}
}

// NftablesFile makes the table netpanel owns survive a reboot: it plans
// the nft file from the live table, saves exactly a reviewed plan and
// restores a backup of it, through the same files, backups and audit as
// the networkd files. Only netpanel's own table is ever written.
type NftablesFile struct {
	files *Files
	kind  persist.Kind
}

// NewNftablesFile saves through files, whose manager was given the kind
// NftablesRoot; nil when it was not.
func NewNftablesFile(files *Files) *NftablesFile {
	k, ok := files.m.Kind(NftablesRoot)
	if !ok {
		return nil
	}
	return &NftablesFile{files: files, kind: k}
}

// Path is where the file goes.
func (n *NftablesFile) Path() string { return n.kind.Abs() }

// Preview plans writing the file, writing nothing.
func (n *NftablesFile) Preview(takeOver []string) (*persist.Preview, error) {
	p, err := n.files.m.PreviewKind(NftablesRoot, takeOver)
	return p, selectionField(err)
}

// Save writes the plan as id, if it is still the one previewed (digest).
func (n *NftablesFile) Save(ctx context.Context, id Identity, takeOver []string, digest string) (persist.Result, error) {
	res, err := n.files.m.SaveKind(ctx, NftablesRoot, takeOver, digest)
	err = selectionField(err)
	n.files.record(id, "save the nftables table "+owned.Family.String()+" "+owned.TableName+" to "+n.Path(), res, err)
	return res, err
}

// Backups lists the backups of the nft file, newest first.
func (n *NftablesFile) Backups() ([]configfiles.Backup, error) {
	all, err := n.files.Backups()
	var out []configfiles.Backup
	for _, b := range all {
		if onlyNftables(b.Files) {
			out = append(out, b)
		}
	}
	return out, err
}

// Restore puts a backup of the nft file back as id. The kernel keeps
// its table: the file takes effect when it is loaded, so this is no try
// and networkd is not reloaded.
func (n *NftablesFile) Restore(ctx context.Context, id Identity, backupID string) (persist.Result, error) {
	bs, err := n.files.Backups()
	if err != nil {
		return persist.Result{}, err
	}
	for _, b := range bs {
		if b.ID != backupID {
			continue
		}
		if !onlyNftables(b.Files) {
			return persist.Result{}, fmt.Errorf("backup %s holds networkd files too: restore it from the Save page", backupID)
		}
		return n.files.restoreNow(ctx, id, backupID)
	}
	return persist.Result{}, errors.New("no backup " + backupID)
}

func onlyNftables(rels []string) bool {
	for _, rel := range rels {
		if !strings.HasPrefix(rel, NftablesRoot+"/") {
			return false
		}
	}
	return len(rels) > 0
}

// unsavedRules counts the rules of the table netpanel owns that the nft
// file onDisk does not hold in the same chain. The file is written with
// the same printer, one rule per line, so a rule it holds is a line of
// its chain's block.
func unsavedRules(rs *nftables.Ruleset, onDisk []byte) int {
	t := rs.Table(owned.Family, owned.TableName)
	if t == nil {
		return 0
	}
	saved := map[string]map[string]int{} // chain -> rule text -> count
	chain := ""
	for _, l := range strings.Split(string(onDisk), "\n") {
		l = strings.TrimSpace(l)
		switch name, open := strings.CutPrefix(l, "chain "); {
		case open && strings.HasSuffix(name, " {"):
			chain = strings.TrimSuffix(name, " {")
			saved[chain] = map[string]int{}
		case l == "}":
			chain = ""
		case chain != "" && l != "":
			saved[chain][l]++
		}
	}
	n := 0
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			text := nftables.Printer{}.RuleText(r, t)
			if saved[c.Name][text] > 0 {
				saved[c.Name][text]--
				continue
			}
			n++
		}
	}
	return n
}
