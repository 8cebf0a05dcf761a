package metrics

import (
	"time"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/model"
)

// Model is the live model as the collector reads it; *model.Store
// satisfies it. Every method is cheap: counts and a copy of the links.
type Model interface {
	Counts() map[model.Kind]int
	Totals() model.Totals
	Status() model.Status
	Links() []model.Link
}

// StatsRefresher reads the link counters again (a dump of the links, not
// of the routes): they change without events.
type StatsRefresher interface {
	RefreshStats() error
}

// Clients counts the live WebSocket clients (the hub).
type Clients interface {
	ClientCount() int
	Behind() int
}

// Changes reports the commit-confirm engine's numbers (app.Changes).
type Changes interface {
	Totals() app.ChangeTotals
}

// Saves reports when the files were last written (app.Files).
type Saves interface {
	LastSave() time.Time
}

// Tally reads the last counts of the objects that would not survive a
// reboot and of Docker's conflicts (app.Tally), and asks for new ones
// when the state changed since: a scrape never waits for a count.
type Tally interface {
	Get() app.TallyState
}

// Sources are what the collector reads. Model is required; a nil source
// is a feature netpanel runs without (read-only: no Changes), whose
// metrics are left out rather than reported as zero.
type Sources struct {
	Model   Model
	Stats   StatsRefresher // nil: the counters as the model has them
	Clients Clients
	Changes Changes
	Saves   Saves
	// Tally holds the counts that take a walk of every route, files and
	// Docker (the live objects no file describes, Docker's collisions),
	// as the overview shows them.
	Tally Tally

	Version, Commit string // netpanel_build_info
}
