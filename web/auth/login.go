package auth

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what the login form may carry. They are looser than the
// rules for new accounts and passwords: a login only needs to be safe to
// look up, log and hash.
const (
	maxLoginUserBytes     = 64
	maxLoginPasswordBytes = 1024
)

// ParseLogin reads the login form's "user" and "password" fields. The
// user name is trimmed and must be 1 to 64 bytes of text without control
// characters; the password 1 to 1024 bytes, taken as typed. On an error the
// returned user is the trimmed name when it is safe to show again, else "".
func ParseLogin(form url.Values) (user, password string, err error) {
	user = strings.TrimSpace(form.Get("user"))
	password = form.Get("password")
	switch {
	case user == "":
		return "", "", errors.New("enter your user name")
	case len(user) > maxLoginUserBytes:
		return "", "", errors.New("that user name is too long (at most 64 characters)")
	case !utf8.ValidString(user) || strings.IndexFunc(user, unicode.IsControl) >= 0:
		return "", "", errors.New("the user name contains characters that cannot be in one")
	case password == "":
		return user, "", errors.New("enter your password")
	case len(password) > maxLoginPasswordBytes:
		return user, "", errors.New("that password is too long (at most 1024 bytes)")
	}
	return user, password, nil
}
