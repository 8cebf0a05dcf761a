package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/netpanel/netpanel/netops/app/audit"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/views"
)

// TableEditor edits the rt_tables.d file netpanel owns (rttables.Owned).
type TableEditor interface {
	Add(id uint32, name string) error
	Rename(oldName, newName string) error
	Delete(name string) error
	Path() string
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
	if h.d.TableEditor != nil {
		vm.File = h.d.TableEditor.Path()
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
	if h.d.TableEditor == nil {
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
	name, file := f.Get("name"), h.d.TableEditor.Path()
	var err error
	var cmd string
	switch f.Get("action") {
	case "add":
		id, perr := strconv.ParseUint(f.Get("id"), 10, 32)
		if perr != nil {
			err = badField("id", "number", "%q is not a table number", f.Get("id"))
			break
		}
		err = h.d.TableEditor.Add(uint32(id), name)
		cmd = fmt.Sprintf("echo '%d %s' >> %s", id, name, file)
	case "rename":
		err = h.d.TableEditor.Rename(name, f.Get("new_name"))
		cmd = fmt.Sprintf("sed -i 's/ %s$/ %s/' %s", name, f.Get("new_name"), file)
	case "del":
		err = h.d.TableEditor.Delete(name)
		cmd = fmt.Sprintf("sed -i '/ %s$/d' %s", name, file)
	default:
		err = badField("action", "action", "%q is not add, rename or del", f.Get("action"))
	}
	err = tableFieldError(err, f.Get("action"))
	v := identity(r)
	result := audit.ResultOK
	if err != nil {
		result = err.Error()
	}
	if h.d.AuditLog != nil && cmd != "" {
		_ = h.d.AuditLog.Append(audit.Entry{User: v.User, Client: v.Client, Action: audit.ActionChange, Detail: "named table " + f.Get("action"), Command: cmd, Result: result})
	}
	// The watcher reloads the names; show the file's new content now.
	if err == nil {
		if t, errs := rttables.Load(h.d.TableDirs...); len(errs) == 0 || t != nil {
			h.d.SetTables(t)
		}
	}
	vm = h.tablesVM()
	status := http.StatusOK
	if err != nil {
		vm.Error, vm.ErrorField, status = err.Error(), errorField(err), http.StatusBadRequest
	} else {
		vm.Notice = "Saved: " + cmd
	}
	h.render(w, r, status, views.TablesBlock(vm))
}

// tableFieldError says which field of the tables form an error from the
// editor is about: the number, the name, or the new name of a rename.
func tableFieldError(err error, action string) error {
	if err == nil || errorField(err) != "" {
		return err
	}
	switch {
	case errors.Is(err, rttables.ErrInvalidID), errors.Is(err, rttables.ErrIDTaken):
		return badField("id", "number", "%v", err)
	case action == "rename" && (errors.Is(err, rttables.ErrInvalidName) || errors.Is(err, rttables.ErrNameTaken)):
		return badField("new_name", "new name", "%v", err)
	case errors.Is(err, rttables.ErrInvalidName), errors.Is(err, rttables.ErrNameTaken),
		errors.Is(err, rttables.ErrNotOwned), errors.Is(err, rttables.ErrUnknownName):
		return badField("name", "name", "%v", err)
	}
	return err
}
