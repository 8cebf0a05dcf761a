package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrBadToken is returned for every API token that does not authenticate:
// malformed, unknown, revoked, wrong secret or of a deleted user.
var ErrBadToken = errors.New("invalid or revoked API token")

// TokenInfo describes an API token; its secret is never stored.
type TokenInfo struct {
	ID   string
	User string
	// Role is what the token may do, at most what its user may; "" for
	// a token that acts with its user's role, whatever it is.
	Role    Role
	Note    string
	Created time.Time
}

// Token layout: "np_" + 16 lower-case hex (8 bytes of id) + "_" + 43
// base64url characters without padding (32 bytes of secret).
const (
	tokenPrefix   = "np_"
	tokenIDLen    = 16
	tokenSecLen   = 43
	tokenLen      = len(tokenPrefix) + tokenIDLen + 1 + tokenSecLen
	maxNoteBytes  = 200
	tokenIDBytes  = 8
	tokenSecBytes = 32
)

// CreateToken makes an API token for an existing user that acts with the
// user's role. The returned token is the only copy of its secret: the file
// keeps SHA-256 of it, which is enough for 256 random bits (a slow hash
// protects guessable passwords).
func (s *Store) CreateToken(user, note string) (token string, info TokenInfo, err error) {
	return s.CreateTokenWithRole(user, note, "")
}

// CreateTokenWithRole makes an API token that may do what role allows
// (RoleMetrics: read /metrics only), never more than its user: a role
// above the user's is refused, and a user's later demotion narrows the
// token too (Role.Within). An empty role acts with the user's role.
func (s *Store) CreateTokenWithRole(user, note string, role Role) (token string, info TokenInfo, err error) {
	if role != "" {
		if _, err := ParseTokenRole(string(role)); err != nil {
			return "", TokenInfo{}, err
		}
	}
	if len(note) > maxNoteBytes || !utf8.ValidString(note) || strings.IndexFunc(note, unicode.IsControl) >= 0 {
		return "", TokenInfo{}, fmt.Errorf("a token note is one line of at most %d bytes", maxNoteBytes)
	}
	var idb [tokenIDBytes]byte
	var sec [tokenSecBytes]byte
	rand.Read(idb[:]) // never fails: Go crashes the program instead
	rand.Read(sec[:])
	sum := sha256.Sum256(sec[:])
	rec := tokenRec{ID: hex.EncodeToString(idb[:]), User: user, Role: role, Hash: hex.EncodeToString(sum[:]), Note: note, Created: time.Now().UTC()}
	err = s.update(func(d *fileData) error {
		i, ok := d.user(user)
		if !ok {
			return fmt.Errorf("%w: %s", ErrNoUser, user)
		}
		if ur := d.Users[i].Role; role.Within(ur) != role && role != "" {
			return fmt.Errorf("a token cannot do more than its user: the role of %s is %s, below %s", user, ur, role)
		}
		if slices.ContainsFunc(d.Tokens, func(t tokenRec) bool { return t.ID == rec.ID }) {
			return errors.New("token id collision; try again") // 1 in 2^64
		}
		d.Tokens = append(d.Tokens, rec)
		return nil
	})
	if err != nil {
		return "", TokenInfo{}, err
	}
	return tokenPrefix + rec.ID + "_" + base64.RawURLEncoding.EncodeToString(sec[:]), rec.info(), nil
}

// RevokeToken deletes a token by its id (shown by Tokens).
func (s *Store) RevokeToken(id string) error {
	return s.update(func(d *fileData) error {
		i := slices.IndexFunc(d.Tokens, func(t tokenRec) bool { return t.ID == id })
		if i < 0 {
			return fmt.Errorf("no API token with id %q", id)
		}
		d.Tokens = slices.Delete(d.Tokens, i, i+1)
		return nil
	})
}

// Tokens lists the API tokens, oldest first, without secrets; nil when the
// file cannot be read.
func (s *Store) Tokens() []TokenInfo {
	var out []TokenInfo
	_ = s.view(func(d *fileData) error {
		for _, t := range d.Tokens {
			out = append(out, t.info())
		}
		return nil
	})
	slices.SortFunc(out, func(a, b TokenInfo) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// TokenActive reports whether the token with this id still exists and
// belongs to an existing user: ErrBadToken when it does not, or the
// file's error. It checks no secret; it is for connections that a valid
// token opened earlier.
func (s *Store) TokenActive(id string) error {
	return s.view(func(d *fileData) error {
		i := slices.IndexFunc(d.Tokens, func(t tokenRec) bool { return t.ID == id })
		if i < 0 {
			return ErrBadToken
		}
		if _, ok := d.user(d.Tokens[i].User); !ok {
			return ErrBadToken
		}
		return nil
	})
}

// VerifyToken authenticates an API token and returns its user as the file
// has it now, and the token; what the request may do is
// info.Role.Within(user.Role). Any failure is ErrBadToken, or the file's
// error.
func (s *Store) VerifyToken(token string) (UserInfo, TokenInfo, error) {
	id, secret, err := ParseToken(token)
	if err != nil {
		return UserInfo{}, TokenInfo{}, ErrBadToken
	}
	raw, _ := base64.RawURLEncoding.Strict().DecodeString(secret) // checked by ParseToken
	sum := sha256.Sum256(raw)
	var u UserInfo
	var t TokenInfo
	err = s.view(func(d *fileData) error {
		i := slices.IndexFunc(d.Tokens, func(t tokenRec) bool { return t.ID == id })
		if i < 0 {
			return ErrBadToken
		}
		want, err := hex.DecodeString(d.Tokens[i].Hash)
		if err != nil || subtle.ConstantTimeCompare(sum[:], want) != 1 {
			return ErrBadToken
		}
		j, ok := d.user(d.Tokens[i].User)
		if !ok {
			return ErrBadToken // a hand-edited file may keep a deleted user's token
		}
		u, t = d.Users[j].info(), d.Tokens[i].info()
		return nil
	})
	if err != nil {
		return UserInfo{}, TokenInfo{}, err
	}
	return u, t, nil
}

// ParseToken splits an API token "np_<id>_<secret>" and checks its format
// strictly: a 16-character lower-case hex id and a 43-character canonical
// base64url secret of 32 bytes. It says nothing of whether the token exists.
func ParseToken(s string) (id, secret string, err error) {
	if len(s) != tokenLen || !strings.HasPrefix(s, tokenPrefix) || s[len(tokenPrefix)+tokenIDLen] != '_' {
		return "", "", errors.New("an API token looks like np_<16 hex digits>_<43 characters>")
	}
	id = s[len(tokenPrefix) : len(tokenPrefix)+tokenIDLen]
	secret = s[len(tokenPrefix)+tokenIDLen+1:]
	if !validTokenID(id) {
		return "", "", errors.New("the API token's id is not 16 lower-case hex digits")
	}
	// Strict decoding refuses non-zero trailing bits, and the alphabet
	// check newlines (which the decoder skips), so exactly one string
	// decodes to each secret.
	if strings.Trim(secret, base64URLAlphabet) != "" {
		return "", "", errors.New("the API token's secret is malformed")
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(secret); err != nil || len(b) != tokenSecBytes {
		return "", "", errors.New("the API token's secret is malformed")
	}
	return id, secret, nil
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func validTokenID(id string) bool { return len(id) == tokenIDLen && isLowerHex(id) }

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
