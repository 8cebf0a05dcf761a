package rttables

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// DefaultDirs are the directories iproute2 reads, lowest priority first.
// iproute2 6.1 (Debian 12) reads only /etc/iproute2; newer releases fall
// back to /usr/share/iproute2 for files that /etc lacks.
var DefaultDirs = []string{"/usr/share/iproute2", "/etc/iproute2"}

// Load reads table names from dirs (DefaultDirs when none are given),
// lowest priority first, with the rules of newer iproute2 generalised to
// any number of directories:
//
//   - DIR/rt_tables is read from the last directory that has one only;
//     files are not merged, so /etc/iproute2/rt_tables hides the one in
//     /usr/share entirely.
//   - DIR/rt_tables.d/NAME.conf is read from the last directory that has a
//     file of that NAME; files of distinct names in all directories are read.
//     Directories are taken in order, files in each by name (iproute2 takes
//     them in readdir order, which is not defined).
//
// Later lines win for the same ID. Missing files and directories are
// normal; every other problem is returned as an error, and Load always
// returns a usable snapshot with what it could read.
func Load(dirs ...string) (*Tables, []error) {
	if len(dirs) == 0 {
		dirs = DefaultDirs
	}
	var (
		entries []Entry
		errs    []error
	)
	add := func(path string) (found bool) {
		got, found, err := readFile(path)
		entries = append(entries, got...)
		if err != nil {
			errs = append(errs, err)
		}
		return found
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if add(filepath.Join(dirs[i], "rt_tables")) {
			break
		}
	}
	files, dirErrs := confFiles(dirs)
	errs = append(errs, dirErrs...)
	for _, f := range files {
		add(f)
	}
	return New(entries...), errs
}

// readFile parses one file. found is false only when it does not exist.
func readFile(path string) (entries []Entry, found bool, err error) {
	data, err := safefile.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if errors.Is(err, safefile.ErrNotRegular) {
		if st, serr := os.Stat(path); serr == nil && st.IsDir() {
			return nil, true, nil // iproute2 reads nothing from it either
		}
	}
	if err != nil {
		return nil, true, err
	}
	entries, err = Parse(bytes.NewReader(data), path)
	return entries, true, err
}

// confFiles lists the rt_tables.d/*.conf files to read, in reading order.
func confFiles(dirs []string) ([]string, []error) {
	var errs []error
	owner := map[string]int{} // file name -> last dir index that has it
	names := make([][]string, len(dirs))
	for i, dir := range dirs {
		d := filepath.Join(dir, "rt_tables.d")
		des, err := os.ReadDir(d)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("reading %s: %w", d, err))
		}
		for _, de := range des {
			n := de.Name()
			// iproute2: skip dot files and names that are only ".conf".
			if strings.HasPrefix(n, ".") || len(n) <= len(".conf") || !strings.HasSuffix(n, ".conf") {
				continue
			}
			owner[n] = i // any kind of file, even a dangling link, hides lower ones
			names[i] = append(names[i], n)
		}
	}
	var files []string
	for i, dir := range dirs {
		slices.Sort(names[i])
		for _, n := range names[i] {
			if owner[n] == i {
				files = append(files, filepath.Join(dir, "rt_tables.d", n))
			}
		}
	}
	return files, errs
}
