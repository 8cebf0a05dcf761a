package networkd

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// statfs tells an overlay as OVERLAYFS, a local file system, whatever
// its layers are on. But inotify watches the overlay's inodes: a change
// made in a layer itself, not through the overlay, raises no event on
// them and leaves the directory's stamp as it was, though the overlay
// serves the new bytes (or the new name) of a layer's file not copied
// up. On a diskless root whose lower layer is NFS, a file edited on the
// server would be returned from the watch, old, at every Load. So a
// directory on an overlay is trusted only when each of the overlay's
// layers is on a file system trusted in turn (an overlay layer: its own
// layers); otherwise its Loads are not vouched for, and stat every file.
//
// The layers are read from the super options of the overlay's line in
// the mount table (lowerdir=, a colon-separated list whose colons and
// backslashes in names are escaped by a backslash; lowerdir+= and
// datadir+=, one name each, which the new mount API adds; upperdir=,
// workdir=), the line whose device is the directory's (an overlay's
// directories report its own: a bind mount of it shows the same
// options). The names are the overlay's mounter's, resolved now in
// netpanel's mount namespace: a relative one, or one mounted in another
// namespace (a container's root, whose layers are the host's), or a name
// that now leads to the overlay itself (lowerdir=/etc mounted on /etc)
// is not trusted, nor an overlay without a lower layer shown (a kernel
// that shows no lowerdir+=) or with a layer option not known here. A
// name renamed or replaced since the mount may lead elsewhere than the
// layer: its file system is then judged by what the name leads to.
//
// The verdict is kept per overlay device until the mount table changes
// (a mount under a layer's name changes what it leads to). It is found
// without the notifier's lock (a layer on a hung NFS server would hold
// every Load): from the table as read when it starts, kept only if the
// table was not read again since.

// overlayDepth is how many overlays stacked on overlays are followed:
// the kernel stacks two at most.
const overlayDepth = 2

// trustedFS reports whether inotify sees every change of what the
// directory at path holds: its file system is a local one (localType)
// and, if an overlay, its layers are on trusted file systems. notifier
// is not locked; check, when not nil, is called before each file
// system's check (path's, then each layer's): the tests' hook.
func trustedFS(path string, check func(path string)) bool {
	notifier.Lock()
	t := tableRead{table: notifier.table, reads: notifier.reads}
	notifier.Unlock()
	return t.trustedAt(path, 0, check)
}

// tableRead is the mount table as one read of it found it.
type tableRead struct {
	table mountTable
	reads uint64
}

func (t tableRead) trustedAt(path string, depth int, check func(string)) bool {
	if check != nil {
		check(path)
	}
	var sfs unix.Statfs_t
	if unix.Statfs(path, &sfs) != nil || !localType(sfs.Type) {
		return false
	}
	if uint32(sfs.Type) != unix.OVERLAYFS_SUPER_MAGIC {
		return true
	}
	var st unix.Stat_t
	if depth >= overlayDepth || unix.Stat(path, &st) != nil {
		return false
	}
	notifier.Lock()
	ok, known := notifier.overlays[st.Dev]
	known = known && notifier.reads == t.reads
	notifier.Unlock()
	if known {
		return ok
	}
	layers, ok := overlayLayers(t.table, st.Dev)
	for _, l := range layers {
		var lst unix.Stat_t
		ok = ok && unix.Stat(l, &lst) == nil && lst.Dev != st.Dev && t.trustedAt(l, depth+1, check)
	}
	notifier.Lock()
	defer notifier.Unlock()
	if notifier.reads == t.reads {
		if notifier.overlays == nil {
			notifier.overlays = map[uint64]bool{}
		}
		notifier.overlays[st.Dev] = ok
	}
	return ok
}

// localType reports whether inotify sees every change of a file system
// of type typ (statfs): a local one, not NFS, CIFS, FUSE, 9p, whose other
// clients' changes it does not see.
func localType(typ int64) bool {
	switch uint32(typ) {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, unix.BTRFS_SUPER_MAGIC, unix.TMPFS_MAGIC,
		unix.RAMFS_MAGIC, unix.OVERLAYFS_SUPER_MAGIC, unix.F2FS_SUPER_MAGIC:
		return true
	}
	return false
}

// overlayLayers is the layers of the overlay of device dev, as table's
// lines of it tell; ok is false when they do not (no line, another file
// system's, lines that disagree, options not understood).
func overlayLayers(table mountTable, dev uint64) (layers []string, ok bool) {
	want := fmt.Sprintf("%d:%d", unix.Major(dev), unix.Minor(dev))
	super := ""
	for line := range table {
		f := strings.Fields(line)
		if len(f) < 3 || f[2] != want {
			continue
		}
		sep := slices.Index(f, "-")
		if sep < 6 || len(f) != sep+4 || f[sep+1] != "overlay" || super != "" && f[sep+3] != super {
			return nil, false
		}
		super = f[sep+3]
	}
	if super == "" {
		return nil, false
	}
	return overlayOptionLayers(super)
}

// overlayOptionLayers is the layers an overlay's super options (as
// mountinfo shows them: octal escapes) name, each absolute; ok is false
// when they name no lower layer, a name that is not absolute, or hold a
// layer option not known here.
func overlayOptionLayers(super string) (layers []string, ok bool) {
	lower := false
	for opt := range strings.SplitSeq(super, ",") {
		key, val, _ := strings.Cut(opt, "=")
		key, val = unescapeOctal(key), unescapeOctal(val)
		switch key {
		case "lowerdir":
			layers = append(layers, splitLowerdir(val)...)
			lower = true
		case "lowerdir+":
			layers = append(layers, val)
			lower = true
		case "datadir+":
			layers = append(layers, val)
		case "upperdir", "workdir":
			layers = append(layers, unescapeBackslash(val))
		case "redirect_dir":
		default:
			if strings.HasSuffix(key, "dir") || strings.HasSuffix(key, "dir+") {
				return nil, false
			}
		}
	}
	if !lower {
		return nil, false
	}
	for _, l := range layers {
		if !filepath.IsAbs(l) {
			return nil, false
		}
	}
	return layers, true
}

// splitLowerdir splits a lowerdir= value as overlayfs does: an unescaped
// colon ends a name ("::" puts the data-only layers after it), a
// backslash takes the next byte as it is.
func splitLowerdir(val string) []string {
	var names []string
	var b strings.Builder
	for i := 0; i < len(val); i++ {
		switch c := val[i]; {
		case c == '\\':
			if i+1 < len(val) {
				i++
				b.WriteByte(val[i])
			}
		case c == ':':
			if b.Len() > 0 {
				names = append(names, b.String())
			}
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(names, b.String())
}

// unescapeBackslash undoes the escapes of an upperdir= or workdir=
// value as overlayfs does: a backslash takes the next byte as it is.
func unescapeBackslash(val string) string {
	var b strings.Builder
	for i := 0; i < len(val); i++ {
		if val[i] == '\\' && i+1 < len(val) {
			i++
		}
		b.WriteByte(val[i])
	}
	return b.String()
}
