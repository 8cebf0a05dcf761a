package auth

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Errors callers may test for with errors.Is.
var (
	// ErrBadCredentials is returned for a wrong password and an unknown
	// user alike, so a caller cannot tell (or tell others) which.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrNoUser is returned when a named user does not exist.
	ErrNoUser = errors.New("no such user")
	// ErrLastAdmin is returned by changes that would leave no admin.
	ErrLastAdmin = errors.New("the last admin must stay an admin")
	// ErrSessionRevoked is returned for a session whose user is gone or
	// whose password changed after it was made.
	ErrSessionRevoked = errors.New("session ended: the user was deleted or its password changed")
)

var validName = regexp.MustCompile(`^[a-z_][a-z0-9_.-]{0,31}$`)

// UserInfo describes an account; it never carries the password hash.
type UserInfo struct {
	Name    string
	Role    Role
	Created time.Time
	// PasswordChanged is when the password was last set; a session made
	// before it has ended (see SessionUser).
	PasswordChanged time.Time
	// Generated: the password is one netpanel generated and printed, and
	// nobody has logged in with it yet.
	Generated bool
}

// Empty reports whether the file holds no account yet: the server then
// makes the first admin. An unreadable file is not empty.
func (s *Store) Empty() bool {
	empty := false
	_ = s.view(func(d *fileData) error { empty = len(d.Users) == 0; return nil })
	return empty
}

// AddUser creates an account. Names follow the Unix convention
// ^[a-z_][a-z0-9_.-]{0,31}$.
func (s *Store) AddUser(name string, role Role, password string) error {
	return s.addUser(name, role, password, false)
}

// AddGeneratedUser creates an account whose password netpanel generated
// and shows once (the first admin): it stays marked as generated until
// PasswordUsed or SetPassword, and RenewGenerated may replace it meanwhile.
func (s *Store) AddGeneratedUser(name string, role Role, password string) error {
	return s.addUser(name, role, password, true)
}

func (s *Store) addUser(name string, role Role, password string, generated bool) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("user name %q: use 1 to 32 lower-case letters, digits, '_', '.' or '-', starting with a letter or '_'", name)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	return s.update(func(d *fileData) error {
		if _, ok := d.user(name); ok {
			return fmt.Errorf("user %s already exists", name)
		}
		d.Users = append(d.Users, userRec{Name: name, Role: role, Hash: hash, Created: now, PasswordChanged: now, Generated: generated})
		return nil
	})
}

// SetPassword gives an account a new password. Sessions made before it
// end at their next request (SessionUser); in the same process the caller
// may also call Sessions.DeleteUser.
func (s *Store) SetPassword(name, password string) error {
	hash, err := s.hashPassword(password)
	if err != nil {
		return err
	}
	return s.update(func(d *fileData) error {
		i, ok := d.user(name)
		if !ok {
			return fmt.Errorf("%w: %s", ErrNoUser, name)
		}
		d.Users[i].Hash, d.Users[i].PasswordChanged = hash, time.Now().UTC()
		d.Users[i].Generated = false
		return nil
	})
}

// errNotGenerated stops RenewGenerated's update without writing the file.
var errNotGenerated = errors.New("the password is not a generated one")

// RenewGenerated replaces a generated password nobody has used with a new
// one, and reports whether it did: false once the user logged in with it
// or set a password, or when the user does not exist. It is how a start
// after a failed first start shows a password again without ever storing
// one in clear.
func (s *Store) RenewGenerated(name, password string) (bool, error) {
	hash, err := s.hashPassword(password)
	if err != nil {
		return false, err
	}
	err = s.update(func(d *fileData) error {
		i, ok := d.user(name)
		if !ok || !d.Users[i].Generated {
			return errNotGenerated
		}
		d.Users[i].Hash, d.Users[i].PasswordChanged = hash, time.Now().UTC()
		return nil
	})
	if errors.Is(err, errNotGenerated) {
		return false, nil
	}
	return err == nil, err
}

