package main

import (
	"flag"
	"strings"
)

// flagDoc is one flag as the manual page and the bash completion show it,
// read from the flag set the command line parses.
type flagDoc struct {
	Name     string
	Arg      string // the value's placeholder ("DIR"); "" for a switch
	Usage    string
	Default  string // "" when the default is the zero value
	Commands []string
}

// flagDocs lists every flag newFlagSet declares, by name, with the
// commands that take it in commandHelp's order.
func flagDocs() []flagDoc {
	var c command
	fs := newFlagSet(&c)
	var out []flagDoc
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		if isSwitch(f) {
			arg = ""
		}
		d := flagDoc{Name: f.Name, Arg: arg, Usage: usage}
		if f.DefValue != "" && f.DefValue != "false" {
			d.Default = f.DefValue
		}
		for _, h := range commandHelp {
			if subcommands[h.name].takes(f.Name) {
				d.Commands = append(d.Commands, h.name)
			}
		}
		out = append(out, d)
	})
	return out
}

func isSwitch(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// commandWords returns the first words of the commands: "user", "token",
// "export", ... in commandHelp's order, hidden ones left out when visible
// is set.
func commandWords(visible bool) []string {
	var out []string
	for _, h := range commandHelp {
		if h.name == "serve" || (visible && h.hidden) {
			continue
		}
		w, _, _ := strings.Cut(h.name, " ")
		if len(out) == 0 || out[len(out)-1] != w {
			out = append(out, w)
		}
	}
	return out
}
