package auth

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestTokenLifecycle(t *testing.T) {
	s, path := newStore(t)
	mustAdd(t, s, RoleViewer, "ci")
	tok, info, err := s.CreateToken("ci", "pipeline")
	if err != nil {
		t.Fatal(err)
	}
	id, secret, err := ParseToken(tok)
	if err != nil || id != info.ID {
		t.Fatalf("a created token does not parse: %q %v", tok, err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), secret) {
		t.Fatal("the users file holds the token's secret")
	}
	u, ti, err := s.VerifyToken(tok)
	if err != nil || u.Name != "ci" || u.Role != RoleViewer || ti != info || ti.Note != "pipeline" {
		t.Fatalf("VerifyToken = %+v %+v %v", u, ti, err)
	}
	if l := s.Tokens(); len(l) != 1 || l[0] != info {
		t.Fatalf("Tokens = %+v", l)
	}
	if err := s.RevokeToken(info.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.VerifyToken(tok); !errors.Is(err, ErrBadToken) {
		t.Fatalf("a revoked token: %v", err)
	}
	if err := s.RevokeToken(info.ID); err == nil {
		t.Fatal("revoking twice succeeded")
	}
}

func TestVerifyTokenRefuses(t *testing.T) {
	s, _ := newStore(t)
	mustAdd(t, s, RoleAdmin, "ci")
	tok, info, err := s.CreateToken("ci", "")
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	other := strings.Repeat("0", 16)
	if info.ID == other {
		other = strings.Repeat("1", 16)
	}
	for _, c := range []struct{ name, token string }{
		{"an empty string", ""},
		{"a token with one secret character changed", flip(len(tok) - 5)},
		{"a token with the last character changed", flip(len(tok) - 1)},
		{"a token with the id of another", "np_" + other + tok[3+16:]},
		{"a token with a newline", tok[:len(tok)-1] + "\n"},
		{"a token with trailing space", tok + " "},
		{"a token in upper case", strings.ToUpper(tok)},
		{"a token without its prefix", tok[3:]},
		{"a bearer header instead of a token", "Bearer " + tok},
	} {
		t.Run("VerifyToken refuses "+c.name, func(t *testing.T) {
			if _, _, err := s.VerifyToken(c.token); !errors.Is(err, ErrBadToken) {
				t.Fatalf("VerifyToken(%q): %v", c.token, err)
			}
		})
	}
}

func TestCreateTokenRefuses(t *testing.T) {
	s, _ := newStore(t)
	mustAdd(t, s, RoleAdmin, "ci")
	for _, c := range []struct{ name, user, note string }{
		{"a token for an unknown user", "ghost", ""},
		{"a note over 200 bytes", "ci", strings.Repeat("n", 201)},
		{"a note with a newline", "ci", "a\nb"},
	} {
		t.Run("CreateToken refuses "+c.name, func(t *testing.T) {
			if _, _, err := s.CreateToken(c.user, c.note); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestParseToken(t *testing.T) {
	id := "0123456789abcdef"
	sec := strings.Repeat("A", 43) // 32 zero bytes
	for _, c := range []struct {
		name, in string
		ok       bool
	}{
		{"a well-formed token parses", "np_" + id + "_" + sec, true},
		{"a secret with - and _ parses", "np_" + id + "_" + strings.Repeat("-_", 21) + "w", true},
		{"an upper-case id is refused", "np_0123456789ABCDEF_" + sec, false},
		{"a short id is refused", "np_0123456789abcde_" + sec + "A", false},
		{"a secret with non-zero trailing bits is refused", "np_" + id + "_" + sec[:42] + "B", false},
		{"a secret with standard base64 characters is refused", "np_" + id + "_" + sec[:42] + "+", false},
		{"a secret with padding is refused", "np_" + id + "_" + sec[:42] + "=", false},
		{"a newline in the secret is refused", "np_" + id + "_" + sec[:21] + "\n" + sec[:21], false},
		{"another prefix is refused", "xp_" + id + "_" + sec, false},
		{"a missing separator is refused", "np_" + id + "-" + sec, false},
		{"an empty string is refused", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			gid, gsec, err := ParseToken(c.in)
			if (err == nil) != c.ok {
				t.Fatalf("ParseToken(%q) = %q %q %v", c.in, gid, gsec, err)
			}
			if c.ok && "np_"+gid+"_"+gsec != c.in {
				t.Fatalf("parts %q %q do not make %q", gid, gsec, c.in)
			}
		})
	}
}

func TestTokenActive(t *testing.T) {
	s, _ := newStore(t)
	mustAdd(t, s, RoleAdmin, "admin")
	mustAdd(t, s, RoleViewer, "bob")
	_, info, err := s.CreateToken("bob", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.TokenActive(info.ID); err != nil {
		t.Fatalf("a fresh token: %v", err)
	}
	if err := s.DeleteUser("bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.TokenActive(info.ID); !errors.Is(err, ErrBadToken) {
		t.Fatalf("the token of a deleted user: %v, want ErrBadToken", err)
	}
	if err := s.TokenActive("0123456789abcdef"); !errors.Is(err, ErrBadToken) {
		t.Fatalf("an unknown token: %v", err)
	}
}