// PasswordUsed records that a user logged in with a generated password:
// from then on it is the user's, and RenewGenerated leaves it alone.
func (s *Store) PasswordUsed(name string) error {
	err := s.update(func(d *fileData) error {
		i, ok := d.user(name)
		if !ok || !d.Users[i].Generated {
			return errNotGenerated
		}
		d.Users[i].Generated = false
		return nil
	})
	if errors.Is(err, errNotGenerated) {
		return nil
	}
	return err
}

// SetRole changes an account's role. The last admin cannot lose its role,
// or nobody could change anything any more.
func (s *Store) SetRole(name string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	return s.update(func(d *fileData) error {
		i, ok := d.user(name)
		if !ok {
			return fmt.Errorf("%w: %s", ErrNoUser, name)
		}
		if role != RoleAdmin && d.Users[i].Role == RoleAdmin && admins(d) == 1 {
			return fmt.Errorf("%w: make another user an admin before %s stops being one", ErrLastAdmin, name)
		}
		d.Users[i].Role = role
		return nil
	})
}

// DeleteUser removes an account and its API tokens. The last admin cannot
// be deleted. Its sessions end at their next request (SessionUser); in the
// same process the caller may also call Sessions.DeleteUser.
func (s *Store) DeleteUser(name string) error {
	return s.update(func(d *fileData) error {
		i, ok := d.user(name)
		if !ok {
			return fmt.Errorf("%w: %s", ErrNoUser, name)
		}
		if d.Users[i].Role == RoleAdmin && admins(d) == 1 {
			return fmt.Errorf("%w: add another admin before deleting %s", ErrLastAdmin, name)
		}
		d.Users = slices.Delete(d.Users, i, i+1)
		d.Tokens = slices.DeleteFunc(d.Tokens, func(t tokenRec) bool { return t.User == name })
		return nil
	})
}

func admins(d *fileData) int {
	n := 0
	for _, u := range d.Users {
		if u.Role == RoleAdmin {
			n++
		}
	}
	return n
}

// Users lists the accounts by name; nil when the file cannot be read.
func (s *Store) Users() []UserInfo {
	var out []UserInfo
	_ = s.view(func(d *fileData) error {
		for _, u := range d.Users {
			out = append(out, u.info())
		}
		return nil
	})
	slices.SortFunc(out, func(a, b UserInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// User returns one account as the file has it now.
func (s *Store) User(name string) (UserInfo, error) {
	var u UserInfo
	err := s.view(func(d *fileData) error {
		i, ok := d.user(name)
		if !ok {
			return fmt.Errorf("%w: %s", ErrNoUser, name)
		}
		u = d.Users[i].info()
		return nil
	})
	return u, err
}

// SessionUser returns the current account behind a session: its role as
// the file has it now, not as it was at login. It fails with
// ErrSessionRevoked when the user was deleted (even if one of the same
// name was made since) or its password changed after the session began.
func (s *Store) SessionUser(sess Session) (UserInfo, error) {
	u, err := s.User(sess.User)
	if errors.Is(err, ErrNoUser) || (err == nil && !u.PasswordChanged.Equal(sess.PasswordChanged)) {
		return UserInfo{}, ErrSessionRevoked
	}
	return u, err
}

// Verify checks a user's password. Unknown users and wrong passwords both
// return ErrBadCredentials after a full bcrypt comparison, so neither the
// answer nor its timing tells whether the user exists.
func (s *Store) Verify(name, password string) (UserInfo, error) {
	var rec userRec
	found := false
	err := s.view(func(d *fileData) error {
		if i, ok := d.user(name); ok {
			rec, found = d.Users[i], true
		}
		return nil
	})
	if err != nil {
		return UserInfo{}, err
	}
	hash := s.dummyHash()
	if found {
		hash = []byte(rec.Hash)
	}
	// bcrypt ignores bytes past 72; such a password was never set, so
	// refuse it after the comparison rather than let its prefix log in.
	ok := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && found && len(password) <= maxPasswordBytes
	if !ok {
		return UserInfo{}, ErrBadCredentials
	}
	return rec.info(), nil
}
