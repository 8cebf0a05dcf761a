package handlers

import (
	"fmt"
	"net/http"
)

// SocketJSON is one socket; ss has no JSON output, so the names follow
// its column headers.
type SocketJSON struct {
	Netid  string          `json:"netid"`
	State  string          `json:"state"`
	RecvQ  uint32          `json:"recv_q"`
	SendQ  uint32          `json:"send_q"`
	Local  string          `json:"local"`
	Peer   string          `json:"peer"`
	UID    uint32          `json:"uid"`
	Inode  uint32          `json:"inode"`
	Users  []SocketProcess `json:"users,omitempty"`
	Device string          `json:"dev,omitempty"`
}

// SocketProcess is one owner of a socket, as `ss -p` prints it.
type SocketProcess struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	FD   int    `json:"fd"`
}

// sockets serves /api/v1/sockets with the sockets page's filters.
func (a *api) sockets(w http.ResponseWriter, r *http.Request) {
	f, err := socketFilter(r.URL.Query())
	if err != nil {
		apiError(w, http.StatusBadRequest, err)
		return
	}
	list, err := a.lister.List()
	if err != nil {
		apiError(w, http.StatusInternalServerError, fmt.Errorf("listing sockets: %w", err))
		return
	}
	names := a.names()
	out := []SocketJSON{}
	for _, s := range list {
		if !f.Match(s) {
			continue
		}
		j := SocketJSON{Netid: s.Proto, State: s.State, RecvQ: s.RecvQ, SendQ: s.SendQ, Local: s.Local.String(), Peer: s.Remote.String(), UID: s.UID, Inode: s.Inode}
		if s.Interface != 0 {
			j.Device = names.LinkName(s.Interface)
		}
		for _, p := range s.Processes {
			j.Users = append(j.Users, SocketProcess{p.Name, p.PID, p.FD})
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
}
