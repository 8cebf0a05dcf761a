package monitor

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/netpanel/netpanel/netops/nsexec"
	"github.com/netpanel/netpanel/netops/rtnl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// A full sync spends most of its time in the kernel filling the route
// dump, one datagram per receive, on one core (issue #17: 1M routes). The
// kernel dumps routes without the RTNL lock, so two sockets dumping
// different tables fill them on both cores at once. A strictly checked
// dump request (rtnl.Conn.StrictCheck) names a family and a table
// (RTA_TABLE); the IPv4 tables that exist are read from the namespace's
// /proc/net/fib_triestat, with their sizes, and the IPv6 routes, a few
// percent on the routers netpanel serves, are one dump of their own. The
// messages of both sockets go to one decoder (rtnl.Conn.DumpLocked), as
// those of one dump do.
//
// What the split may miss is what the events bring: the event socket is
// subscribed before the tables are read, so a table made after that (its
// routes added after that) comes with its routes as events, applied after
// the dump as every event racing with a dump is.

// routeJob is one route dump of a split sync: a family and a table (0:
// every table), and the routes of a table to leave out (the main table of
// an IPv4 dump of every table, when the main table was dumped apart).
type routeJob struct {
	family uint8
	table  uint32
	skip   uint32
	weight int // prefixes, for the order the jobs are taken in
}

func (j routeJob) String() string {
	fam := "inet"
	if j.family == unix.AF_INET6 {
		fam = "inet6"
	}
	if j.table == 0 {
		return fam + " all tables"
	}
	return fmt.Sprintf("%s table %d", fam, j.table)
}

// header is the job's strictly checked dump request: struct rtmsg with
// the family, and RTA_TABLE when the job names a table (rtm_table holds
// only ids below 256).
func (j routeJob) header() []byte {
	h := make([]byte, unix.SizeofRtMsg)
	h[0] = j.family
	w := rtnl.NewWriter(h)
	if j.table != 0 {
		w.U32(unix.RTA_TABLE, j.table)
	}
	return w.Bytes()
}

// fibTable is one IPv4 table of /proc/net/fib_triestat.
type fibTable struct {
	id       uint32
	prefixes int
}

// errTrieStat means /proc/net/fib_triestat says something this parser
// does not know: the tables it lists cannot be trusted to be all of them.
var errTrieStat = errors.New("unexpected line in /proc/net/fib_triestat")

// parseTrieStat reads the IPv4 tables from /proc/net/fib_triestat: a
// "Basic info" line, then for each table "Main:", "Local:" or "Id N:"
// (N printed as a signed int, so ids from 2^31 up are negative), followed
// by the tab-indented statistics trie_show_stats prints, one "Prefixes:"
// among them, and perhaps trie_show_usage's block (trieStatUsage). Any
// other line, indented or not, and a table without its prefix count are
// an error, not a table less: a table printed in a form this parser does
// not know would otherwise go missing from the list, and its routes from
// the model.
func parseTrieStat(b []byte) ([]fibTable, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	var out []fibTable
	first := true
	counted := true // the last table has its "Prefixes:" line
	usage := 0      // lines of trieStatUsage read; -1 after them (one block a table)
	for sc.Scan() {
		line := sc.Text()
		if first {
			if !strings.HasPrefix(line, "Basic info:") {
				return nil, fmt.Errorf("%w: %q", errTrieStat, line)
			}
			first = false
			continue
		}
		if usage > 0 {
			if !trieStatUsageLine(line, usage) {
				return nil, fmt.Errorf("%w: %q", errTrieStat, line)
			}
			if usage++; usage == len(trieStatUsage) {
				usage = -1
			}
			continue
		}
		if line == "" {
			continue
		}
		if line == trieStatUsage[0] && len(out) > 0 && counted && usage == 0 {
			usage = 1
			continue
		}
		if line[0] == '\t' || line[0] == ' ' {
			if len(out) == 0 || !trieStatLine(line) {
				return nil, fmt.Errorf("%w: %q", errTrieStat, line)
			}
			f := strings.Fields(line)
			if len(f) == 2 && f[0] == "Prefixes:" {
				n, err := strconv.Atoi(f[1])
				if err != nil || counted {
					return nil, fmt.Errorf("%w: %q", errTrieStat, line)
				}
				out[len(out)-1].prefixes = n
				counted = true
			}
			continue
		}
		var t fibTable
		switch {
		case line == "Main:":
			t = fibTable{id: unix.RT_TABLE_MAIN}
		case line == "Local:":
			t = fibTable{id: unix.RT_TABLE_LOCAL}
		case strings.HasPrefix(line, "Id ") && strings.HasSuffix(line, ":"):
			n, err := strconv.ParseInt(line[3:len(line)-1], 10, 64)
			if err != nil || n < -1<<31 || n > 1<<32-1 || n == 0 {
				return nil, fmt.Errorf("%w: %q", errTrieStat, line)
			}
			t = fibTable{id: uint32(n)}
		case strings.HasPrefix(line, "Null ptrs:") || strings.HasPrefix(line, "Total size:"):
			// Statistics some kernels print unindented.
			continue
		default:
			return nil, fmt.Errorf("%w: %q", errTrieStat, line)
		}
		if !counted {
			return nil, fmt.Errorf("%w: table %d without a prefix count", errTrieStat, out[len(out)-1].id)
		}
		out = append(out, t)
		counted, usage = false, 0
	}
	if first {
		return nil, fmt.Errorf("%w: empty", errTrieStat)
	}
	if usage > 0 {
		return nil, fmt.Errorf("%w: table %d with its counters cut short", errTrieStat, out[len(out)-1].id)
	}
	if !counted {
		return nil, fmt.Errorf("%w: table %d without a prefix count", errTrieStat, out[len(out)-1].id)
	}
	return out, sc.Err()
}

