package handlers

import (
	"errors"
	"net/http"
	"strconv"

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

// formChoices lists table and device names for the change forms.
func (h *Handlers) formChoices() (tables, devs []string) {
	names := h.names()
	for _, id := range knownTables(names, h.d.Store) {
		tables = append(tables, names.TableName(id))
	}
	for _, l := range h.d.Store.Links() {
		devs = append(devs, l.Name)
	}
	return tables, devs
}

func (h *Handlers) tablesVM() views.TablesVM {
	var vm views.TablesVM
	if h.d.TableNames != nil {
		vm.File = h.d.TableNames.Path()
	}
	for _, e := range h.d.Tables().Entries() {
		vm.Entries = append(vm.Entries, views.TableEntry{
			ID: strconv.FormatUint(uint64(e.ID), 10), Name: e.Name, Source: e.Source,
			Owned: vm.File != "" && len(e.Source) >= len(vm.File) && e.Source[:len(vm.File)] == vm.File,
		})
	}
	return vm
}

// TablesChange serves POST /tables: add, rename or delete a table name in
// the file netpanel owns. Names are not kernel state: no commit-confirm,
// but the change is audited with its equivalent shell command.
func (h *Handlers) TablesChange(w http.ResponseWriter, r *http.Request) {
	vm := h.tablesVM()
	if h.d.TableNames == nil {
		vm.Error = "netpanel has no rt_tables.d file to write (read-only)"
		h.render(w, r, http.StatusForbidden, views.TablesBlock(vm))
		return
	}
	if err := r.ParseForm(); err != nil {
		vm.Error = "the form could not be read"
		h.render(w, r, http.StatusBadRequest, views.TablesBlock(vm))
		return
	}
	f := r.PostForm
	name, id := f.Get("name"), identity(r)
	var err error
	var cmd string
	switch f.Get("action") {
	case "add":
		num, perr := strconv.ParseUint(f.Get("id"), 10, 32)
		if perr != nil {
			err = app.BadField("id", "number", "%q is not a table number", f.Get("id"))
			break
		}
		cmd, err = h.d.TableNames.Add(id, uint32(num), name)
	case "rename":
		cmd, err = h.d.TableNames.Rename(id, name, f.Get("new_name"))
	case "del":
		cmd, err = h.d.TableNames.Delete(id, name)
	default:
		err = app.BadField("action", "action", "%q is not add, rename or del", f.Get("action"))
	}
	err = tableFieldError(err, f.Get("action"))
	vm = h.tablesVM()
	status := http.StatusOK
	if err != nil {
		vm.Error, vm.ErrorField, status = err.Error(), app.FieldOf(err), http.StatusBadRequest
	} else {
		vm.Notice = "Saved: " + cmd
	}
	h.render(w, r, status, views.TablesBlock(vm))
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
