package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sys/unix"
)

// ErrBadCredentials is returned for a wrong password and an unknown user
// alike, so callers cannot tell which.
var ErrBadCredentials = errors.New("wrong user name or password")

// bcryptCost makes one guess cost about a quarter second.
const bcryptCost = 12

// Password length limits: bcrypt reads at most 72 bytes, and a shorter
// password than 10 characters is too easy to guess.
const (
	minPassword = 10
	maxPassword = 72
)

var validName = regexp.MustCompile(`^[a-z_][a-z0-9_.-]{0,31}$`)

// UserInfo describes an account; it never carries the hash.
type UserInfo struct {
	Name    string
	Role    Role
	Created time.Time
}

// TokenInfo describes an API token; the secret is never stored.
type TokenInfo struct {
	ID      string
	User    string
	Note    string
	Created time.Time
}

type userRec struct {
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
}

type tokenRec struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Hash    string    `json:"hash"` // hex SHA-256 of the secret
	Note    string    `json:"note,omitempty"`
	Created time.Time `json:"created"`
}

type fileData struct {
	Users  []userRec  `json:"users"`
	Tokens []tokenRec `json:"tokens"`
}

// Store is the users and tokens file (mode 0600). Another process (the
// `netpanel user` command) may change it while the server runs: the store
// re-reads it when its size or time changes, and writers take an flock on
// a lock file beside it around read-modify-write.
type Store struct {
	path string

	mu    sync.Mutex
	data  fileData
	stamp fileStamp
}

type fileStamp struct {
	size  int64
	mtime time.Time
	ino   uint64
}

// dummyHash is compared against when a user does not exist, so a login
// for an unknown name takes as long as one with a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("netpanel-dummy-password"), bcryptCost)

