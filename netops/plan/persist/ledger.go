package persist

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/files/safefile"
)

// ledger remembers what netpanel last wrote into files that cannot carry
// an ownership comment (JSON): rel name -> SHA-256 of the content. A file
// whose content still matches is netpanel's; one edited by hand is not.
type ledger struct{ path string }

func (m *Manager) ledger() ledger {
	return ledger{path: filepath.Join(m.opts.BackupDir, "written.json")}
}

func (l ledger) read() map[string]string {
	out := map[string]string{}
	data, err := safefile.Read(l.path)
	if err != nil {
		return out
	}
	_ = json.Unmarshal(data, &out) // a damaged ledger owns nothing
	return out
}

func sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

func (l ledger) has(rel string, data []byte) bool {
	return l.read()[rel] == sum(data)
}

// record notes the JSON files of changes as netpanel's.
func (l ledger) record(changes []configfiles.Change) error {
	m := l.read()
	changed := false
	for _, c := range changes {
		if !strings.HasPrefix(c.Rel, DockerRoot+"/") {
			continue
		}
		if c.New == nil {
			delete(m, c.Rel)
		} else {
			m[c.Rel] = sum(c.New)
		}
		changed = true
	}
	if !changed {
		return nil
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	tmp := l.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, l.path)
}
