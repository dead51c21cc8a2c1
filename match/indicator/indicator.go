package indicator

import (
	"fmt"
	"strings"
)

// An Indicator is a canonical value of a [Kind]. Indicators are comparable:
// two are == exactly when they match. The zero Indicator is invalid.
type Indicator struct {
	kind  *Kind
	value string
}

// New canonicalizes value as kind k. An invalid value returns an
// [*Error] naming the kind and the reason.
func New(k *Kind, value string) (Indicator, error) {
	if k == nil {
		return Indicator{}, fmt.Errorf("%w: nil kind", ErrUnknownKind)
	}
	c, err := k.Canonicalize(value)
	if err != nil {
		return Indicator{}, err
	}
	return Indicator{kind: k, value: c}, nil
}

// MustNew is like [New] but panics on an invalid value. It
// is for constants in programs and tests, never for outside input.
func MustNew(k *Kind, value string) Indicator {
	ind, err := New(k, value)
	if err != nil {
		panic(err)
	}
	return ind
}

// Parse parses "kind:value" with a built-in kind, such as
// "email:Alice@Example.org".
func Parse(s string) (Indicator, error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return Indicator{}, fmt.Errorf("%w: missing \"kind:\" prefix", ErrInvalid)
	}
	k, err := Lookup(name)
	if err != nil {
		// Not Lookup's error, which quotes the name: when s is a bare
		// value ("2001:db8::1"), the text before ':' is part of it.
		return Indicator{}, fmt.Errorf("%w: the %d bytes before the first ':' are not a kind name", ErrUnknownKind, len(name))
	}
	return New(k, value)
}

// Kind returns the indicator's kind.
func (i Indicator) Kind() *Kind { return i.kind }

// Value returns the canonical value.
func (i Indicator) Value() string { return i.value }

// IsZero reports whether i is the zero Indicator.
func (i Indicator) IsZero() bool { return i.kind == nil }

// String returns "kind:value".
func (i Indicator) String() string {
	if i.kind == nil {
		return "<zero indicator>"
	}
	return i.kind.name + ":" + i.value
}
