package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// command is one parsed command line: which subcommand, its operand and
// the flags it was given.
type command struct {
	name    string // a key of subcommands: "serve", "user add", "export", ...
	operand string // NAME or ID for the subcommands that take one
	cfg     config
	role    string // user add
	note    string // token create
	version bool   // --version: print the version instead of serving
}

// subcommand says what one subcommand takes besides --state-dir.
type subcommand struct {
	operand     string   // "NAME", "ID", or "" for none
	flags       []string // flags besides --state-dir; serverFlags for all of the server's
	serverFlags bool
}

// subcommands is every command line netpanel accepts; "serve" is the bare
// `netpanel [flags]`. "man" and "completion bash" print the manual page
// and the bash completion, made from these tables and the flag set, for
// `make install`.
var subcommands = map[string]subcommand{
	"serve":           {serverFlags: true, flags: []string{"version"}},
	"export":          {serverFlags: true},
	"user add":        {operand: "NAME", flags: []string{"role"}},
	"user passwd":     {operand: "NAME"},
	"user del":        {operand: "NAME"},
	"user list":       {},
	"token create":    {operand: "NAME", flags: []string{"note"}},
	"token revoke":    {operand: "ID"},
	"token list":      {},
	"man":             {},
	"completion bash": {},
}

// groups are the subcommands that take a verb.
var groups = map[string][]string{
	"user":       {"add", "passwd", "del", "list"},
	"token":      {"create", "revoke", "list"},
	"completion": {"bash"},
}

// commandFlags are the flags only the subcommands that list them take;
// every other flag is the server's (and export's).
var commandFlags = []string{"role", "note", "version"}

// commandHelp is what usage, the manual page and the completion say about
// each command, in the order they list them. Hidden commands are missing
// from usage; a test checks that every key of subcommands is here.
var commandHelp = []struct {
	name   string // a key of subcommands
	args   string // after the name in the synopsis
	what   string // usage's note
	doc    string // the manual page's
	hidden bool
}{
	{"serve", "[flags]", "serve the panel (netpanel -h for flags)",
		"Serve the panel on --listen until SIGINT or SIGTERM. Changes still waiting for confirmation are rolled back on the way out.", false},
	{"user add", "NAME [--role admin|viewer]", "password from stdin",
		"Add a user with --role (default viewer). The password is read from standard input, without echo on a terminal.", false},
	{"user passwd", "NAME", "password from stdin",
		"Set a user's password, read from standard input. The user's sessions end.", false},
	{"user del", "NAME", "", "Delete a user with its API tokens; its sessions end.", false},
	{"user list", "", "", "List the users and their roles.", false},
	{"token create", "NAME [--note TEXT]", "prints the token once",
		"Create an API token for the user NAME and print it, once. Send it as Authorization: Bearer TOKEN.", false},
	{"token revoke", "ID", "", "Revoke an API token; the event streams it opened end.", false},
	{"token list", "", "", "List the API tokens: ID, user, creation time, note (never the token).", false},
	{"export", "[flags] > config.tar.gz", "the networkd/Docker configuration as on the Save page",
		"Write the systemd-networkd (and Docker) configuration of the host, or of --netns, as the Save page offers it, with the nft file of netpanel's nftables table: a gzip-compressed tar archive on standard output, with a README saying how to install it.", false},
	{"completion bash", "", "bash completion: source <(netpanel completion bash)",
		"Print the bash completion script.", false},
	{"man", "", "", "Print this manual page (roff).", true},
}

// usage is printed with every command line netpanel refuses and with -h.
var usage = usageText()

func usageText() string {
	var b strings.Builder
	b.WriteString("usage:\n")
	for _, c := range commandHelp {
		if c.hidden {
			continue
		}
		line := "netpanel"
		if c.name != "serve" {
			line += " " + c.name
		}
		if c.args != "" {
			line += " " + c.args
		}
		if c.what != "" {
			line = fmt.Sprintf("%-48s %s", line, c.what)
		}
		b.WriteString("  " + line + "\n")
	}
	b.WriteString("  netpanel --version\n")
	b.WriteString("every subcommand takes --state-dir DIR (default /var/lib/netpanel); flags may come\n" +
		"before or after the subcommand")
	return b.String()
}

