package auth

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseLogin(t *testing.T) {
	for _, c := range []struct {
		name           string
		user, password string
		wantUser       string
		err            string // part of the error, "" for success
	}{
		{"a normal login is accepted", "admin", "pw", "admin", ""},
		{"spaces around the name are trimmed", " \tadmin \n", "pw", "admin", ""},
		{"the password is kept as typed", "admin", " pw ", "admin", ""},
		{"a missing name asks for one", "", "pw", "", "enter your user name"},
		{"a blank name asks for one", "   ", "pw", "", "enter your user name"},
		{"a missing password asks for one", "admin", "", "admin", "enter your password"},
		{"a name of 64 bytes is accepted", strings.Repeat("a", 64), "pw", strings.Repeat("a", 64), ""},
		{"a name over 64 bytes is refused", strings.Repeat("a", 65), "pw", "", "too long"},
		{"a name with a control character is refused", "ad\x00min", "pw", "", "characters"},
		{"a name with an escape sequence is refused", "ad\x1b[2Jmin", "pw", "", "characters"},
		{"a name that is not UTF-8 is refused", "ad\xffmin", "pw", "", "characters"},
		{"a password of 1024 bytes is accepted", "admin", strings.Repeat("p", 1024), "admin", ""},
		{"a password over 1024 bytes is refused", "admin", strings.Repeat("p", 1025), "admin", "too long"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u, p, err := ParseLogin(url.Values{"user": {c.user}, "password": {c.password}})
			if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("error %v, want %q", err, c.err)
			}
			if u != c.wantUser {
				t.Fatalf("user %q, want %q", u, c.wantUser)
			}
			if err == nil && p != c.password {
				t.Fatalf("password %q, want %q", p, c.password)
			}
		})
	}
}
