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
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	return StreamArchive(w, top, names, func(name string) ([]byte, error) { return files[name], nil })
}

// StreamArchive is WriteArchive for files made one at a time: names are
// the files, and content makes each, in the archive's order, when its
// turn comes; what it returns is written and dropped before the next is
// made. Only one file's content is held at a time (tar needs its size
// before it), so an archive of any size costs the memory of its largest
// file.
//
// Bad names fail before anything is written. When content fails, or w
// does, StreamArchive returns the error at once without the tar and gzip
// trailers: what w received is a broken archive (gzip reports an
// unexpected end), never a complete-looking one missing files.
func StreamArchive(w io.Writer, top string, names []string, content func(name string) ([]byte, error)) error {
	top = strings.TrimSuffix(top, "/")
	if top != "" {
		if err := checkArchiveName(top); err != nil {
			return err
		}
	}
	entries := map[string]bool{} // full name -> is a directory
	files := map[string]string{} // full name -> name
	if top != "" {
		entries[top+"/"] = true
	}
	for _, name := range names {
		if err := checkArchiveName(name); err != nil {
			return err
		}
		full := path.Join(top, name)
		entries[full] = false
		files[full] = name
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
	sorted := make([]string, 0, len(entries))
	for name := range entries {
		sorted = append(sorted, name)
	}
	slices.Sort(sorted)

	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, name := range sorted {
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
			if data, err = content(files[name]); err != nil {
				return fmt.Errorf("configfiles: archive %s: %w", name, err)
			}
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