// newFlagSet declares every flag any subcommand takes; parseArgs then
// refuses the ones the chosen subcommand does not use.
func newFlagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("netpanel", flag.ContinueOnError)
	// parseArgs words the errors itself, with the usage.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	registerFlags(fs, &c.cfg)
	fs.StringVar(&c.role, "role", "viewer", "`ROLE` of a new user (user add): admin or viewer")
	fs.StringVar(&c.note, "note", "", "`TEXT` saying what a new token is for (token create), shown in token list")
	fs.BoolVar(&c.version, "version", false, "print the version and the commit it was built from, then exit")
	return fs
}

// parseArgs reads a command line. Flags may come before, between or after
// the words of the subcommand, so `netpanel --state-dir D user list` and
// `netpanel user list --state-dir D` are the same; anything it does not
// expect is an error, so a mistyped subcommand never starts a server.
func parseArgs(args []string) (command, error) {
	var c command
	fs := newFlagSet(&c)
	var words []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return c, err
			}
			msg := err.Error()
			if f, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
				msg = "unknown flag " + f
			}
			return c, errors.New(msg)
		}
		if fs.NArg() == 0 {
			break
		}
		// After "--" everything is a word, flags included.
		if consumed := len(rest) - fs.NArg(); consumed > 0 && rest[consumed-1] == "--" {
			words = append(words, fs.Args()...)
			break
		}
		words = append(words, fs.Arg(0))
		rest = fs.Args()[1:]
	}

	c.name = "serve"
	if len(words) > 0 {
		w := words[0]
		verbs, isGroup := groups[w]
		switch {
		case isGroup && len(words) == 1:
			return c, fmt.Errorf("netpanel %s needs one of: %s", w, strings.Join(verbs, ", "))
		case isGroup && slices.Contains(verbs, words[1]):
			c.name, words = w+" "+words[1], words[2:]
		case isGroup:
			return c, fmt.Errorf("unknown command %q: netpanel %s takes %s", w+" "+words[1], w, strings.Join(verbs, ", "))
		case w == "export" || w == "man":
			c.name, words = w, words[1:]
		default:
			return c, fmt.Errorf("unknown command %q", w)
		}
	}
	sc := subcommands[c.name]
	switch {
	case sc.operand != "" && len(words) == 0:
		return c, fmt.Errorf("netpanel %s needs %s", c.name, sc.operand)
	case sc.operand != "":
		c.operand, words = words[0], words[1:]
	}
	if len(words) > 0 {
		return c, fmt.Errorf("unexpected argument %q to %s", words[0], c.display())
	}
	var wrong []string
	fs.Visit(func(f *flag.Flag) {
		if !sc.takes(f.Name) {
			wrong = append(wrong, "--"+f.Name)
		}
	})
	if len(wrong) > 0 {
		return c, fmt.Errorf("%s does not apply to %s", strings.Join(wrong, ", "), c.display())
	}
	if c.version {
		c.name = "version"
	}
	return c, nil
}

// takes reports whether the subcommand uses the flag.
func (sc subcommand) takes(name string) bool {
	if name == "state-dir" || slices.Contains(sc.flags, name) {
		return true
	}
	return sc.serverFlags && !slices.Contains(commandFlags, name)
}

// display names the command as typed.
func (c command) display() string {
	if c.name == "serve" {
		return "netpanel (serving the panel)"
	}
	return "netpanel " + c.name
}

// printHelp writes the usage and every flag.
func printHelp(w io.Writer) {
	fmt.Fprintln(w, usage)
	fmt.Fprintln(w, "\nflags:")
	var c command
	fs := newFlagSet(&c)
	fs.SetOutput(w)
	fs.PrintDefaults()
}
