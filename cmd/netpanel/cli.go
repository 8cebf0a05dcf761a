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
}

// subcommand says what one subcommand takes besides --state-dir.
type subcommand struct {
	operand     string   // "NAME", "ID", or "" for none
	flags       []string // flags besides --state-dir; serverFlags for all of the server's
	serverFlags bool
}

// subcommands is every command line netpanel accepts; "serve" is the bare
// `netpanel [flags]`.
var subcommands = map[string]subcommand{
	"serve":        {serverFlags: true},
	"export":       {serverFlags: true},
	"user add":     {operand: "NAME", flags: []string{"role"}},
	"user passwd":  {operand: "NAME"},
	"user del":     {operand: "NAME"},
	"user list":    {},
	"token create": {operand: "NAME", flags: []string{"note"}},
	"token revoke": {operand: "ID"},
	"token list":   {},
}

// groups are the subcommands that take a verb.
var groups = map[string][]string{
	"user":  {"add", "passwd", "del", "list"},
	"token": {"create", "revoke", "list"},
}

// newFlagSet declares every flag any subcommand takes; parseArgs then
// refuses the ones the chosen subcommand does not use.
func newFlagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("netpanel", flag.ContinueOnError)
	// parseArgs words the errors itself, with the usage.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	registerFlags(fs, &c.cfg)
	fs.StringVar(&c.role, "role", "viewer", "role of a new user (user add): admin or viewer")
	fs.StringVar(&c.note, "note", "", "what a new token is for (token create), shown in `token list`")
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
		case w == "export":
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
	return c, nil
}

// takes reports whether the subcommand uses the flag.
func (sc subcommand) takes(name string) bool {
	if name == "state-dir" || slices.Contains(sc.flags, name) {
		return true
	}
	return sc.serverFlags && name != "role" && name != "note"
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