// Open opens the users file, creating an empty one (0600) if missing, and
// tightening the permissions of one that others can read.
func Open(path string) (*Store, error) {
	s := &Store{path: path}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	st, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("users file %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("users file %s is readable by others and cannot be fixed: %w", path, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

// refreshLocked re-reads the file when it changed since the last read.
func (s *Store) refreshLocked() error {
	st, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	stamp := fileStamp{size: st.Size(), mtime: st.ModTime()}
	if sys, ok := st.Sys().(*unix.Stat_t); ok {
		stamp.ino = sys.Ino
	}
	if stamp == s.stamp {
		return nil
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	var d fileData
	if len(b) > 0 {
		if err := json.Unmarshal(b, &d); err != nil {
			return fmt.Errorf("users file %s is damaged: %w", s.path, err)
		}
	}
	s.data, s.stamp = d, stamp
	return nil
}

// update runs fn on fresh data under the file lock and writes the result
// atomically (temp file, fsync, rename, fsync of the directory).
func (s *Store) update(fn func(d *fileData) error) error {
	lock, err := os.OpenFile(s.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	defer unix.Flock(int(lock.Fd()), unix.LOCK_UN)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.stamp = fileStamp{} // force a re-read under the lock
	if err := s.refreshLocked(); err != nil {
		return err
	}
	d := fileData{Users: slices.Clone(s.data.Users), Tokens: slices.Clone(s.data.Tokens)}
	if err := fn(&d); err != nil {
		return err
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(s.path, append(b, '\n')); err != nil {
		return err
	}
	s.stamp = fileStamp{}
	return s.refreshLocked()
}

func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".users-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func checkPassword(pw string) error {
	switch {
	case len([]rune(pw)) < minPassword:
		return fmt.Errorf("the password must have at least %d characters", minPassword)
	case len(pw) > maxPassword:
		return fmt.Errorf("the password must not be longer than %d bytes", maxPassword)
	}
	return nil
}

func hashPassword(pw string) (string, error) {
	if err := checkPassword(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
	return string(h), err
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Empty reports whether no account exists yet.
func (s *Store) Empty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.refreshLocked()
	return len(s.data.Users) == 0
}

// AddUser creates an account.
func (s *Store) AddUser(name string, role Role, password string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("user name %q: use 1-32 lower-case letters, digits, '_', '.' or '-', starting with a letter or '_'", name)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return s.update(func(d *fileData) error {
		if slices.ContainsFunc(d.Users, func(u userRec) bool { return u.Name == name }) {
			return fmt.Errorf("user %s already exists", name)
		}
		d.Users = append(d.Users, userRec{Name: name, Role: role, Hash: hash, Created: time.Now().UTC()})
		return nil
	})
}

func findUser(d *fileData, name string) (int, error) {
	i := slices.IndexFunc(d.Users, func(u userRec) bool { return u.Name == name })
	if i < 0 {
		return -1, fmt.Errorf("no user named %s", name)
	}
	return i, nil
}

// SetPassword changes an account's password.
func (s *Store) SetPassword(name, password string) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return s.update(func(d *fileData) error {
		i, err := findUser(d, name)
		if err != nil {
			return err
		}
		d.Users[i].Hash = hash
		return nil
	})
}

// SetRole changes an account's role; the last admin cannot lose it.
func (s *Store) SetRole(name string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	return s.update(func(d *fileData) error {
		i, err := findUser(d, name)
		if err != nil {
			return err
		}
		if d.Users[i].Role == RoleAdmin && role != RoleAdmin && admins(d) == 1 {
			return fmt.Errorf("%s is the last admin; make another admin first", name)
		}
		d.Users[i].Role = role
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

// DeleteUser removes an account and its API tokens. The last admin stays.
func (s *Store) DeleteUser(name string) error {
	return s.update(func(d *fileData) error {
		i, err := findUser(d, name)
		if err != nil {
			return err
		}
		if d.Users[i].Role == RoleAdmin && admins(d) == 1 {
			return fmt.Errorf("%s is the last admin; add another admin before deleting it", name)
		}
		d.Users = slices.Delete(d.Users, i, i+1)
		d.Tokens = slices.DeleteFunc(d.Tokens, func(t tokenRec) bool { return t.User == name })
		return nil
	})
}

// Users lists the accounts.
func (s *Store) Users() []UserInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.refreshLocked()
	out := make([]UserInfo, 0, len(s.data.Users))
	for _, u := range s.data.Users {
		out = append(out, UserInfo{u.Name, u.Role, u.Created})
	}
	return out
}

// User returns one account.
func (s *Store) User(name string) (UserInfo, bool) {
	for _, u := range s.Users() {
		if u.Name == name {
			return u, true
		}
	}
	return UserInfo{}, false
}

// Verify checks a password in constant time with respect to whether the
// user exists.
func (s *Store) Verify(name, password string) (UserInfo, error) {
	s.mu.Lock()
	_ = s.refreshLocked()
	var rec *userRec
	for i := range s.data.Users {
		if s.data.Users[i].Name == name {
			r := s.data.Users[i]
			rec = &r
		}
	}
	s.mu.Unlock()
	if rec == nil {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return UserInfo{}, ErrBadCredentials
	}
	if bcrypt.CompareHashAndPassword([]byte(rec.Hash), []byte(password)) != nil {
		return UserInfo{}, ErrBadCredentials
	}
	return UserInfo{rec.Name, rec.Role, rec.Created}, nil
}

// CreateToken makes an API token for a user; the returned string is the
// only copy of its secret.
func (s *Store) CreateToken(user, note string) (string, TokenInfo, error) {
	var idb [8]byte
	var secret [32]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return "", TokenInfo{}, err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", TokenInfo{}, err
	}
	id := hex.EncodeToString(idb[:])
	sec := base64.RawURLEncoding.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(sec))
	rec := tokenRec{ID: id, User: user, Hash: hex.EncodeToString(sum[:]), Note: note, Created: time.Now().UTC()}
	err := s.update(func(d *fileData) error {
		if _, err := findUser(d, user); err != nil {
			return err
		}
		d.Tokens = append(d.Tokens, rec)
		return nil
	})
	if err != nil {
		return "", TokenInfo{}, err
	}
	return "np_" + id + "_" + sec, TokenInfo{id, user, note, rec.Created}, nil
}

// RevokeToken deletes a token by id.
func (s *Store) RevokeToken(id string) error {
	return s.update(func(d *fileData) error {
		i := slices.IndexFunc(d.Tokens, func(t tokenRec) bool { return t.ID == id })
		if i < 0 {
			return fmt.Errorf("no token with id %s", id)
		}
		d.Tokens = slices.Delete(d.Tokens, i, i+1)
		return nil
	})
}

// Tokens lists the tokens without secrets.
func (s *Store) Tokens() []TokenInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.refreshLocked()
	out := make([]TokenInfo, 0, len(s.data.Tokens))
	for _, t := range s.data.Tokens {
		out = append(out, TokenInfo{t.ID, t.User, t.Note, t.Created})
	}
	return out
}

// ErrBadToken is returned for any token that does not authenticate.
var ErrBadToken = errors.New("invalid or revoked API token")

// VerifyToken authenticates an API token.
func (s *Store) VerifyToken(token string) (UserInfo, TokenInfo, error) {
	id, sec, err := ParseToken(token)
	if err != nil {
		return UserInfo{}, TokenInfo{}, ErrBadToken
	}
	sum := sha256.Sum256([]byte(sec))
	want := hex.EncodeToString(sum[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.refreshLocked()
	for _, t := range s.data.Tokens {
		if t.ID != id || subtle.ConstantTimeCompare([]byte(t.Hash), []byte(want)) != 1 {
			continue
		}
		for _, u := range s.data.Users {
			if u.Name == t.User {
				return UserInfo{u.Name, u.Role, u.Created}, TokenInfo{t.ID, t.User, t.Note, t.Created}, nil
			}
		}
	}
	return UserInfo{}, TokenInfo{}, ErrBadToken
}

// ParseToken splits "np_<16 hex>_<43 base64url>" strictly.
func ParseToken(s string) (id, secret string, err error) {
	const idLen, secLen = 16, 43
	if len(s) != 3+idLen+1+secLen || s[:3] != "np_" || s[3+idLen] != '_' {
		return "", "", errors.New("an API token looks like np_<id>_<secret>")
	}
	id, secret = s[3:3+idLen], s[3+idLen+1:]
	if _, err := hex.DecodeString(id); err != nil || id != toLowerHex(id) {
		return "", "", errors.New("the token id is not lower-case hex")
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(secret); err != nil || len(b) != 32 {
		return "", "", errors.New("the token secret is malformed")
	}
	return id, secret, nil
}

func toLowerHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// GeneratePassword returns 20 random characters from an alphabet without
// look-alikes (no 0/O, 1/l/I).
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	for i := range b {
		var r [1]byte
		for {
			if _, err := rand.Read(r[:]); err != nil {
				panic(err) // crypto/rand does not fail on Linux
			}
			// Reject the top values so every character is equally likely.
			if int(r[0]) < 256-256%len(alphabet) {
				break
			}
		}
		b[i] = alphabet[int(r[0])%len(alphabet)]
	}
	return string(b)
}
