package monitor

import (
	"errors"
	"io"
	"os"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// resyncCause names what ended a session, for counting resyncs
// (model.Store.NoteResync).
func resyncCause(err error) string {
	switch {
	case errors.Is(err, rtnl.ErrOverrun), errors.Is(err, unix.ENOBUFS):
		return model.ResyncOverrun
	case errors.Is(err, rtnl.ErrDumpInterrupted):
		return model.ResyncInterrupted
	case errors.Is(err, errSubscribe):
		return model.ResyncSubscribe
	case errors.Is(err, os.ErrClosed), errors.Is(err, unix.EBADF), errors.Is(err, io.EOF):
		return model.ResyncClosed
	}
	return model.ResyncOther
}

// errSubscribe marks a session that could not open its event socket.
var errSubscribe = errors.New("subscribing")
