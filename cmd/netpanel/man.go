package main

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// unitFile is the systemd unit `make install` installs; the manual page
// lists its capabilities with what each is for.
//
//go:embed dist/netpanel.service
var unitFile string

// capabilityUse says what netpanel needs one capability for, as measured
// by TestUnitCapabilities; unit tells whether netpanel.service grants it.
type capabilityUse struct {
	name string
	use  string
	unit bool
}

var capabilityUses = []capabilityUse{
	{"CAP_NET_ADMIN", "change links, addresses, routes, rules, neighbours and nftables over netlink, and read nftables. Without it netpanel runs read-only.", true},
	{"CAP_CHOWN", "keep the owner of a file a save replaces, such as a .netdev of root:systemd-network.", true},
	{"CAP_DAC_READ_SEARCH", "name the process behind a socket of another user (its /proc/PID/fd), as ss -p does.", true},
	{"CAP_SYS_PTRACE", "name the process behind a socket when that process holds capabilities netpanel lacks: the kernel checks /proc/PID/fd like ptrace.", true},
	{"CAP_SYS_ADMIN", "enter another namespace (--netns) and make the demo's (--demo). Not in netpanel.service, which manages the host.", false},
}

// unitCapabilities returns the capabilities of CapabilityBoundingSet= in
// the unit, in its order.
func unitCapabilities(unit string) []string {
	var caps []string
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "CapabilityBoundingSet="); ok {
			caps = append(caps, strings.Fields(v)...)
		}
	}
	return caps
}

// writeManPage writes netpanel(8) in roff. Its commands come from
// commandHelp and its options from the flag set the command line parses,
// so the page can neither miss a flag nor list one that is gone.
func writeManPage(w io.Writer, b buildInfo) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format+"\n", args...) }
	p(`.TH NETPANEL 8 "%s" "netpanel %s" "System Administration"`, manDate(b), roffEscape(b.Version))
	// No hyphenation and no justification: command and file names stay whole.
	p(".nh")
	p(".ad l")
	p(".SH NAME")
	p(`netpanel \- iproute2 in a browser: a live web panel for Linux networking`)

	p(".SH SYNOPSIS")
	for i, h := range commandHelp {
		if i > 0 {
			p(".br")
		}
		p("%s", synopsis(h.name, h.args))
	}

	p(".SH DESCRIPTION")
	for _, para := range manDescription {
		p(".PP")
		p("%s", roffText(para))
	}

	p(".SH COMMANDS")
	for _, h := range commandHelp {
		p(".TP")
		p("%s", synopsis(h.name, h.args))
		p("%s", roffText(h.doc))
	}

	p(".SH OPTIONS")
	p("%s", roffText("Flags may come before, between or after the words of a command, with one dash or two, and --flag=value or --flag value. "+
		"The server and export take every flag not marked otherwise."))
	for _, f := range flagDocs() {
		p(".TP")
		head := `\fB\-\-` + roffEscape(f.Name) + `\fR`
		if f.Arg != "" {
			head += ` \fI` + roffEscape(f.Arg) + `\fR`
		}
		p("%s", head)
		text := f.Usage
		if !strings.HasSuffix(text, ".") {
			text += "."
		}
		p("%s", roffText(text))
		if f.Default != "" {
			p(`Default: \fB%s\fR.`, roffEscape(f.Default))
		}
		if only := onlyFor(f.Commands); only != "" {
			p("%s", roffText(only))
		}
	}

	stateDir := defaultStateDir()
	p(".SH FILES")
	for _, f := range [][2]string{
		{usersFile(stateDir), "accounts and API tokens, only their bcrypt hashes"},
		{stateDir + "/audit.log", "every login, token use and change, appended"},
		{stateDir + "/backups/", "the files each save replaced, restorable from the Save page"},
	} {
		p(".TP")
		p(`\fI%s\fR`, roffEscape(f[0]))
		p("%s", roffText(f[1]+"."))
	}
	p(".TP")
	p(`\fInetpanel.service\fR`)
	p("%s", roffText("The systemd unit, in lib/systemd/system under the installation prefix. It serves the host on the default --listen with the state directory above, as root with these capabilities only:"))
	p(".RS")
	for _, c := range capabilityUses {
		if !c.unit {
			continue
		}
		p(".TP")
		p(`\fB%s\fR`, c.name)
		p("%s", roffText(c.use))
	}
	p(".RE")
	p(".IP")
	p("%s", roffText("It cannot enter namespaces (RestrictNamespaces=yes): --netns and --demo need CAP_SYS_ADMIN, which it does not grant. "+
		"Change the flags with systemctl edit netpanel: an empty ExecStart= line, then ExecStart= with the new command line."))

	p(".SH EXIT STATUS")
	p("%s", roffText("0 when the command did what it was asked, 1 when it failed, 2 when the command line was not understood (the usage is printed)."))

	p(".SH SEE ALSO")
	p(`.BR ip (8),`)
	p(`.BR ss (8),`)
	p(`.BR nft (8),`)
	p(`.BR systemd\-networkd.service (8),`)
	p(`.BR networkctl (1),`)
	p(`.BR systemd.network (5),`)
	p(`.BR systemd.netdev (5),`)
	p(`.BR systemd.exec (5),`)
	p(`.BR dockerd (8)`)
	return bw.Flush()
}

