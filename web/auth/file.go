package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// fileData is the users file's JSON document.
type fileData struct {
	Users  []userRec  `json:"users"`
	Tokens []tokenRec `json:"tokens"`
}

type userRec struct {
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Hash    string    `json:"hash"` // bcrypt
	Created time.Time `json:"created"`
	// PasswordChanged is set at creation and by every new password;
	// sessions made before it are no longer valid.
	PasswordChanged time.Time `json:"password_changed"`
	// Generated marks a password netpanel made and printed (the first
	// admin's) that nobody has logged in with yet; see RenewGenerated.
	Generated bool `json:"generated,omitempty"`
}

type tokenRec struct {
	ID   string `json:"id"`
	User string `json:"user"`
	// Role narrows what the token may do below its user's role; ""
	// (files before token roles) acts with the user's role.
	Role    Role      `json:"role,omitempty"`
	Hash    string    `json:"hash"` // hex SHA-256 of the decoded secret
	Note    string    `json:"note"`
	Created time.Time `json:"created"`
}

func (u userRec) info() UserInfo {
	return UserInfo{Name: u.Name, Role: u.Role, Created: u.Created, PasswordChanged: u.PasswordChanged, Generated: u.Generated}
}

func (t tokenRec) info() TokenInfo {
	return TokenInfo{ID: t.ID, User: t.User, Role: t.Role, Note: t.Note, Created: t.Created}
}

func (d *fileData) user(name string) (int, bool) {
	for i := range d.Users {
		if d.Users[i].Name == name {
			return i, true
		}
	}
	return -1, false
}

// fileStamp tells whether the file changed since it was read. Writers
// replace the file by rename, so the inode and ctime change even when a
// coarse mtime and the size do not.
type fileStamp struct {
	size         int64
	ino          uint64
	mtime, ctime unix.Timespec
}

func statFile(path string) (fileStamp, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fileStamp{}, err
	}
	return fileStamp{size: st.Size, ino: st.Ino, mtime: st.Mtim, ctime: st.Ctim}, nil
}

// readFile reads and checks the users file. The stamp is taken from the
// open descriptor, so it describes exactly the bytes read.
func readFile(path string) (fileData, fileStamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileData{}, fileStamp{}, fmt.Errorf("users file: %w", err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fileData{}, fileStamp{}, fmt.Errorf("users file: %w", err)
	}
	stamp := fileStamp{size: st.Size, ino: st.Ino, mtime: st.Mtim, ctime: st.Ctim}
	var b bytes.Buffer
	if _, err := b.ReadFrom(f); err != nil {
		return fileData{}, fileStamp{}, fmt.Errorf("users file: %w", err)
	}
	var d fileData
	if len(bytes.TrimSpace(b.Bytes())) > 0 {
		if err := json.Unmarshal(b.Bytes(), &d); err != nil {
			return fileData{}, fileStamp{}, fmt.Errorf("users file %s is damaged: %w", path, err)
		}
	}
	if err := d.check(); err != nil {
		return fileData{}, fileStamp{}, fmt.Errorf("users file %s is damaged: %w", path, err)
	}
	return d, stamp, nil
}

// check refuses a hand-edited file that would make lookups ambiguous or
// let a record authenticate without a real hash.
func (d *fileData) check() error {
	names := map[string]bool{}
	for _, u := range d.Users {
		switch {
		case !validName.MatchString(u.Name):
			return fmt.Errorf("bad user name %q", u.Name)
		case names[u.Name]:
			return fmt.Errorf("user %s appears twice", u.Name)
		case !validRole(ParseRole, u.Role):
			return fmt.Errorf("user %s has unknown role %q", u.Name, u.Role)
		case !strings.HasPrefix(u.Hash, "$2"):
			return fmt.Errorf("user %s has no bcrypt hash", u.Name)
		}
		names[u.Name] = true
	}
	ids := map[string]bool{}
	for _, t := range d.Tokens {
		switch {
		case !validTokenID(t.ID):
			return fmt.Errorf("bad token id %q", t.ID)
		case ids[t.ID]:
			return fmt.Errorf("token %s appears twice", t.ID)
		case len(t.Hash) != 64 || !isLowerHex(t.Hash):
			return fmt.Errorf("token %s has no SHA-256 hash", t.ID)
		case t.Role != "" && !validRole(ParseTokenRole, t.Role):
			return fmt.Errorf("token %s has unknown role %q", t.ID, t.Role)
		}
		ids[t.ID] = true
	}
	return nil
}

// validRole reports whether parse accepts r: the file holds the roles the
// command line may give, no list of its own.
func validRole(parse func(string) (Role, error), r Role) bool {
	_, err := parse(string(r))
	return err == nil
}

// writeFile replaces the file atomically: a 0600 temp file in the same
// directory, written and fsynced, renamed over the old one, and the
// directory fsynced so the rename survives a crash.
func writeFile(path string, d fileData) error {
	if d.Users == nil {
		d.Users = []userRec{}
	}
	if d.Tokens == nil {
		d.Tokens = []tokenRec{}
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	err = tmp.Chmod(0o600)      // CreateTemp does already; say it anyway
	if err == nil {
		_, err = tmp.Write(append(b, '\n'))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing users file: %w", err)
	}
	df, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("writing users file: %w", err)
	}
	defer df.Close()
	if err := df.Sync(); err != nil {
		return fmt.Errorf("writing users file: %w", err)
	}
	return nil
}
