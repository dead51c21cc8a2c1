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
type Error struct {
	Kind   string // kind name
	Reason string // what is wrong, such as "missing '@'"
}

func (e *Error) Error() string {
	return fmt.Sprintf("indicator: invalid %s: %s", e.Kind, e.Reason)
}

// Unwrap returns [ErrInvalid].
func (e *Error) Unwrap() error { return ErrInvalid }
