package indicator

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
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

// conformanceDir holds public test suites (PROVENANCE.md there names the
// source of each): the shared folder beside the repository, read in place
// and never copied into it.
var conformanceDir = filepath.Join("..", "..", "..", "shared", "conformance")

// A conformance runs the cases of one public test suite and counts them:
// run, passed, and skipped where fedmatch decides otherwise than the
// suite, either as its documentation says (a documented rule) or not (a
// known gap: a fault of the library, reported and counted until fixed).
type conformance struct {
	t       *testing.T
	suite   string
	path    string
	run     int
	passed  int
	skipped map[string]int // by documented rule
	gaps    map[string]int // by known gap
}

// newConformance returns the conformance run of a suite file, or skips
// the test when the file is absent.
func newConformance(t *testing.T, suite string) *conformance {
	t.Helper()
	p := filepath.Join(conformanceDir, suite)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("conformance suite %s is absent (%v): it lives in shared/conformance beside the repository", suite, err)
	}
	return &conformance{t: t, suite: suite, path: p, skipped: map[string]int{}, gaps: map[string]int{}}
}

// records returns the TAB-separated records of the suite, without blank
// lines and comment lines ('#'), each with at least n fields.
func (c *conformance) records(n int) [][]string {
	c.t.Helper()
	data, err := os.ReadFile(c.path)
	if err != nil {
		c.t.Fatal(err)
	}
	var recs [][]string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := strings.Split(line, "\t")
		if len(r) < n {
			c.t.Fatalf("%s:%d: %d fields, want %d", c.suite, i+1, len(r), n)
		}
		recs = append(recs, r)
	}
	if len(recs) == 0 {
		c.t.Fatalf("%s: no records", c.suite)
	}
	return recs
}

// unquote returns the string of a Go-quoted field.
func (c *conformance) unquote(field string) string {
	c.t.Helper()
	s, err := strconv.Unquote(field)
	if err != nil {
		c.t.Fatalf("%s: field %s: %v", c.suite, field, err)
	}
	return s
}

// pass counts a case that passed.
func (c *conformance) pass() {
	c.run++
	c.passed++
}

// check counts a case that passed if ok, and reports it otherwise.
func (c *conformance) check(ok bool, format string, args ...any) {
	c.t.Helper()
	c.run++
	if ok {
		c.passed++
		return
	}
	c.t.Errorf("%s: "+format, append([]any{c.suite}, args...)...)
}

// documented counts a case that fedmatch decides otherwise than the suite
// because rule, a rule of its documentation, says so.
func (c *conformance) documented(rule, format string, args ...any) {
	c.t.Helper()
	c.run++
	c.skipped[rule]++
	c.t.Logf("%s: skipped, documented (%s): "+format, append([]any{c.suite, rule}, args...)...)
}

// done logs the counts and fails if a rule or gap skipped more cases
// than allowed: a case that newly differs from the suite is a
// regression, not a documented difference.
func (c *conformance) done(allowed map[string]int) {
	c.t.Helper()
	skipped, gaps := 0, 0
	for _, m := range []map[string]int{c.skipped, c.gaps} {
		for rule, n := range m {
			if n > allowed[rule] {
				c.t.Errorf("%s: %d cases skipped as %q, at most %d allowed: a new difference from the suite", c.suite, n, rule, allowed[rule])
			}
		}
	}
	for _, n := range c.skipped {
		skipped += n
	}
	for _, n := range c.gaps {
		gaps += n
	}
	c.t.Logf("%s: %d cases run, %d passed, %d skipped as documented differences, %d as known gaps", c.suite, c.run, c.passed, skipped, gaps)
	if c.run == 0 {
		c.t.Errorf("%s: no case run", c.suite)
	}
}
