package configfiles

import (
	"errors"
	"strings"
	"testing"
)

func TestAbs(t *testing.T) {
	l := Layout{Dirs: map[string]string{
		"":                "/etc/systemd/network",
		"networkd.conf.d": "/etc/systemd/networkd.conf.d",
		"docker":          "/etc/docker",
	}}
	good := []struct{ rel, abs string }{
		{"10-br0.network", "/etc/systemd/network/10-br0.network"},
		{"wg0.netdev", "/etc/systemd/network/wg0.netdev"},
		{"networkd.conf.d/netpanel-tables.conf", "/etc/systemd/networkd.conf.d/netpanel-tables.conf"},
		{"docker/daemon.json", "/etc/docker/daemon.json"},
		{"docker", "/etc/systemd/network/docker"}, // a plain name, not the root
	}
	for _, tc := range good {
		t.Run(tc.rel+" maps into its directory", func(t *testing.T) {
			got, err := l.Abs(tc.rel)
			if err != nil || got != tc.abs {
				t.Fatalf("Abs(%q) = %q, %v; want %q", tc.rel, got, err, tc.abs)
			}
		})
	}
	bad := []struct {
		name, rel string
		want      error
	}{
		{"empty name is refused", "", ErrEmptyName},
		{"absolute name is refused", "/etc/passwd", ErrAbsolute},
		{"dot-dot is refused", "..", ErrDotName},
		{"dot-dot under a root is refused", "docker/..", ErrDotName},
		{"dot-dot as root is refused", "../passwd", ErrDotName},
		{"dot is refused", ".", ErrDotName},
		{"hidden name is refused", ".10-br0.network.netpanel-123", ErrDotName},
		{"two levels are refused", "docker/x/daemon.json", ErrTooDeep},
		{"traversal through a root is refused", "docker/../../etc/shadow", ErrTooDeep},
		{"trailing slash is refused", "docker/", ErrEmptyName},
		{"empty root is refused", "/daemon.json", ErrAbsolute},
		{"double slash is refused", "docker//daemon.json", ErrTooDeep},
		{"unknown root is refused", "cron.d/x", ErrUnknownRoot},
		{"NUL is refused", "a\x00b.network", ErrBadChar},
		{"newline is refused", "a\n.network", ErrBadChar},
		{"space is refused", "a b.network", ErrBadChar},
		{"backslash is refused", `a\b.network`, ErrBadChar},
		{"non-ASCII is refused", "brü.network", ErrBadChar},
		{"over-long name is refused", strings.Repeat("a", 256), ErrTooLong},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			got, err := l.Abs(tc.rel)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Abs(%q) = %q, %v; want %v", tc.rel, got, err, tc.want)
			}
			var ne *NameError
			if !errors.As(err, &ne) || ne.Rel != tc.rel {
				t.Fatalf("error %v is not a *NameError for %q", err, tc.rel)
			}
		})
	}
	t.Run("a relative configured directory is refused", func(t *testing.T) {
		l := Layout{Dirs: map[string]string{"": "etc/systemd/network"}}
		if _, err := l.Abs("a.network"); !errors.Is(err, ErrNoDir) {
			t.Fatalf("err = %v, want ErrNoDir", err)
		}
	})
}
