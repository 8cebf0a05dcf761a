package handlers

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"github.com/netpanel/netpanel/views"
)

// A preview shows each file's diff up to diffLinesPerFile lines, and
// diffLinesInAll over all its files: a save of a million routes writes
// millions of lines, which no admin reads in a page and no browser holds
// well. The rest is counted, and the whole diff is a download.
//
// Finding a file's diff takes the matcher's steps too: few for a small
// change to a large file (its shared head and tail are only counted), up
// to seconds for a large change to a large one (every route's table
// changed). A page takes diffStepsInAll in all, the files' diffs found
// cheapest first (PreparedDiff.Cost), at most diffStepsPerFile for one file and at
// least diffStepsFloor (a small change is diffed whatever came before
// it); a file whose diff would take more is shown without its diff and
// its counts, which are in the download alone.
const (
	diffLinesPerFile = 400
	diffLinesInAll   = 2000
	diffStepsFloor   = 5_000
	diffStepsPerFile = 300_000
	diffStepsInAll   = 400_000
)

// fileDiffs are the files of a plan as a preview shows them, each diff
// cut to the bounds, and what a cut leaves out ("" for nothing): the
// page says it once, beside the one link to the whole diff (a link per
// file would repeat the selection of every link in the query hundreds
// of times).
func fileDiffs(changes []configfiles.Change) ([]views.FileDiff, string) {
	// The diffs are found cheapest first, so a large change takes only
	// what the smaller ones left; they are shown in the plan's order,
	// each head made of the lines the ones before it left.
	over := make([]bool, len(changes))
	order := make([]int, len(changes))
	cost := make([]int, len(changes))
	prepared := make([]configfiles.PreparedDiff, len(changes))
	for i := range changes {
		prepared[i] = changes[i].PrepareDiff()
		order[i], cost[i] = i, prepared[i].Cost()
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(cost[a], cost[b]) })
	steps := diffStepsInAll
	for _, i := range order {
		mine := min(max(steps, diffStepsFloor), diffStepsPerFile)
		took := mine
		over[i] = prepared[i].Find(&mine)
		steps -= took - max(mine, 0)
	}
	left := diffLinesInAll
	out := make([]views.FileDiff, 0, len(changes))
	lines, cut, large := 0, 0, 0
	for i, c := range changes {
		if over[i] {
			large++
			out = append(out, views.FileDiff{Rel: c.Rel, Abs: c.Abs, State: changeState(c), Foreign: c.Foreign,
				Counts: "not diffed on this page: finding this diff takes too long here",
				More:   "all lines"})
			continue
		}
		// Only the lines shown are made; the others are counted.
		want := min(diffLinesPerFile, left)
		if headAsked != nil {
			headAsked(c.Rel, want)
		}
		shown, all, added, removed := prepared[i].Head(want)
		n := strings.Count(shown, "\n")
		more := all - n
		left -= n
		lines += all
		if more > 0 {
			cut++
		}
		fd := views.FileDiff{Rel: c.Rel, Abs: c.Abs, Diff: shown, State: changeState(c), Foreign: c.Foreign,
			Counts: "+" + group(added) + " −" + group(removed) + " lines"}
		if more > 0 {
			fd.More = count(more, "more line", "more lines")
		}
		out = append(out, fd)
	}
	var says []string
	if cut > 0 {
		says = append(says, fmt.Sprintf("The page shows each file's diff up to %d lines and %s in all, and cuts %s of %s (%s lines in all)",
			diffLinesPerFile, group(diffLinesInAll), group(cut), count(len(changes)-large, "file", "files"), group(lines)))
	}
	if large > 0 {
		verb := "are"
		if large == 1 {
			verb = "is"
		}
		says = append(says, fmt.Sprintf("%s of %s %s not diffed on this page (finding their diff takes too long here)",
			count(large, "file", "files"), group(len(changes)), verb))
	}
	return out, strings.Join(says, "; ")
}

// headAsked, set by tests only, is told how many lines of each file's
// diff fileDiffs asks for.
var headAsked func(rel string, n int)

// diffURL is where the whole diff of a preview streams from: path with
// the preview's form values (hidden, the taken-over files) and its plan's
// digest, which the download checks.
func diffURL(path string, hidden []views.HiddenField, takeOver []string, digest string) string {
	q := url.Values{"takeover": takeOver, "digest": {digest}}
	for _, f := range hidden {
		q.Add(f.Name, f.Value)
	}
	return path + "?" + q.Encode()
}

// diffDownload serves the GET PATH/preview.diff of a preview (of the
// networkd, restore, Docker or firewall page): the whole unified diff of
// the plan whose preview showed it cut, as text/plain. plan makes the
// plan again from the same form values, in the query, as the save
// itself does; a plan that is not the one previewed (digest) is a 409,
// so what streams is what the preview showed and the save would write.
// A GET that writes nothing, so no forged request can make it do
// anything; an admin's, as the preview is. A query naming what cannot be
// planned (a field error) is a 400, a restore the files no longer need a
// 409; a plan that fails otherwise (a file that cannot be read) is the
// server's failure, a 500.
func diffDownload(plan func(r *http.Request, q url.Values) (*persist.Preview, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !identity(r).Role.CanChange() {
			http.Error(w, "only admins may see the diff of a save", http.StatusForbidden)
			return
		}
		q := r.URL.Query()
		pv, err := plan(r, q)
		if err != nil {
			status := http.StatusInternalServerError
			switch {
			case app.FieldOf(err) != "":
				status = http.StatusBadRequest
			case errors.Is(err, persist.ErrNothingToRestore):
				status = http.StatusConflict // the files changed since the preview
			}
			http.Error(w, err.Error(), status)
			return
		}
		if want := q.Get("digest"); want != pv.Digest {
			http.Error(w, "the files or the live state changed since the preview (plan "+want+", now "+pv.Digest+"): preview again", http.StatusConflict)
			return
		}
		writeDiff(w, pv)
	}
}

// previewPlan plans the networkd save of the links in q (GET
// /networkd/preview.diff).
func (p *networkdPage) previewPlan(_ *http.Request, q url.Values) (*persist.Preview, error) {
	return p.files.Plan(persist.Selection{Links: q["link"], TakeOver: q["takeover"]})
}

// restorePlan plans the restore of backup id (GET
// /networkd/restore/preview.diff).
func (p *networkdPage) restorePlan(_ *http.Request, q url.Values) (*persist.Preview, error) {
	return p.files.RestorePlan(q.Get("id"))
}

// writeDiff streams the diffs of a preview's plan, in file order, each
// made as its turn comes: the whole diff of a million routes is never
// held, so its length is not known before it is sent (no Content-Length).
func writeDiff(w http.ResponseWriter, pv *persist.Preview) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", `inline; filename="netpanel-`+pv.Digest+`.diff"`)
	h.Set("X-Netpanel-Digest", pv.Digest)
	for i := range pv.Plan.Changes {
		if err := pv.Plan.Changes[i].WriteDiff(w); err != nil {
			return // the client went away
		}
	}
}
