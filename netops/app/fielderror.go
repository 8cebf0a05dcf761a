package app

import (
	"errors"
	"fmt"
)

// FieldError is a bad value in one field of what someone asked for. Its
// text is "label: message"; a form shows the message next to its field.
type FieldError struct {
	Field string // the form's name for the field
	Label string // the field's visible label
	Msg   string
}

func (e *FieldError) Error() string { return e.Label + ": " + e.Msg }

// BadField reports a bad value in the field named field, whose visible
// label reads label.
func BadField(field, label, format string, args ...any) error {
	return &FieldError{Field: field, Label: label, Msg: fmt.Sprintf(format, args...)}
}

// FieldOf names the field err is about, or "".
func FieldOf(err error) string {
	if fe, ok := errors.AsType[*FieldError](err); ok {
		return fe.Field
	}
	return ""
}
