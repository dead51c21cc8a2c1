package indicator

import (
	"errors"
	"fmt"
)

// Errors returned by this package; test for them with [errors.Is].
var (
	// ErrInvalid reports an indicator value that is not valid for its
	// kind. The error is an [*Error].
	ErrInvalid = errors.New("indicator: invalid value")
	// ErrUnknownKind reports a kind name that is not registered.
	ErrUnknownKind = errors.New("indicator: unknown indicator kind")
)

// An Error reports a value that is not a valid indicator of its kind. It
// names the kind and the reason, never the value: errors end up in logs,
// and indicator values must not. A reason gives lengths and counts ("21
// characters, this country's IBANs have 22") and fixed text, never a
// character of the value, not even a part such as a country code.
//
// Code is the reason as a stable identifier, such as "iban.checksum":
// PROTOCOL.md section 4 lists every code of the built-in kinds, and the
// canonicalization vectors give the code of each invalid case, so that
// another implementation can compare its refusals with these. Codes name
// the rule that refused the value: an e-mail address refused for its
// domain part has a "domain." code. The text of Reason may change
// between releases; a Code does not. A custom kind's refusals have the
// code "custom".
type Error struct {
	Kind   string // kind name
	Code   string // stable reason code, such as "iban.checksum"
	Reason string // what is wrong, such as "missing '@'"
}

// A reasonError is a canonicalizer's refusal with its reason code.
type reasonError struct {
	code, text string
}

func (e *reasonError) Error() string { return e.text }

// fail returns a refusal with reason code code and text text.
func fail(code, text string) error { return &reasonError{code, text} }

// failf is fail with a formatted text.
func failf(code, format string, args ...any) error {
	return &reasonError{code, fmt.Sprintf(format, args...)}
}

// codeOf returns the reason code of a canonicalizer's error: its own, or
// def for an error without one (a custom kind's, or a library's).
func codeOf(err error, def string) string {
	if re := (*reasonError)(nil); errors.As(err, &re) {
		return re.code
	}
	return def
}

func (e *Error) Error() string {
	return fmt.Sprintf("indicator: invalid %s: %s", e.Kind, e.Reason)
}

// Unwrap returns [ErrInvalid].
func (e *Error) Unwrap() error { return ErrInvalid }
