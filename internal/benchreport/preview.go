package main

import (
	"fmt"
	"strings"
)

// savePreview is the benchmark of the networkd save preview at 1M routes.
const savePreview = "BenchmarkSavePreview1M"

// savePreviewRows report the save preview (issue #17: a page like the
// others, whose diff of a million routes may be computed but not shown
// whole, made per link incrementally): apart, its cold cases (the first
// preview after the start, every selected file made), as measured with
// their peak heap, and its incremental cases (one route changed in the
// model since the last preview), against every page's goals; then the two
// parts the bounds are about over every case, the diffs the page makes
// and the page's rendering from the plan, and the whole diff streamed, as
// measured; beside each time, the case.
func savePreviewRows(res map[string]*Result) []Row {
	// worst is the largest value of unit over the benchmark's cases whose
	// name has part.
	worst := func(unit, part string) (float64, string, bool) {
		v, at, found := 0.0, "", false
		for n, r := range res {
			if n != savePreview && !strings.HasPrefix(n, savePreview+"/") || !strings.Contains(n, part) {
				continue
			}
			if x, ok := r.Metrics[unit]; ok && (!found || x > v || x == v && n < at) {
				v, at, found = x, strings.TrimPrefix(strings.TrimPrefix(n, savePreview), "/"), true
			}
		}
		return v, at, found
	}
	// server is the time, HTML and heap of the cases whose name has part.
	server := func(part string, row Row, judge bool) Row {
		ns, nsCase, okNS := worst("ns/op", part)
		html, htmlCase, okHTML := worst("html-B", part)
		if !okNS || !okHTML {
			return row
		}
		row.Value = fmt.Sprintf("%.0f ms (%s) / %.2f MB (%s)", ns/1e6, nsCase, html/1e6, htmlCase)
		if heap, heapCase, ok := worst("peak-heap-MB", part); ok {
			row.Value += fmt.Sprintf("; peak heap +%.0f MB (%s)", heap, heapCase)
		}
		if judge {
			row.Verdict = verdict(ns/1e6 <= 20 && html/1e6 <= 1)
		}
		return row
	}
	cold := server("cold", Row{"networkd save preview, 1M routes, cold: the first after the start, every selected file made (all links or one; new files or one route changed on disk): server time / HTML; peak heap", "not run", "as measured", "-"}, false)
	incremental := server("changed_in_the_model", Row{"networkd save preview, 1M routes, one route changed in the model since the last preview (all links or one): server time / HTML; peak heap", "not run", "<= 20 ms / 1 MB", "-"}, true)
	diff, diffCase, okDiff := worst("diff-ms", "")
	render, renderCase, okRender := worst("render-ms", "")
	parts := Row{"the same, its diffs as the page makes them (each file's first lines within the page's bounds, and its counts) / its page rendered from the plan", "not run", "<= 20 ms each", "-"}
	if okDiff && okRender {
		parts.Value = fmt.Sprintf("%.1f ms (%s) / %.1f ms (%s)", diff, diffCase, render, renderCase)
		parts.Verdict = verdict(diff <= 20 && render <= 20)
	}
	stream := Row{"the same, its whole diff streamed (GET /networkd/preview.diff)", "not run", "as measured", "-"}
	if v, at, ok := worst("stream-ms", ""); ok {
		stream.Value = fmt.Sprintf("%.1f ms (%s)", v, at)
	}
	return []Row{cold, incremental, parts, stream, unsavedRow(res), previewScaleRow(res)}
}

// unsaved is the benchmark of the count of what no file on disk
// describes, which the tally makes after model changes.
const unsaved = "BenchmarkUnsaved1M"

// unsavedRow reports that count as measured: the first after the start,
// and after one route changed (issue #17: the foreign computation per
// link incrementally), each with its peak heap. It is made off the
// request path, so no page goal applies.
func unsavedRow(res map[string]*Result) Row {
	row := Row{"what no file on disk describes, 1M routes saved: first count / after one route changed (off the request path)", "not run", "as measured", "-"}
	cold, okCold := res[unsaved+"/cold"]
	inc, okInc := res[unsaved+"/one_route_changed"]
	if !okCold || !okInc {
		return row
	}
	row.Value = fmt.Sprintf("%.0f ms (peak heap +%.0f MB) / %.1f ms (+%.1f MB)", cold.Metrics["ns/op"]/1e6, cold.Metrics["peak-heap-MB"],
		inc.Metrics["ns/op"]/1e6, inc.Metrics["peak-heap-MB"])
	return row
}

// previewScale is the benchmark of one link's save preview over the
// million-route model and over a model of about 100k routes.
const previewScale = "BenchmarkSavePreviewScale"

// previewScaleRow reports whether one link's save preview works per link
// (issue #17: from indexes, not by generating every link's files): its
// server time over the million-route model divided by its time over a
// model holding the same routes on that link and ten times fewer on the
// others, for the case (new files, one route changed) where it is the
// largest. A faster machine shortens both sides alike; a walk of every
// route makes it about 5-10x. Beside it, that case's own times.
func previewScaleRow(res map[string]*Result) Row {
	row := Row{"save preview of one link, 1M vs 100k routes in the model (same link, same routes on it; median of interleaved samples)", "not run", "<= 1.5x", "-"}
	var worst *Result
	for n, r := range res {
		if n != previewScale && !strings.HasPrefix(n, previewScale+"/") {
			continue
		}
		if x, ok := r.Metrics["scale-ratio"]; ok && (worst == nil || x > worst.Metrics["scale-ratio"] || x == worst.Metrics["scale-ratio"] && n < worst.Name) {
			worst = r
		}
	}
	if worst == nil {
		return row
	}
	m := worst.Metrics
	row.Value = fmt.Sprintf("%.2fx (%s; min %.2fx); one link's preview %.0f ms with %.0f routes in the model, %.0f ms with %.0f (%.0f samples each)",
		m["scale-ratio"], strings.TrimPrefix(strings.TrimPrefix(worst.Name, previewScale), "/"), m["scale-ratio-min"],
		m["1M-median-ms"], m["routes-1M"], m["100k-median-ms"], m["routes-100k"], m["samples"])
	row.Verdict = verdict(m["scale-ratio"] <= 1.5)
	return row
}

func verdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "MISS"
}
