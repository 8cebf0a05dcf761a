package static

import (
	"io/fs"
	"os"
	"testing"
)

func TestFS(t *testing.T) {
	for _, name := range []string{"app.css", "pages.css", "live.js", "forms.js", "once.js", "traffic.js", "vendor/README.md"} {
		t.Run(name+" is embedded", func(t *testing.T) {
			if _, err := fs.Stat(FS, name); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("HasVendor agrees with the files on disk", func(t *testing.T) {
		_, err := os.Stat("vendor/htmx.min.js")
		if onDisk := err == nil; HasVendor() != onDisk {
			t.Fatalf("HasVendor() = %v, vendor/htmx.min.js on disk: %v", HasVendor(), onDisk)
		}
	})
	t.Run("vendored files are all present or all absent", func(t *testing.T) {
		n := 0
		for _, name := range VendorFiles {
			if _, err := fs.Stat(FS, name); err == nil {
				n++
			}
		}
		if n != 0 && n != len(VendorFiles) {
			t.Fatalf("%d of %d vendor files embedded; run make vendor", n, len(VendorFiles))
		}
	})
}
