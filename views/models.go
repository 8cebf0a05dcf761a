// Package views holds netpanel's templ components. Components take view
// models shaped like the screen (built by handlers) and call nothing.
package views

// Meta is what every full page needs besides its content.
type Meta struct {
	Title    string
	Page     string // "interfaces", "routes", ...; drives the nav and the live view
	NS       string // namespace shown, "host" for the host's own
	ReadOnly bool
	Status   Status
	Cmds     []Cmd
	Warnings []string
	Viewer   Viewer    // who looks at the page
	Nav      []NavItem // the menu, in order: the pages this viewer may open
	// Under is the menu entry current on this page when it has none of
	// its own (an interface's view is under "interfaces").
	Under string
	// LiveQuery is the query of the page's live view when its address
	// holds it in the path (/interfaces/NAME: "name=NAME"); "" sends the
	// address's own query.
	LiveQuery string
}

// Viewer is who looks at a page, as the page shows it: the layout names
// them, and forms are offered only to admins.
type Viewer struct {
	Name  string // "" on public pages
	Role  string
	Admin bool
}

// Status is the live-sync badge and progress.
type Status struct {
	State    string // syncing, live, resyncing, readonly
	Text     string
	Progress string // "" or a fraction 0..1 for the progress bar
	Detail   string
}

// Cmd pairs the iproute2 command showing a page's data with the net-tools
// command it replaces ("" when there is none).
type Cmd struct {
	IP  string
	Old string
}

// NavItem is one entry of the top navigation.
type NavItem struct {
	Page  string
	Title string
	Href  string
}

// Option is one choice of a select.
type Option struct {
	Value    string
	Label    string
	Title    string // hover text, e.g. the table number
	Selected bool
}

// Column is a sortable table header.
type Column struct {
	Label string
	Href  string // link that sorts by this column ("" when not sortable)
	Sort  string // "ascending", "descending" or ""
	Num   bool
}

// Pager is the page navigation under a table.
type Pager struct {
	Info     string // "101–200 of 1,000,000"
	Prev     string // href, "" when on the first page
	Next     string // href, "" when on the last page
	Page     int
	Pages    int
	PageHref []PageLink
}

// PageLink is one numbered page link.
type PageLink struct {
	N       int
	Href    string
	Current bool
	Gap     bool // an ellipsis instead of a link
}

// NameRef shows a name with its number on hover (tables, interfaces).
type NameRef struct {
	Name  string
	Title string
}
