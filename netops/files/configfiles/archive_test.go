package configfiles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

func TestWriteArchive(t *testing.T) {
	files := map[string][]byte{
		"docker/daemon.json":                   []byte("{}\n"),
		"10-br0.network":                       []byte(ownedFile("[Match]\nName=br0\n")),
		"networkd.conf.d/netpanel-tables.conf": []byte(ownedFile("[Network]\nRouteTable=vpn:100\n")),
		"empty.netdev":                         {},
	}
	var a, b bytes.Buffer
	if err := WriteArchive(&a, "netpanel-config/", files); err != nil {
		t.Fatal(err)
	}
	if err := WriteArchive(&b, "netpanel-config", files); err != nil {
		t.Fatal(err)
	}
	t.Run("the same files give byte-identical archives", func(t *testing.T) {
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("two archives of the same files differ")
		}
	})
	t.Run("the gzip header has no name and no time", func(t *testing.T) {
		zr, err := gzip.NewReader(bytes.NewReader(a.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if zr.Name != "" || !zr.ModTime.IsZero() {
			t.Errorf("gzip header: name %q, mtime %v", zr.Name, zr.ModTime)
		}
	})
	t.Run("entries are sorted with fixed metadata and the right content", func(t *testing.T) {
		var listing []string
		for _, h := range testenv.ReadTarGz(t, a.Bytes()) {
			data := h.Data
			if h.Uid != 0 || h.Gid != 0 || h.Uname != "root" || h.Gname != "root" || !h.ModTime.Equal(archiveTime) {
				t.Errorf("%s: metadata %+v", h.Name, h.Header)
			}
			kind := "file"
			if h.Typeflag == tar.TypeDir {
				kind = "dir"
			}
			listing = append(listing, fmt.Sprintf("%s %s %04o", h.Name, kind, h.Mode))
			if h.Typeflag == tar.TypeReg {
				rel := strings.TrimPrefix(h.Name, "netpanel-config/")
				if !bytes.Equal(data, files[rel]) {
					t.Errorf("%s: content %q, want %q", h.Name, data, files[rel])
				}
			}
		}
		want := []string{
			"netpanel-config/ dir 0755",
			"netpanel-config/10-br0.network file 0644",
			"netpanel-config/docker/ dir 0755",
			"netpanel-config/docker/daemon.json file 0644",
			"netpanel-config/empty.netdev file 0644",
			"netpanel-config/networkd.conf.d/ dir 0755",
			"netpanel-config/networkd.conf.d/netpanel-tables.conf file 0644",
		}
		if got := strings.Join(listing, "\n"); got != strings.Join(want, "\n") {
			t.Errorf("listing:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
		}
	})
	t.Run("names that could escape the export directory are refused", func(t *testing.T) {
		for _, name := range []string{"../x", "/etc/passwd", "a/../../x", "a//b", "", "./a", "a\\b"} {
			if err := WriteArchive(io.Discard, "top", map[string][]byte{name: nil}); err == nil {
				t.Errorf("WriteArchive accepted %q", name)
			}
		}
		if err := WriteArchive(io.Discard, "../top", files); err == nil {
			t.Error("WriteArchive accepted top ../top")
		}
	})
	t.Run("a name that is both a file and a directory is refused", func(t *testing.T) {
		err := WriteArchive(io.Discard, "", map[string][]byte{"docker": {}, "docker/daemon.json": {}})
		if err == nil {
			t.Error("accepted")
		}
	})
}
