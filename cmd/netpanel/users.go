package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/netpanel/netpanel/web/auth"
	"golang.org/x/term"
)

// usersFile is where accounts and API tokens live inside the state dir.
func usersFile(stateDir string) string { return filepath.Join(stateDir, "users.json") }

// runUserCommand handles `netpanel user …` and `netpanel token …`, as
// parseArgs read them.
func runUserCommand(c command, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := os.MkdirAll(c.cfg.stateDir, 0o700); err != nil {
		return err
	}
	store, err := auth.Open(usersFile(c.cfg.stateDir))
	if err != nil {
		return err
	}
	switch c.name {
	case "user add":
		n := c.operand
		r, err := auth.ParseRole(c.role)
		if err != nil {
			return err
		}
		pw, err := readPassword(stdin, stderr, "Password for "+n+": ")
		if err != nil {
			return err
		}
		if err := store.AddUser(n, r, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added user %s (%s)\n", n, r)
	case "user passwd":
		n := c.operand
		pw, err := readPassword(stdin, stderr, "New password for "+n+": ")
		if err != nil {
			return err
		}
		if err := store.SetPassword(n, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; its sessions end at their next request\n", n)
	case "user del":
		n := c.operand
		if err := store.DeleteUser(n); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted user %s and its API tokens\n", n)
	case "user list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED")
		for _, u := range store.Users() {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Name, u.Role, u.Created.Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	case "token create":
		n := c.operand
		var role auth.Role
		if c.roleSet {
			if role, err = auth.ParseTokenRole(c.role); err != nil {
				return err
			}
		}
		tok, info, err := store.CreateTokenWithRole(n, c.note, role)
		if err != nil {
			return err
		}
		what := "for " + n
		if role != "" {
			what += " with role " + string(role)
		}
		fmt.Fprintf(stderr, "token %s %s; it is shown once, store it now:\n", info.ID, what)
		fmt.Fprintln(stdout, tok)
	case "token revoke":
		id := c.operand
		if err := store.RevokeToken(id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked token %s\n", id)
	case "token list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tROLE\tCREATED\tNOTE")
		for _, t := range store.Tokens() {
			role := string(t.Role)
			if role == "" {
				role = "(its user's)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, role, t.Created.Format("2006-01-02 15:04"), t.Note)
		}
		return tw.Flush()
	default:
		return fmt.Errorf("unknown command %q", c.name)
	}
	return nil
}

// readPassword reads a password without echo from a terminal, or one line
// from a pipe so scripts can set passwords.
func readPassword(stdin io.Reader, stderr io.Writer, prompt string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