// trieStatStats are the statistics trie_show_stats prints for a table,
// each on a line of its own after a tab.
var trieStatStats = []string{"Aver depth:", "Max depth:", "Leaves:", "Prefixes:", "Internal nodes:", "Pointers:"}

// trieStatUsage is the block trie_show_usage prints after a table's
// statistics on a kernel built with CONFIG_IP_FIB_TRIE_STATS: these lines
// in this order, unindented, each counter followed by its value.
var trieStatUsage = []string{"Counters:", "---------", "gets = ", "backtracks = ", "semantic match passed = ",
	"semantic match miss = ", "null node hit= ", "skipped node resize = "}

// trieStatUsageLine reports whether line is line i (from 1) of
// trieStatUsage: the dashes, or the counter with its value.
func trieStatUsageLine(line string, i int) bool {
	if i == 1 {
		return line == trieStatUsage[i]
	}
	n, ok := strings.CutPrefix(line, trieStatUsage[i])
	return ok && digits(n)
}

// trieStatLine reports whether an indented line of fib_triestat is one
// of a table's statistics: a named one, or the line of node sizes (a tab,
// then "  bits: count" for each size in use, perhaps none).
func trieStatLine(line string) bool {
	rest, ok := strings.CutPrefix(line, "\t")
	if !ok {
		return false
	}
	for _, s := range trieStatStats {
		if strings.HasPrefix(rest, s) {
			return true
		}
	}
	f := strings.Fields(rest)
	if len(f)%2 != 0 || (len(f) > 0 && !strings.HasPrefix(rest, "  ")) {
		return false
	}
	for i := 0; i < len(f); i += 2 {
		bits, ok := strings.CutSuffix(f[i], ":")
		if !ok || !digits(bits) || !digits(f[i+1]) {
			return false
		}
	}
	return true
}

// digits reports whether s is a non-empty run of decimal digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// readFIBTables returns the IPv4 tables of namespace ns.
func readFIBTables(ns netns.NsHandle) ([]fibTable, error) {
	var b []byte
	err := nsexec.Do(ns, func() error {
		var err error
		// thread-self: the thread nsexec.Do moved into ns.
		b, err = os.ReadFile("/proc/thread-self/net/fib_triestat")
		return err
	})
	if err != nil {
		return nil, err
	}
	return parseTrieStat(b)
}

// splitJobs orders the IPv4 route dumps of a split sync, the main table
// (dumped first, before the tables are known) left out: the largest
// tables first, so the two sockets end close together. A table whose trie is the main table's (the local table, until
// the first policy rule) counts the main table's prefixes too; its weight
// only orders the jobs.
func splitJobs(tables []fibTable) []routeJob {
	var jobs []routeJob
	for _, t := range tables {
		if t.id != unix.RT_TABLE_MAIN {
			jobs = append(jobs, routeJob{family: unix.AF_INET, table: t.id, weight: t.prefixes})
		}
	}
	slices.SortStableFunc(jobs, func(a, b routeJob) int { return cmp.Compare(b.weight, a.weight) })
	return jobs
}

// jobQueue hands the route jobs to the two sockets, each taking the next
// when it is done with one. The jobs after the first wait for the tables
// to be known.
type jobQueue struct {
	mu     sync.Mutex
	ready  chan struct{}
	jobs   []routeJob
	failed error // the first dump error; the others take no more jobs
}

