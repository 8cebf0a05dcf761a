package auth

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

func FuzzParseLogin(f *testing.F) {
	f.Add("admin", "secret")
	f.Add(" \t", "")
	f.Add("a\x7fb", "p")
	f.Fuzz(func(t *testing.T, user, pw string) {
		u, p, err := ParseLogin(url.Values{"user": {user}, "password": {pw}})
		if err != nil {
			return
		}
		if u == "" || len(u) > 64 || strings.IndexFunc(u, unicode.IsControl) >= 0 || p == "" || len(p) > 1024 {
			t.Fatalf("accepted %q / %d-byte password", u, len(p))
		}
	})
}

// FuzzVerifyToken checks that no string but the one created authenticates.
func FuzzVerifyToken(f *testing.F) {
	s, err := Open(filepath.Join(f.TempDir(), "users.json"))
	if err != nil {
		f.Fatal(err)
	}
	if err := s.AddUser("ci", RoleAdmin, "a long enough password"); err != nil {
		f.Fatal(err)
	}
	tok, _, err := s.CreateToken("ci", "")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add("np_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("np__")
	f.Fuzz(func(t *testing.T, s2 string) {
		if _, _, err := ParseToken(s2); err == nil {
			id, sec, _ := ParseToken(s2)
			if "np_"+id+"_"+sec != s2 {
				t.Fatalf("ParseToken does not round-trip %q", s2)
			}
		}
		if _, _, err := s.VerifyToken(s2); err == nil && s2 != tok {
			t.Fatalf("accepted a token that was never issued: %q", s2)
		}
	})
}
