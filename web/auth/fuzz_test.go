package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzParseLogin(f *testing.F) {
	f.Add("admin", "secret")
	f.Add(" \t", "")
	f.Add("a\x7fb", "p")
	f.Add("\xff", "p")
	f.Add(strings.Repeat("a", 65), "p")
	f.Fuzz(func(t *testing.T, user, pw string) {
		u, p, err := ParseLogin(url.Values{"user": {user}, "password": {pw}})
		if err != nil {
			return
		}
		if u == "" || len(u) > 64 || u != strings.TrimSpace(u) || !utf8.ValidString(u) ||
			strings.IndexFunc(u, unicode.IsControl) >= 0 || p != pw || p == "" || len(p) > 1024 {
			t.Fatalf("accepted user %q and a %d-byte password", u, len(p))
		}
	})
}

func FuzzParseToken(f *testing.F) {
	f.Add("np_0123456789abcdef_" + strings.Repeat("A", 43))
	f.Add("np_0123456789abcdef_" + strings.Repeat("A", 42) + "B")
	f.Add("np__")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := ParseToken(s)
		if err != nil {
			return
		}
		if "np_"+id+"_"+secret != s || !validTokenID(id) || len(secret) != 43 {
			t.Fatalf("ParseToken accepted %q as %q, %q", s, id, secret)
		}
	})
}

// FuzzVerifyToken checks that no string but the tokens issued
// authenticates, whatever its shape. The tokens are fixed rather than
// random so that every fuzzing worker process knows the same ones.
func FuzzVerifyToken(f *testing.F) {
	s, _ := newStore(f)
	mustAdd(f, s, RoleAdmin, "ci")
	valid := map[string]bool{}
	err := s.update(func(d *fileData) error {
		for i := range 2 {
			secret := sha256.Sum256([]byte{byte(i)})
			sum := sha256.Sum256(secret[:])
			id := fmt.Sprintf("%016x", i+1)
			d.Tokens = append(d.Tokens, tokenRec{ID: id, User: "ci", Hash: hex.EncodeToString(sum[:])})
			valid["np_"+id+"_"+base64.RawURLEncoding.EncodeToString(secret[:])] = true
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	for tok := range valid {
		f.Add(tok)
		f.Add(tok[:len(tok)-1] + "A")
		f.Add(strings.ToUpper(tok))
	}
	f.Add("np_0123456789abcdef_" + strings.Repeat("A", 43))
	f.Add("np__")
	f.Fuzz(func(t *testing.T, tok string) {
		u, info, err := s.VerifyToken(tok)
		if err == nil && (!valid[tok] || u.Name != "ci" || !strings.Contains(tok, info.ID)) {
			t.Fatalf("accepted a token that was never issued: %q", tok)
		}
		if err != nil && valid[tok] {
			t.Fatalf("refused an issued token: %v", err)
		}
	})
}
