package configfiles

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
)

// archiveTime is the mtime of every archive entry: fixed so that the same
// files always give the same bytes (2000-01-01 00:00:00 UTC; some tools
// warn about the Unix epoch itself).
var archiveTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteArchive writes a .tar.gz of files (slash-separated name -> content)
// under the directory top ("" for none). Entries are sorted, each
// directory comes before its contents, and all metadata is fixed
// (root:root, 0644 files, 0755 directories, mtime archiveTime; gzip
// header without name or time), so equal input gives byte-identical
// output and exports can be compared by hash.
func WriteArchive(w io.Writer, top string, files map[string][]byte) error {
	top = strings.TrimSuffix(top, "/")
	if top != "" {
		if err := checkArchiveName(top); err != nil {
			return err
		}
	}
	entries := map[string]bool{}   // full name -> is a directory
	content := map[string][]byte{} // full name -> file content
	if top != "" {
		entries[top+"/"] = true
	}
	for name := range files {
		if err := checkArchiveName(name); err != nil {
			return err
		}
		full := path.Join(top, name)
		entries[full] = false
		content[full] = files[name]
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			entries[path.Join(top, d)+"/"] = true
		}
	}
	for name, isDir := range entries {
		if !isDir && entries[name+"/"] {
			return fmt.Errorf("configfiles: archive: %q is both a file and a directory", name)
		}
	}
	// "a/" sorts before "a/b", so plain sorting puts directories first.
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	slices.Sort(names)

	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, name := range names {
		hdr := &tar.Header{
			Name:    name,
			ModTime: archiveTime,
			Uname:   "root",
			Gname:   "root",
			Format:  tar.FormatPAX,
		}
		var data []byte
		if entries[name] {
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
		} else {
			data = content[name]
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, int64(len(data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("configfiles: archive %s: %w", name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("configfiles: archive %s: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// checkArchiveName accepts clean relative slash paths without "..", so
// that unpacking the export cannot write outside its directory.
func checkArchiveName(name string) error {
	if name == "" || path.Clean(name) != name || path.IsAbs(name) ||
		name == "." || strings.Contains(name, "\\") || strings.ContainsRune(name, 0) {
		return fmt.Errorf("configfiles: archive: bad name %q", name)
	}
	for _, elem := range strings.Split(name, "/") {
		if elem == ".." {
			return fmt.Errorf("configfiles: archive: bad name %q", name)
		}
	}
	return nil
}
