package monitor

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

func TestResyncCausesAreFewAndFixed(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"a lost event is an overrun", rtnl.ErrOverrun, model.ResyncOverrun},
		{"a wrapped ENOBUFS is an overrun", fmt.Errorf("netlink receive: %w", unix.ENOBUFS), model.ResyncOverrun},
		{"a dump that kept being interrupted", fmt.Errorf("dumping: %w", rtnl.ErrDumpInterrupted), model.ResyncInterrupted},
		{"no event socket", fmt.Errorf("%w: %w", errSubscribe, unix.EMFILE), model.ResyncSubscribe},
		{"a closed socket", fmt.Errorf("netlink receive: %w", os.ErrClosed), model.ResyncClosed},
		{"anything else", errors.New("netlink: malformed message length 3"), model.ResyncOther},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := resyncCause(c.err); got != c.want {
				t.Fatalf("resyncCause(%v) = %q, want %q", c.err, got, c.want)
			}
		})
	}
	if got := fmt.Sprintf("%v", fmt.Errorf("%w: %w", errSubscribe, unix.EMFILE)); got != "subscribing: too many open files" {
		t.Errorf("the subscribe error reads %q: the status shows it as it did before", got)
	}
}
