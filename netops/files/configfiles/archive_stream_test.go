package configfiles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestStreamArchiveMakesEachFileInTurn: the content of each file is asked
// for once, in the archive's order, and the archive is WriteArchive's to
// the byte.
func TestStreamArchiveMakesEachFileInTurn(t *testing.T) {
	files := map[string][]byte{
		"README": []byte("read me\n"), "network/10-b.network": []byte("b\n"), "network/10-a.network": bytes.Repeat([]byte("a"), 70000),
		"docker/daemon.json": []byte("{}\n"), "iproute2/rt_tables.d/netpanel.conf": []byte("100\tx\n"),
	}
	var want, got bytes.Buffer
	if err := WriteArchive(&want, "top", files); err != nil {
		t.Fatal(err)
	}
	var asked []string
	names := []string{"network/10-b.network", "README", "docker/daemon.json", "network/10-a.network", "iproute2/rt_tables.d/netpanel.conf"}
	if err := StreamArchive(&got, "top", names, func(name string) ([]byte, error) {
		asked = append(asked, name)
		return files[name], nil
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Error("StreamArchive's archive differs from WriteArchive's for the same files")
	}
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	if !slices.Equal(asked, sorted) {
		t.Errorf("content asked for %v, want each once in the archive's order %v", asked, sorted)
	}
}

// TestStreamArchiveBrokenMidway: a file that fails once the archive has
// begun leaves a stream no reader takes for a whole archive, and a bad
// name fails before a byte is written.
func TestStreamArchiveBrokenMidway(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	boom := errors.New("boom")
	var out bytes.Buffer
	err := StreamArchive(&out, "top", names, func(name string) ([]byte, error) {
		if name == "c" {
			return nil, boom
		}
		// Incompressible, so that gzip has passed bytes on before c.
		data := make([]byte, 64<<10)
		_, _ = rand.NewChaCha8([32]byte{name[0]}).Read(data)
		return data, nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("StreamArchive = %v, want the content's error", err)
	}
	if out.Len() == 0 {
		t.Fatal("nothing written before the failure: the test does not reach a broken stream")
	}
	zr, err := gzip.NewReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatalf("the start of the stream is not gzip: %v", err)
	}
	tr := tar.NewReader(zr)
	var seen []string
	var readErr error
	for {
		h, err := tr.Next()
		if err != nil {
			readErr = err
			break
		}
		seen = append(seen, h.Name)
		if _, err := io.Copy(io.Discard, tr); err != nil {
			readErr = err
			break
		}
	}
	if readErr == io.EOF || readErr == nil {
		t.Errorf("the broken stream reads as a whole archive of %v", seen)
	}
	if !errors.Is(readErr, io.ErrUnexpectedEOF) {
		t.Errorf("reading the broken stream: %v, want an unexpected EOF", readErr)
	}

	out.Reset()
	if err := StreamArchive(&out, "top", []string{"ok", "../escape"}, func(string) ([]byte, error) { return nil, nil }); err == nil || out.Len() != 0 {
		t.Errorf("a bad name: error %v, %d bytes written; want an error and nothing written", err, out.Len())
	}
}
