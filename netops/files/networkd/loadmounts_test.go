package networkd

import (
	"slices"
	"testing"
)

func TestMountPointOfAMountinfoLine(t *testing.T) {
	for line, want := range map[string]string{
		"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw":                              "/",
		`80 27 0:40 / /tmp/a\040b\011c\012d\134e rw,relatime - tmpfs tmpfs rw`:       "/tmp/a b\tc\nd\\e",
		`81 27 0:41 /x /etc/systemd/network/10-wan.network rw shared:1 - tmpfs t rw`: "/etc/systemd/network/10-wan.network",
		`82 27 0:42 / /tmp/not\99escape rw - tmpfs t rw`:                             `/tmp/not\99escape`,
		`83 27 0:43 / /tmp/short\04 rw - tmpfs t rw`:                                 `/tmp/short\04`,
	} {
		if got, ok := mountPoint(line); !ok || got != want {
			t.Errorf("mountPoint(%q) = %q, %v; want %q", line, got, ok, want)
		}
	}
	for _, line := range []string{"", "27 1 254:0 /", "27 1 254:0 / relative rw"} {
		if got, ok := mountPoint(line); ok {
			t.Errorf("mountPoint(%q) = %q; want it refused", line, got)
		}
	}
}

func TestWhichMountsConcernALoader(t *testing.T) {
	dirs := []string{"/etc/systemd/network", "/run/systemd/network", "/dev/null"}
	for point, want := range map[string]bool{
		"/":                                   true, // a new root
		"/etc":                                true,
		"/etc/systemd/network":                true,
		"/etc/systemd/network/10-wan.network": true,
		"/etc/systemd/network/a.network.d":    true,
		"/run/systemd/network/x/y":            true,
		"/etc/systemd/networkd.conf.d":        false,
		"/etc/systemd/network2":               false,
		"/run/netns/np-test-1":                false,
		"/var/lib/docker/overlay2/x/merged":   false,
		"/dev":                                true, // the masks' target
		"/dev/null":                           true,
		"/dev/shm":                            false,
	} {
		if got := concerns(dirs, point); got != want {
			t.Errorf("a mount on %s concerns %v: %v, want %v", point, dirs, got, want)
		}
	}
}

func TestChangedMountsAreTheLinesNotInBoth(t *testing.T) {
	old := mountTable{
		"27 1 254:0 / / rw - ext4 /dev/vda rw":                1,
		"80 27 0:40 / /a rw - tmpfs t rw":                     1,
		"81 27 0:41 / /b rw - tmpfs t rw":                     2, // mounted twice over
		"82 27 0:42 / /c\\040d rw - tmpfs t rw":               1,
		"83 27 0:43 / /same rw - tmpfs t rw":                  1,
		"84 27 0:44 / /remounted rw,relatime - tmpfs t rw":    1,
		"85 27 0:45 / /gone/as/well rw,relatime - tmpfs t rw": 1,
	}
	cur := mountTable{
		"27 1 254:0 / / rw - ext4 /dev/vda rw":             1,
		"81 27 0:41 / /b rw - tmpfs t rw":                  1,
		"83 27 0:43 / /same rw - tmpfs t rw":               1,
		"84 27 0:44 / /remounted ro,relatime - tmpfs t rw": 1,
		"86 27 0:46 / /new rw - tmpfs t rw":                1,
		"87 27 0:47 / /new/too rw - tmpfs t rw":            1,
	}
	got, ok := changedMounts(old, cur)
	slices.Sort(got)
	want := []string{"/a", "/b", "/b", "/c d", "/gone/as/well", "/new", "/new/too", "/remounted", "/remounted"}
	if !ok || !slices.Equal(got, want) {
		t.Fatalf("changedMounts = %q, %v; want %q", got, ok, want)
	}
	if _, ok := changedMounts(old, mountTable{"bad line": 1}); ok {
		t.Fatal("a line that does not parse is told apart")
	}
}
