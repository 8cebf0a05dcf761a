package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/views"
)

// TableNamer names routing tables in the file netpanel owns and returns
// the shell command that does the same (*app.Tables).
type TableNamer interface {
	Path() string
	Add(id app.Identity, num uint32, name string) (string, error)
	Rename(id app.Identity, oldName, newName string) (string, error)
	Delete(id app.Identity, name string) (string, error)
}

// tableNames serves the table names editor on the routes page.
type tableNames struct {
	*frame
	names TableNamer // nil: read-only, and readOnly answers
	file  string     // the file names is written to; "" when read-only
}

// vm lists the names and which of them netpanel's file holds.
func (t *tableNames) vm() views.TablesVM {
	vm := views.TablesVM{File: t.file}
	for _, e := range t.tables().Entries() {
		vm.Entries = append(vm.Entries, views.TableEntry{
			ID: strconv.FormatUint(uint64(e.ID), 10), Name: e.Name, Source: e.Source,
			Owned: vm.File != "" && strings.HasPrefix(e.Source, vm.File),
		})
	}
	return vm
}

// readOnly answers POST /tables when netpanel has no file to write.
func (t *tableNames) readOnly(w http.ResponseWriter, r *http.Request) {
	vm := t.vm()
	vm.Error = "netpanel has no rt_tables.d file to write (read-only)"
	t.render(w, r, http.StatusForbidden, views.TablesBlock(vm))
}

// tableFieldError says which field of the tables form an error from the
// editor is about: the number, the name, or the new name of a rename.
func tableFieldError(err error, action string) error {
	if err == nil || app.FieldOf(err) != "" {
		return err
	}
	switch {
	case errors.Is(err, rttables.ErrInvalidID), errors.Is(err, rttables.ErrIDTaken):
		return app.BadField("id", "number", "%v", err)
	case action == "rename" && (errors.Is(err, rttables.ErrInvalidName) || errors.Is(err, rttables.ErrNameTaken)):
		return app.BadField("new_name", "new name", "%v", err)
	case errors.Is(err, rttables.ErrInvalidName), errors.Is(err, rttables.ErrNameTaken),
		errors.Is(err, rttables.ErrNotOwned), errors.Is(err, rttables.ErrUnknownName):
		return app.BadField("name", "name", "%v", err)
	}
	return err
}
