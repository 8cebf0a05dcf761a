package app

import (
	"log/slog"

	"github.com/netpanel/netpanel/netops/app/audit"
)

// Appender is where audit entries go (*audit.Log).
type Appender interface {
	Append(audit.Entry) error
}

// Recorder writes audit entries. An entry it cannot write is logged: the
// change it records has happened, so a full disk must not turn it into an
// error, and it must not vanish without a word either.
type Recorder struct {
	log    Appender
	logger *slog.Logger
}

// NewRecorder records to log (nil: nothing is recorded) and reports
// failures to logger.
func NewRecorder(log Appender, logger *slog.Logger) *Recorder {
	if logger == nil {
		logger = slog.Default()
	}
	return &Recorder{log: log, logger: logger}
}

// Record appends e; a nil Recorder records nothing.
func (r *Recorder) Record(e audit.Entry) {
	if r == nil || r.log == nil {
		return
	}
	if err := r.log.Append(e); err != nil {
		r.logger.Error("writing the audit log failed", "err", err, "action", e.Action)
	}
}

// change records a change id made: what it was, the shell command that
// does the same, and how it ended (ResultOK or the error).
func (r *Recorder) change(id Identity, detail, command, result string) {
	r.Record(audit.Entry{User: id.User, Client: id.Client, Action: audit.ActionChange, Detail: detail, Command: command, Result: result})
}

// resultOf is the audit result of an error.
func resultOf(err error) string {
	if err != nil {
		return err.Error()
	}
	return audit.ResultOK
}
