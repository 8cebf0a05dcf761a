package handlers

import "testing"

func TestCountNamesOneOrMany(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{
		{0, "0 routes"},
		{1, "1 route"},
		{2, "2 routes"},
		{1234567, "1,234,567 routes"},
	} {
		if got := count(c.n, "route", "routes"); got != c.want {
			t.Errorf("count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
