package web

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// TestEventsReadAnswersAsTheStore: what a flush's copy of the event ring
// answers a later reader (after any seq from the copy's on, any max up to
// its) equals what the store answers it, while the ring holds a few
// events, fills, and has overwritten thousands; a reader before the copy,
// or wanting more than it holds, is told to ask the store.
func TestEventsReadAnswersAsTheStore(t *testing.T) {
	store := model.NewStore()
	add := func(n int) {
		store.Update(func(a *model.Applier) {
			for i := range n {
				r := model.Route{Table: 254, Family: unix.AF_INET, Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)}
				a.Route(r, i%3 == 0, false)
			}
		})
	}
	seqs := func(evs []model.Event) []uint64 {
		var out []uint64
		for _, e := range evs {
			out = append(out, e.Seq)
		}
		return out
	}
	for _, batch := range []int{0, 5, 100, 4000, 9000} {
		add(batch)
		last := store.LastSeq()
		for _, from := range []uint64{0, last / 2, max(last, 3) - 3, last} {
			for _, readMax := range []int{maxShowEvents, 50} {
				evs, next, _ := store.EventsSince(from, readMax)
				r := &eventsRead{from: from, max: readMax, evs: evs, next: next}
				if _, _, _, ok := r.since(from-min(from, 1), readMax); from > 0 && ok {
					t.Errorf("a copy after %d answers a reader after %d", from, from-1)
				}
				if _, _, _, ok := r.since(from, readMax+1); ok {
					t.Errorf("a copy of at most %d events answers a reader of %d", readMax, readMax+1)
				}
				for _, seq := range []uint64{from, from + 1, (from + last) / 2, max(last, 1) - 1, last, last + 2} {
					if seq < from {
						continue
					}
					for _, m := range []int{readMax, 10, 1} {
						name := fmt.Sprintf("after %d events: copy after %d of at most %d, reader after %d of at most %d", last, from, readMax, seq, m)
						gotEvs, gotNext, gotDropped, ok := r.since(seq, m)
						if !ok {
							t.Errorf("%s: the copy does not answer", name)
							continue
						}
						wantEvs, wantNext, wantDropped := store.EventsSince(seq, m)
						if !slices.Equal(seqs(gotEvs), seqs(wantEvs)) || gotNext != wantNext || gotDropped != wantDropped {
							t.Errorf("%s: events %v, next %d, dropped %d; the store: %v, %d, %d",
								name, seqs(gotEvs), gotNext, gotDropped, seqs(wantEvs), wantNext, wantDropped)
						}
					}
				}
			}
		}
	}
}
