package auth

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
)

// ParseLogin reads the login form's user and password fields.
func ParseLogin(form url.Values) (user, password string, err error) {
	user = strings.TrimSpace(form.Get("user"))
	password = form.Get("password")
	switch {
	case user == "":
		return user, "", errors.New("enter your user name")
	case len(user) > 64:
		return "", "", errors.New("that user name is too long")
	case strings.IndexFunc(user, unicode.IsControl) >= 0:
		return "", "", errors.New("the user name contains control characters")
	case password == "":
		return user, "", errors.New("enter your password")
	case len(password) > 1024:
		return user, "", errors.New("that password is too long")
	}
	return user, password, nil
}