// manDescription is the page's DESCRIPTION, one paragraph per entry.
var manDescription = []string{
	"netpanel shows a Linux host's interfaces, addresses, routes in every table, policy rules, neighbours and sockets the way ip and ss do, " +
		"and keeps every page current from the kernel's netlink events. Each page shows the ip command that prints the same data.",
	"Admins change links, addresses, routes, rules and neighbours from forms or the JSON API, through netlink; nothing is passed to a shell. " +
		"A change that may cut the admin's own connection waits for confirmation from a new connection and is rolled back otherwise.",
	"The Save page writes the live state as systemd-networkd files (and Docker's daemon.json) so that it survives a reboot: " +
		"the reviewed diff exactly, atomically, with a backup of every file it replaces, then networkctl reload.",
	"On its first start netpanel creates the user admin with a random password and prints it (under systemd: journalctl -u netpanel), " +
		"or create accounts beforehand with netpanel user add. Every page and the API need a login or an API token.",
	"Without CAP_NET_ADMIN netpanel runs read-only and says so on every page.",
}

// onlyFor notes the commands that take a flag when they are not the
// server's usual pair.
func onlyFor(cmds []string) string {
	switch {
	case len(cmds) == len(commandHelp):
		return "Every command takes it."
	case len(cmds) == 2 && cmds[0] == "serve" && cmds[1] == "export":
		return ""
	}
	var names []string
	for _, c := range cmds {
		if c == "serve" {
			names = append(names, "netpanel (serving)")
		} else {
			names = append(names, "netpanel "+c)
		}
	}
	return "Only for " + strings.Join(names, ", ") + "."
}

func defaultStateDir() string {
	var c command
	return newFlagSet(&c).Lookup("state-dir").DefValue
}

// manDate dates the page: SOURCE_DATE_EPOCH when a package build sets it
// (reproducible builds), else the commit's date, else nothing.
func manDate(b buildInfo) string {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC().Format(time.DateOnly)
		}
	}
	if t, err := time.Parse(time.RFC3339, b.Time); err == nil {
		return t.UTC().Format(time.DateOnly)
	}
	return ""
}

var (
	synopsisFlag = regexp.MustCompile(`--[a-z][a-z-]*`)
	synopsisArg  = regexp.MustCompile(`\b[A-Z][A-Z]+\b|\bflags\b`)
)

// synopsis formats one command line: the command in bold, placeholders in
// italics, flags in bold.
func synopsis(name, args string) string {
	cmd := "netpanel"
	if name != "serve" {
		cmd += " " + name
	}
	var out []string
	for _, word := range strings.Fields(args) {
		s := synopsisFlag.ReplaceAllStringFunc(word, func(f string) string { return "\x00B" + f + "\x00R" })
		s = synopsisArg.ReplaceAllStringFunc(s, func(a string) string { return "\x00I" + a + "\x00R" })
		s = roffEscape(s)
		s = strings.NewReplacer("\x00B", `\fB`, "\x00I", `\fI`, "\x00R", `\fR`).Replace(s)
		out = append(out, s)
	}
	line := `\fB` + roffEscape(cmd) + `\fR`
	if len(out) > 0 {
		line += " " + strings.Join(out, " ")
	}
	return line
}

// roffEscape makes s print as itself inside a line of text: backslashes
// and minus signs escaped, so options stay ASCII hyphen-minus when copied.
func roffEscape(s string) string {
	return strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
}

// roffText escapes a paragraph and keeps a leading dot or quote from
// being read as a request.
func roffText(s string) string {
	s = roffEscape(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
