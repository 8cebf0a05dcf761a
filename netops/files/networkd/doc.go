// Package networkd reads and writes the systemd-networkd .network and
// .netdev files netpanel manages. It is pure logic: no file system, no
// D-Bus, no netlink.
//
// Only the sections and keys netpanel understands are typed; everything
// else is kept verbatim and reported as a Warning, because networkd itself
// only warns about unknown settings and an import must not silently drop
// what an administrator wrote.
package networkd

// Header is the first line of every file Marshal writes, so that a reader
// of /etc/systemd/network knows who owns the file.
const Header = "# Written by netpanel. Edit in netpanel or take it over first."

// Option is one Key=Value assignment netpanel does not understand, kept in
// file order so it can be written back.
type Option struct {
	Key   string
	Value string
}

// Section is a whole section netpanel does not understand, kept verbatim.
type Section struct {
	Name    string
	Options []Option
}
