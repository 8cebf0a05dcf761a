package owned

import (
	"fmt"
	"strings"

	"github.com/netpanel/netpanel/netops/nftables"
)

// DefaultPath is where the owned table's file goes by default.
const DefaultPath = "/etc/nftables.d/netpanel.nft"

// IncludeNote says how the file is loaded at boot, for the page and the
// README.
const IncludeNote = `Load it at boot from /etc/nftables.conf (Debian's nftables.service reads
that file), after its "flush ruleset" line:

    include "/etc/nftables.d/netpanel.nft"

or, without nftables.service, from a unit of its own:

    [Unit]
    Description=netpanel's nftables table
    Before=network-pre.target
    Wants=network-pre.target
    [Service]
    Type=oneshot
    ExecStart=/usr/sbin/nft -f /etc/nftables.d/netpanel.nft
    [Install]
    WantedBy=multi-user.target`

// fileHeader starts every file File writes.
const fileHeader = "#!/usr/sbin/nft -f\n# The nftables table netpanel owns, written by netpanel from the live table.\n"

// Owned reports whether netpanel wrote data (File's header starts it): a
// save replaces any other file only once the admin takes it over.
func Owned(data []byte) bool { return strings.HasPrefix(string(data), fileHeader) }

// NoteFor is IncludeNote for a file saved at path.
func NoteFor(path string) string { return strings.ReplaceAll(IncludeNote, DefaultPath, path) }

// File is FileAt for the file at DefaultPath.
func File(rs *nftables.Ruleset) (string, error) { return FileAt(rs, DefaultPath) }

// FileAt writes the owned table of rs as an nft file saved at path. Its
// first lines make it safe to load at any time, at boot or again later:
// they create the table if it is missing and delete it, so the
// definition that follows replaces the table whole, in the one
// transaction nft -f makes of a file. A table netpanel never created is
// written with its empty chains.
func FileAt(rs *nftables.Ruleset, path string) (string, error) {
	t := rs.Table(Family, TableName)
	if t == nil {
		t = &nftables.Table{Family: Family, Name: TableName, Chains: chains()}
	}
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			for _, s := range nftables.Decompile(r, t) {
				if s.Kind == nftables.StmtUnsupported {
					return "", fmt.Errorf("rule %d of chain %s cannot be written to a file: netpanel cannot read %s", r.Handle, c.Name, s.Unsupported)
				}
			}
		}
	}
	if len(t.Sets) > 0 || len(t.Objects) > 0 {
		return "", fmt.Errorf("table %s %s holds sets or objects netpanel did not make; it writes only its own rules", Family, TableName)
	}
	var b strings.Builder
	b.WriteString(fileHeader)
	b.WriteString("# netpanel rewrites this file; change the rules from netpanel.\n#\n")
	for _, line := range strings.Split(NoteFor(path), "\n") {
		b.WriteString(strings.TrimRight("# "+line, " ") + "\n")
	}
	fmt.Fprintf(&b, "\ntable %s %s\ndelete table %s %s\n\n", Family, TableName, Family, TableName)
	b.WriteString(nftables.Printer{}.TableText(t))
	return b.String(), nil
}
