package persist

import (
	"context"
	"fmt"
	"strings"

	"github.com/netpanel/netpanel/netops/files/configfiles"
)

// Kind is a kind of file that persist saves, backs up, restores and
// exports like networkd's, but that a package above it generates from
// live state of its own: the nftables table netpanel owns is read over
// nfnetlink, which persist does not know. Its file is "Root/Name" in
// plans, backups and the export archive.
type Kind struct {
	Root string // "nftables"
	Dir  string // where the file goes: /etc/nftables.d
	Name string // its name there: netpanel.nft
	// Generate returns the file as the live state makes it.
	Generate func() ([]byte, error)
	// Owned reports whether netpanel wrote the file on disk; another
	// file is replaced only once the admin takes it over.
	Owned func(data []byte) bool
	// Install is the README's shell lines installing the file on
	// another host, after it is extracted; Loaded says what puts a
	// saved file into effect, since networkd does not read it.
	Install []string
	Loaded  string
	// Unsaved counts, by kind, the live objects the file on disk (nil:
	// none yet) does not hold: what a reboot would lose. Nil: not counted.
	Unsaved func(onDisk []byte) (map[string]int, error)
}

// Rel is the kind's file as plans and backups name it.
func (k Kind) Rel() string { return k.Root + "/" + k.Name }

// Abs is where the file goes on disk.
func (k Kind) Abs() string { return k.Dir + "/" + k.Name }

func (m *Manager) kind(root string) (Kind, bool) {
	for _, k := range m.opts.Kinds {
		if k.Root == root {
			return k, true
		}
	}
	return Kind{}, false
}

// kindOf finds the kind of a rel name ("nftables/netpanel.nft").
func (m *Manager) kindOf(rel string) (Kind, bool) {
	root, _, nested := strings.Cut(rel, "/")
	if !nested {
		return Kind{}, false
	}
	return m.kind(root)
}

// Kinds are the kinds of files generated above persist.
func (m *Manager) Kinds() []Kind { return m.opts.Kinds }

// Kind returns the kind whose Root is root.
func (m *Manager) Kind(root string) (Kind, bool) { return m.kind(root) }

// PreviewKind plans writing the file of kind root as the live state makes
// it, writing nothing.
func (m *Manager) PreviewKind(root string, takeOver []string) (*Preview, error) {
	files, err := m.kindFiles(root)
	if err != nil {
		return nil, err
	}
	return m.PreviewFiles(files, takeOver)
}

// SaveKind writes what PreviewKind showed, identified by its digest.
func (m *Manager) SaveKind(ctx context.Context, root string, takeOver []string, wantDigest string) (Result, error) {
	files, err := m.kindFiles(root)
	if err != nil {
		return Result{}, err
	}
	return m.SaveFiles(ctx, files, takeOver, wantDigest)
}

func (m *Manager) kindFiles(root string) (map[string][]byte, error) {
	k, ok := m.kind(root)
	if !ok {
		return nil, fmt.Errorf("netpanel does not save %s files here", root)
	}
	data, err := k.Generate()
	if err != nil {
		return nil, err
	}
	return map[string][]byte{k.Rel(): data}, nil
}

// reloads reports whether writing rels needs networkd to read its files
// again: any file but the kinds' does.
func (m *Manager) reloads(rels []string) bool {
	for _, rel := range rels {
		if _, ok := m.kindOf(rel); !ok {
			return true
		}
	}
	return false
}

// reloadFor reloads networkd after rels were written, unless they are
// only files networkd does not read.
func (m *Manager) reloadFor(ctx context.Context, rels []string) ReloadResult {
	if m.reloads(rels) {
		return m.reload(ctx)
	}
	var loaded []string
	for _, rel := range rels {
		if k, ok := m.kindOf(rel); ok && k.Loaded != "" {
			loaded = append(loaded, k.Loaded)
		}
	}
	return ReloadResult{Skipped: strings.Join(append([]string{"networkd does not read these files, so nothing was reloaded"}, loaded...), "; ")}
}

// addKinds adds each kind's file to the export; what cannot be generated
// is returned as a reason, for the README.
func (m *Manager) addKinds(out map[string][]byte) (unread []string) {
	for _, k := range m.opts.Kinds {
		data, err := k.Generate()
		if err != nil {
			unread = append(unread, fmt.Sprintf("%s: %v", k.Abs(), err))
			continue
		}
		out[k.Rel()] = data
	}
	return unread
}

// kindsReadme is the README's install lines for the kinds' files.
func kindsReadme(files map[string]bool, kinds []Kind) string {
	var b strings.Builder
	for _, k := range kinds {
		if _, ok := files[k.Rel()]; !ok {
			continue
		}
		for _, l := range k.Install {
			b.WriteString("    " + l + "\n")
		}
	}
	return b.String()
}

func relsOf(cs []configfiles.Change) []string {
	rels := make([]string, len(cs))
	for i, c := range cs {
		rels[i] = c.Rel
	}
	return rels
}
