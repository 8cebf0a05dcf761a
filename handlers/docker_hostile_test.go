package handlers

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// daemon.json is outside netpanel's control: a symlink out of the Docker
// directory, a FIFO or a 200 MB file is refused with a sentence saying
// so, on the page, its live checklist, the preview and the export; the
// linked-to file is never shown.
func TestDockerPageRefusesAHostileDaemonJSON(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		make       func(t *testing.T, path string)
	}{
		{"a symlink out of the directory", "is a symlink that leads outside", func(t *testing.T, path string) {
			secret := filepath.Join(t.TempDir(), "secret.json")
			if err := os.WriteFile(secret, []byte(`{"bridge": "SECRET-BRIDGE"}`), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(secret, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"a FIFO", "is a named pipe (FIFO), not a regular file", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"a 200 MB file", "is 200 MiB; that is more than 4 MiB, the most netpanel reads", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, 200<<20); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			e := newNDEnv(t)
			if err := os.MkdirAll(e.opts.DockerDir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(e.opts.DockerDir, "daemon.json")
			tc.make(t, path)
			rec := ndGet(pageHandler(e.h, "docker"), "/docker")
			body := rec.Body.String()
			if !strings.Contains(body, path+": "+tc.want) || !strings.Contains(body, `data-testid="checklist-daemon-error"`) {
				t.Errorf("the page does not say %q:\n%s", tc.want, body)
			}
			if strings.Contains(body, "SECRET-BRIDGE") {
				t.Error("the page shows the file the symlink leads to")
			}
			if rec := dkPost(route(e.h, "POST", "/docker/preview"), ""); !strings.Contains(rec.Body.String(), "cannot be merged") || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("preview: %d\n%s", rec.Code, rec.Body.String())
			}
			files, err := e.files.ExportFiles()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := files["docker/daemon.json"]; ok {
				t.Error("the export holds daemon.json")
			}
			if readme := string(files["README"]); !strings.Contains(readme, "not exported") || !strings.Contains(readme, tc.want) {
				t.Errorf("the export's README does not say daemon.json was left out:\n%s", readme)
			}
		})
	}
}
