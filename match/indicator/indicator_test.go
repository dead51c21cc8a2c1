package indicator

import (
	"errors"
	"strings"
	"testing"
)

func TestKindsDoNotCollide(t *testing.T) {
	// The same string under two kinds is two OPRF inputs.
	v := "d41d8cd98f00b204e9800998ecf8427e"
	a := MustNew(MD5, v)
	k, err := NewKind("x-token", func(s string) (string, error) { return s, nil })
	if err != nil {
		t.Fatal(err)
	}
	b := MustNew(k, v)
	if a == b {
		t.Fatal("equal values of different kinds collide")
	}
}

func TestIndicatorLimits(t *testing.T) {
	k, _ := NewKind("x-raw", func(s string) (string, error) { return s, nil })
	if _, err := New(k, strings.Repeat("a", MaxValueLen)); err != nil {
		t.Errorf("value of MaxValueLen refused: %v", err)
	}
	for _, v := range []string{strings.Repeat("a", MaxValueLen+1), "", "\xff\xfe"} {
		if _, err := New(k, v); !errors.Is(err, ErrInvalid) {
			t.Errorf("value of %d bytes: got %v", len(v), err)
		}
	}
	if _, err := New(nil, "x"); err == nil {
		t.Error("nil kind accepted")
	}
	var zero Indicator
	if !zero.IsZero() || zero.String() == "" {
		t.Error("zero Indicator")
	}
}

// Parse does not quote what precedes the first ':', which may be part of
// a value given without its kind. (It quoted it, as Lookup quotes a kind
// name.)
func TestParseDoesNotQuote(t *testing.T) {
	for _, s := range []string{"2001:db8::1", "secret-token:x", "Alice@Example.org:25"} {
		_, err := Parse(s)
		name, _, _ := strings.Cut(s, ":")
		if !errors.Is(err, ErrUnknownKind) || strings.Contains(err.Error(), name) {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}
