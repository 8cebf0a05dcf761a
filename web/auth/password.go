package auth

import (
	"crypto/rand"
	"fmt"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// bcryptCost makes one guess cost about a quarter of a second.
const bcryptCost = 12

// Password limits: bcrypt reads only the first 72 bytes, so a longer
// password would silently count as its prefix; fewer than 10 characters
// are too easy to guess.
const (
	minPasswordChars = 10
	maxPasswordBytes = 72
)

// checkPassword enforces the limits on a new password.
func checkPassword(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return fmt.Errorf("the password is not valid UTF-8 text")
	case utf8.RuneCountInString(pw) < minPasswordChars:
		return fmt.Errorf("the password is too short: use at least %d characters", minPasswordChars)
	case len(pw) > maxPasswordBytes:
		return fmt.Errorf("the password is too long: bcrypt uses at most %d bytes, this one has %d", maxPasswordBytes, len(pw))
	}
	return nil
}

func (s *Store) hashPassword(pw string) (string, error) {
	if err := checkPassword(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), s.cost)
	return string(h), err
}

// dummyHash12 is a cost-12 bcrypt hash of a random string nobody knows.
// Verify compares against it for unknown users, so a wrong user name takes
// as long as a wrong password and timing does not reveal who exists.
const dummyHash12 = "$2a$12$ssIZb3I/n/nVC2zo.UQOv.Dt3StPEOGQV/DXHWusx666FOHBWgK3a"

var dummyHashes sync.Map // cost -> []byte, for the costs tests use

// dummyHash returns a hash of the store's cost, so the comparison lasts as
// long as a real one.
func (s *Store) dummyHash() []byte {
	if s.cost == bcryptCost {
		return []byte(dummyHash12)
	}
	if h, ok := dummyHashes.Load(s.cost); ok {
		return h.([]byte)
	}
	h, _ := bcrypt.GenerateFromPassword([]byte(rand.Text()), s.cost)
	dummyHashes.Store(s.cost, h)
	return h
}

// passwordAlphabet leaves out look-alikes: 0/O, 1/l/I.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns 20 random characters from an alphabet without
// look-alikes (no 0, O, 1, l or I): about 116 bits, read from crypto/rand.
func GeneratePassword() string {
	const n = 20
	// Rejecting bytes at or above the largest multiple of the alphabet's
	// size keeps every character equally likely.
	const limit = 256 - 256%len(passwordAlphabet)
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		rand.Read(buf[:]) // never fails: Go crashes the program instead
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out)
}
