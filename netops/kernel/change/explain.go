package change

import (
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// ErrNoInverse is returned (wrapped, with the reason) by Inverse when the
// op cannot be undone faithfully from what the model knows, such as
// deleting a macvlan in source mode, whose MAC list the model does not
// hold. The panel should then ask for confirmation instead of offering a
// rollback.
var ErrNoInverse = errors.New("cannot be undone automatically")

func noInverse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNoInverse, fmt.Sprintf(format, args...))
}

// KernelError is a refusal from the kernel, explained. Error gives the
// explanation; Unwrap gives the original error, so errors.Is(err,
// unix.EEXIST) still works.
type KernelError struct {
	Op  Op
	Err error
	Msg string
}

func (e *KernelError) Error() string { return e.Msg }
func (e *KernelError) Unwrap() error { return e.Err }

// explainer is implemented by each op: it turns an errno into words that
// name the objects involved, or returns "" to fall back to the generic text.
type explainer interface {
	explain(errno unix.Errno) string
}

// Explain turns a kernel error from applying op into a message an admin can
// act on ("a route to 10.0.0.0/8 already exists in table main: replace it
// instead"). Errors that are already explained pass through unchanged.
func Explain(op Op, err error) error {
	if err == nil {
		return nil
	}
	var ke *KernelError
	if errors.As(err, &ke) {
		if ke.Op == nil {
			ke.Op = op
		}
		return err
	}
	var errno unix.Errno
	errors.As(err, &errno)
	msg := ""
	switch errno {
	case unix.EPERM, unix.EACCES:
		msg = "netpanel lacks CAP_NET_ADMIN in this namespace: run it as root or grant it the capability"
	}
	if ex, ok := op.(explainer); ok && msg == "" && errno != 0 {
		msg = ex.explain(errno)
	}
	if msg == "" {
		msg = fmt.Sprintf("the kernel refused `%s`: %v", op.Command(nil), err)
	}
	return &KernelError{Op: op, Err: err, Msg: msg}
}

// tableLabel names a table for commands and messages: through n when given,
// else the name the op was parsed with, else the built-in names.
func tableLabel(n Names, id uint32, name string) string {
	if n != nil {
		return n.TableName(id)
	}
	if name != "" {
		return name
	}
	switch id {
	case unix.RT_TABLE_DEFAULT:
		return "default"
	case unix.RT_TABLE_MAIN:
		return "main"
	case unix.RT_TABLE_LOCAL:
		return "local"
	}
	return strconv.FormatUint(uint64(id), 10)
}

// errnoOf returns the errno inside err, or 0.
func errnoOf(err error) unix.Errno {
	var e unix.Errno
	errors.As(err, &e)
	return e
}
