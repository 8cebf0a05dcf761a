// Package demo builds the throwaway network namespace behind netpanel's
// --demo flag: a small copy of a classic router setup (an ISP uplink, a VPN
// tunnel, a docker bridge, a policy-routing table) that the panel can show
// and change without touching the host. Close removes all of it.
package demo

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sync"

	"github.com/vishvananda/netns"
)

// DefaultName is the namespace used when Options.Name is empty.
const DefaultName = "netpanel-demo"

// ispSuffix names the second namespace, which plays the ISP's router.
const ispSuffix = "-isp"

// WanForceTable is the routing table that the demo's fwmark rule looks up.
const WanForceTable = 1

// Table names a routing table number, as /etc/iproute2/rt_tables would.
type Table struct {
	ID   uint32
	Name string
}

// Tables returns the named tables the demo uses. They are not written to
// rt_tables (that file belongs to the host); the caller shows these names.
func Tables() []Table {
	return []Table{{ID: WanForceTable, Name: "wan-force"}}
}

// Options configures Create.
type Options struct {
	// Name of the demo namespace; DefaultName if empty. The ISP namespace
	// is Name+"-isp".
	Name string
	// Logger receives the leftover-cleanup notices; slog.Default if nil.
	Logger *slog.Logger
	// LockDir holds the lock that keeps two demos of the same name apart;
	// DefaultLockDir if empty.
	LockDir string
}

// Demo is a created demo setup. Close it to remove both namespaces.
type Demo struct {
	name string
	log  *slog.Logger
	ids  map[string]nsID // namespace name -> identity at creation
	lock *demoLock       // held from before the first look until removal

	mu     sync.Mutex
	closed bool
}

// validName keeps the name a plain file name under /run/netns.
var validName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}$`)

// Create builds the demo namespaces. It refuses with an *InUseError while
// another process runs a demo of the same name. Namespaces of the same
// names left by an earlier run that did not exit cleanly are removed first. If anything
// fails, everything created so far is removed before the error is returned.
func Create(opts Options) (*Demo, error) {
	return create(opts, populate)
}

// create is Create with the filling step as a parameter, so tests can make
// it fail half-way and check the cleanup.
func create(opts Options, fill func(demoNS, ispNS netns.NsHandle) error) (*Demo, error) {
	name := opts.Name
	if name == "" {
		name = DefaultName
	}
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("demo namespace name %q: use letters, digits, '_', '-' and '.'", name)
	}
	lockDir := opts.LockDir
	if lockDir == "" {
		lockDir = DefaultLockDir
	}
	// Without the lock, a second demo of the same name would take the
	// first one's namespaces for leftovers and delete them under it.
	lock, err := lockName(lockDir, name)
	if err != nil {
		return nil, err
	}
	d := &Demo{name: name, log: opts.Logger, ids: map[string]nsID{}, lock: lock}
	if d.log == nil {
		d.log = slog.Default()
	}
	if err := d.create(fill); err != nil {
		if cerr := d.remove(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("cleaning up: %w", cerr))
		}
		d.unlock()
		return nil, fmt.Errorf("creating demo namespace %s: %w", name, err)
	}
	return d, nil
}

// unlock lets the next demo of this name start.
func (d *Demo) unlock() {
	if d.lock != nil {
		d.lock.release()
		d.lock = nil
	}
}

// Name returns the demo namespace's name (as `ip -n NAME` takes it).
func (d *Demo) Name() string { return d.name }

// Close deletes both namespaces; the kernel then destroys every link in
// them, the persistent tun included. Calling it again does nothing.
func (d *Demo) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	defer d.unlock()
	return d.remove()
}

func (d *Demo) ispName() string { return d.name + ispSuffix }

func (d *Demo) create(fill func(demoNS, ispNS netns.NsHandle) error) error {
	for _, n := range []string{d.name, d.ispName()} {
		if namedExists(n) {
			d.log.Warn("removing demo namespace left over from an earlier run", "netns", n)
			if err := removeNamed(n); err != nil {
				return fmt.Errorf("removing leftover namespace %s: %w", n, err)
			}
		}
	}
	if err := makeRunDirShared(); err != nil {
		return fmt.Errorf("preparing %s: %w", runDir, err)
	}
	demoNS, err := d.createOne(d.name)
	if err != nil {
		return err
	}
	defer demoNS.Close()
	ispNS, err := d.createOne(d.ispName())
	if err != nil {
		return err
	}
	defer ispNS.Close()
	return fill(demoNS, ispNS)
}

// createOne creates one named namespace and records it for removal.
func (d *Demo) createOne(name string) (netns.NsHandle, error) {
	h, err := createNamed(name)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Someone else created it since we looked: not ours to remove.
			return h, fmt.Errorf("namespace %s appeared while creating it", name)
		}
		d.ids[name] = nsID{} // may be half made: remove whatever is there
		return h, fmt.Errorf("creating namespace %s: %w", name, err)
	}
	id, err := namedID(name)
	d.ids[name] = id
	if err != nil {
		h.Close()
		return netns.None(), err
	}
	return h, nil
}

// remove deletes the namespaces this Demo created, skipping any that has
// since been replaced by another run using the same name.
func (d *Demo) remove() error {
	var errs []error
	for name, id := range d.ids {
		if id != (nsID{}) {
			cur, err := namedID(name)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err == nil && cur != id {
				d.log.Warn("demo namespace was replaced by another run; leaving it", "netns", name)
				continue
			}
		}
		if err := removeNamed(name); err != nil {
			errs = append(errs, fmt.Errorf("removing namespace %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
