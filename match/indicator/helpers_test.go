package indicator

import (
	"errors"
	"strings"
	"testing"
)

type canonCase struct {
	in, want string // want "" means invalid
	reason   string // substring of the error, for invalid cases
}

func testKind(t *testing.T, k *Kind, cases []canonCase) {
	t.Helper()
	for _, c := range cases {
		got, err := New(k, c.in)
		if c.want == "" {
			var ie *Error
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalid) {
				t.Errorf("%s %q: got %v, %v; want an Error", k, c.in, got, err)
				continue
			}
			if ie.Kind != k.Name() || !strings.Contains(ie.Reason, c.reason) {
				t.Errorf("%s %q: error %q, want kind %s and reason containing %q", k, c.in, err, k, c.reason)
			}
			if strings.TrimSpace(c.in) != "" && len(c.in) > 3 && strings.Contains(err.Error(), strings.TrimSpace(c.in)) {
				t.Errorf("%s %q: the error quotes the value: %q", k, c.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", k, c.in, err)
			continue
		}
		if got.Value() != c.want {
			t.Errorf("%s %q = %q, want %q", k, c.in, got.Value(), c.want)
		}
		if again, err := New(k, got.Value()); err != nil || again != got {
			t.Errorf("%s %q: canonical form %q is not a fixed point (%v, %v)", k, c.in, got.Value(), again, err)
		}
	}
}
