package handlers

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
)

// failingExport is the real export that fails: before its first byte,
// or once half of the archive is written (the state changed under a file).
type failingExport struct {
	NetworkdFiles
	midway bool
}

func (f failingExport) Export(w io.Writer) error {
	var whole bytes.Buffer
	if err := f.NetworkdFiles.Export(&whole); err != nil {
		return err
	}
	if !f.midway {
		return errors.New("link br0 cannot be read")
	}
	// Past the 4 kB net/http buffers, so that the client has the
	// headers and part of the body before the failure.
	pad := make([]byte, 64<<10)
	_, _ = w.Write(append(whole.Bytes()[:whole.Len()/2], pad...))
	return errors.New("link br0 vanished while its file was written")
}

// exportServer serves the export of files as the server does (behind
// chi's Recoverer), to an admin.
func exportServer(t *testing.T, files NetworkdFiles) *httptest.Server {
	tables := func() *rttables.Tables { return ndTables }
	h := New(Deps{Store: model.NewStoreFrom(ndState()), Tables: tables, Files: files, Log: slog.New(slog.DiscardHandler)})
	export := route(h, "GET", "/networkd/export.tar.gz")
	srv := httptest.NewServer(middleware.Recoverer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		export(w, asAdmin(r, "192.0.2.50"))
	})))
	t.Cleanup(srv.Close)
	return srv
}

// TestNetworkdExportErrors: an export that fails before its first byte is
// a 500 with the reason; one that fails after it is a download the client
// sees break, never a complete-looking archive.
func TestNetworkdExportErrors(t *testing.T) {
	e := newNDEnv(t)
	files := app.NewFiles(e.files, app.NewRecorder(&ndAudit{}, nil))
	t.Run("failing before the first byte: 500 with the message", func(t *testing.T) {
		srv := exportServer(t, failingExport{NetworkdFiles: files})
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "export failed: link br0 cannot be read") {
			t.Errorf("status %d: %s", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct == "application/gzip" {
			t.Error("a failed export is labelled a gzip")
		}
	})
	t.Run("failing midway: the download breaks", func(t *testing.T) {
		srv := exportServer(t, failingExport{NetworkdFiles: files, midway: true})
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatalf("the headers did not arrive (%v): the failure came before them, the test does not reach a broken stream", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/gzip" {
			t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		body, err := io.ReadAll(resp.Body)
		if err == nil {
			t.Errorf("the body (%d bytes) ended as if complete", len(body))
		}
		if len(body) == 0 {
			t.Fatal("no byte of the body arrived")
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("what arrived does not start as a gzip: %v", err)
		}
		tr := tar.NewReader(zr)
		for {
			if _, err = tr.Next(); err != nil {
				break
			}
			if _, err = io.Copy(io.Discard, tr); err != nil {
				break
			}
		}
		if err == io.EOF {
			t.Error("what arrived reads as a whole archive")
		}
	})
	t.Run("the whole export streams as one download", func(t *testing.T) {
		srv := exportServer(t, files)
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, %v", resp.StatusCode, err)
		}
		want := ndGet(route(e.h, "GET", "/networkd/export.tar.gz"), "/networkd/export.tar.gz")
		if !bytes.Equal(body, want.Body.Bytes()) {
			t.Error("the download differs from the export")
		}
	})
}
