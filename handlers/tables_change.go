package handlers

import (
	"net/http"
	"strconv"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/views"
)

// change serves POST /tables: add, rename or delete a table name in the
// file netpanel owns.
func (t *tableNames) change(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		vm := t.vm()
		vm.Error = "the form could not be read"
		t.render(w, r, http.StatusBadRequest, views.TablesBlock(vm))
		return
	}
	f, id := r.PostForm, identity(r)
	name, action := f.Get("name"), f.Get("action")
	var err error
	var cmd string
	switch action {
	case "add":
		num, perr := strconv.ParseUint(f.Get("id"), 10, 32)
		if perr != nil {
			err = app.BadField("id", "number", "%q is not a table number", f.Get("id"))
			break
		}
		cmd, err = t.names.Add(id, uint32(num), name)
	case "rename":
		cmd, err = t.names.Rename(id, name, f.Get("new_name"))
	case "del":
		cmd, err = t.names.Delete(id, name)
	default:
		err = app.BadField("action", "action", "%q is not add, rename or del", action)
	}
	err = tableFieldError(err, action)
	vm := t.vm()
	status := http.StatusOK
	if err != nil {
		vm.Error, vm.ErrorField, status = err.Error(), app.FieldOf(err), http.StatusBadRequest
	} else {
		vm.Notice = "Saved: " + cmd
	}
	t.render(w, r, status, views.TablesBlock(vm))
}
