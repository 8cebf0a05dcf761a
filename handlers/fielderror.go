package handlers

import (
	"errors"
	"fmt"
)

// fieldError is a bad value in one field of a page's form. Its text is
// "label: message", which views.FormErrorBanner splits to show the message
// next to the field.
type fieldError struct {
	field, label, msg string
}

func (e *fieldError) Error() string { return e.label + ": " + e.msg }

// badField reports a bad value in the form field named field, whose
// visible label reads label.
func badField(field, label, format string, args ...any) error {
	return &fieldError{field: field, label: label, msg: fmt.Sprintf(format, args...)}
}

// errorField names the form field err is about, or "".
func errorField(err error) string {
	if fe, ok := errors.AsType[*fieldError](err); ok {
		return fe.field
	}
	return ""
}
