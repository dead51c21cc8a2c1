package federation

import (
	"errors"
	"slices"
	"strings"
	"unicode"

	"github.com/fedmatch/fedmatch/match"
)

// Label release (Partner.ReleaseLabels). A label and a release rule are
// read as tokens: runs of characters other than white space, ',' and ';'.
// A rule releases a label when the label's first tokens are the rule's
// tokens, whole and byte for byte (so case matters); "*" releases every
// label. TLP 2.0 markings are tokens: "TLP:AMBER" releases "TLP:AMBER,
// case 4712" but neither "TLP:AMBER+STRICT case 4712" nor "TLP:AMBERX".

// tlpMarkings are the markings of TLP 2.0 (FIRST, "Traffic Light
// Protocol (TLP) Version 2.0"), with TLP 1.0's TLP:WHITE, which TLP 2.0
// renamed TLP:CLEAR. A rule that starts like a TLP marking must start
// with one of them.
var tlpMarkings = []string{"TLP:CLEAR", "TLP:WHITE", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"}

// isLabelSeparator reports whether r separates the tokens of labels and
// release rules.
func isLabelSeparator(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == ';' }

// nextToken returns the first token of s and what follows it; tok is
// empty when s holds no token.
func nextToken(s string) (tok, rest string) {
	s = strings.TrimLeftFunc(s, isLabelSeparator)
	if i := strings.IndexFunc(s, isLabelSeparator); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// releases reports whether the partner may receive label.
func (p *Partner) releases(label string) bool {
	for _, rule := range p.ReleaseLabels {
		if rule == "*" || releasedBy(label, rule) {
			return true
		}
	}
	return false
}

// releasedBy reports whether label's first tokens are rule's tokens.
func releasedBy(label, rule string) bool {
	r, rrest := nextToken(rule)
	if r == "" {
		return false // no token: refused by Config.check
	}
	for r != "" {
		var l string
		l, label = nextToken(label)
		if l != r {
			return false
		}
		r, rrest = nextToken(rrest)
	}
	return true
}

// checkReleaseRule returns an error if rule cannot mean what it says.
func checkReleaseRule(rule string) error {
	if rule == "*" {
		return nil
	}
	first, _ := nextToken(rule)
	switch {
	case match.CheckLabel(rule) != nil:
		return errors.New("a control character, invalid UTF-8 or longer than a label")
	case first == "":
		return errors.New(`an empty label prefix (no token; use "*" to release every label)`)
	case strings.Contains(rule, "*"):
		return errors.New(`'*' is a wildcard only as the whole rule ("*": every label)`)
	case len(first) >= 4 && strings.EqualFold(first[:4], "TLP:") && !slices.Contains(tlpMarkings, first):
		return errors.New("not a TLP marking (TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED, or TLP 1.0's TLP:WHITE, in upper case)")
	}
	return nil
}
