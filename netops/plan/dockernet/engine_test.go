package dockernet_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
)

// A dockerd that accepts and never answers holds a request until the
// caller's deadline, and no longer: the caller (a page, the hub) decides.
func TestNetworksOnAHungSocketEndsAtTheCallersDeadline(t *testing.T) {
	hung := testenv.NewHungSocket(t)
	c := dockernet.NewClient(hung.Path)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	nets, err := c.Networks(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || nets != nil {
		t.Fatalf("Networks = %v, %v; want the deadline's error", nets, err)
	}
	select {
	case <-hung.Accepted():
	default:
		t.Fatal("the client never reached the socket")
	}
}