func (q *jobQueue) next() (routeJob, bool) {
	<-q.ready
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.jobs) == 0 || q.failed != nil {
		return routeJob{}, false
	}
	j := q.jobs[0]
	q.jobs = q.jobs[1:]
	return j, true
}

func (q *jobQueue) fail(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.failed == nil {
		q.failed = err
	}
}

// dumpRoutesSplit dumps the routes over c and c2 at once, handing every
// message to fn (never two at a time). The first dumps need no table
// list: the IPv4 main table on c2, the IPv6 routes (of a size nothing
// tells beforehand) on c. tables gives the IPv4 tables once known, or the
// error that makes them unknown: the main table is then left out of one
// IPv4 dump of every table. It returns ErrDumpInterrupted when a dump
// was, after all of them ended.
func dumpRoutesSplit(c, c2 *rtnl.Conn, tables <-chan tablesResult, fn func(rtnl.Message)) (how string, err error) {
	lanes := rtnl.NewLanes()
	q := &jobQueue{ready: make(chan struct{})}
	var interrupted error
	run := func(c *rtnl.Conn, j routeJob) {
		f := fn
		if j.skip != 0 {
			f = func(m rtnl.Message) {
				if routeTable(m) != j.skip {
					fn(m)
				}
			}
		}
		err := c.DumpLocked(unix.RTM_GETROUTE, j.header(), lanes, f)
		if err == nil && splitFault != nil {
			err = splitFault(j)
		}
		if err != nil && j.table != 0 && errors.Is(err, unix.ENOENT) {
			err = nil // the table went away, or was never made (main)
		}
		switch {
		case err != nil && (errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP)):
			q.fail(fmt.Errorf("%w: dumping %v: %w", errSplitRefused, j, err))
		case errors.Is(err, rtnl.ErrDumpInterrupted):
			q.mu.Lock()
			interrupted = err
			q.mu.Unlock()
		case err != nil:
			q.fail(fmt.Errorf("dumping %v: %w", j, err))
		}
	}
	// The first lane out of jobs decodes for the other (rtnl.Lanes.Help)
	// until it ends too: the other then only reads, its core no longer
	// alternating between the kernel's filling and the decoding while
	// this one idles (12-80 ms of a 1M-route sync).
	var running atomic.Int32
	running.Store(2)
	// Not deferred: a lane that panics must crash the process, not wait
	// in Help for the other lane, which waits for the decoder lock the
	// panic left held.
	lane := func(c *rtnl.Conn, first routeJob, have bool) {
		if have {
			run(c, first)
		}
		for {
			j, ok := q.next()
			if !ok {
				break
			}
			run(c, j)
		}
		if running.Add(-1) == 0 {
			lanes.Close()
		} else {
			lanes.Help()
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { lane(c2, routeJob{family: unix.AF_INET, table: unix.RT_TABLE_MAIN}, true) })
	wg.Go(func() { lane(c, routeJob{family: unix.AF_INET6}, true) })
	res := <-tables
	q.mu.Lock()
	if res.err != nil {
		q.jobs = []routeJob{{family: unix.AF_INET, skip: unix.RT_TABLE_MAIN}}
		how = fmt.Sprintf("split by family, IPv4 tables unknown (%v)", res.err)
	} else {
		q.jobs = splitJobs(res.tables)
		how = fmt.Sprintf("split over %d IPv4 tables and IPv6", len(res.tables))
	}
	q.mu.Unlock()
	close(q.ready)
	wg.Wait()
	if q.failed != nil {
		return how, q.failed
	}
	return how, interrupted
}

// errSplitRefused means the kernel refused a split dump's request: it
// checks requests strictly but not the filters of a route dump.
var errSplitRefused = errors.New("the kernel refuses a split route dump")

// splitFault, set by tests, makes a route dump that went well fail.
var splitFault func(routeJob) error

type tablesResult struct {
	tables []fibTable
	err    error
}

// routeTable returns the table of an IPv4 or IPv6 route message (RTA_TABLE
// over rtm_table, which holds only ids below 256), or 0.
func routeTable(m rtnl.Message) uint32 {
	if (m.Type != unix.RTM_NEWROUTE && m.Type != unix.RTM_DELROUTE) || len(m.Body) < unix.SizeofRtMsg {
		return 0
	}
	t := uint32(m.Body[4])
	a := rtnl.NewAttrs(m.Body[unix.SizeofRtMsg:])
	for a.Next() {
		if a.Typ == unix.RTA_TABLE && len(a.Val) >= 4 {
			t = rtnl.U32(a.Val)
		}
	}
	return t
}
