package testenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"testing"
)

// TarEntry is one entry of an archive, as a test reads it back.
type TarEntry struct {
	*tar.Header
	Data []byte
}

// ReadTarGz returns the entries of a gzipped tar archive in their order;
// a malformed archive fails the test.
func ReadTarGz(t testing.TB, gz []byte) []TarEntry {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []TarEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, TarEntry{Header: h, Data: data})
	}
}
