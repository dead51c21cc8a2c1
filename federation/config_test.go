package federation

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/fedmatch/fedmatch/match"
)

// A kind policy is refused outside POPRF mode, where a partner could
// declare an allowed kind and send another; an empty label prefix, which
// would release every label, is refused. Regression: New accepted both.
func TestPolicyConfig(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	pub := key.Public().(ed25519.PublicKey)
	base := func() *Config {
		return &Config{ID: "a", Identity: key, StateDir: t.TempDir(), Partners: []Partner{{
			ID: "b", URL: "https://b.example", SPKI: IdentitySPKI(pub), Identity: pub, Kinds: []string{"ipv4"}, Budget: 10,
		}}}
	}
	c := base()
	c.Mode = match.ModeVOPRF
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "POPRF") {
		t.Errorf("VOPRF with a kind policy: %v", err)
	}
	c = base()
	c.Mode = match.ModeVOPRF
	c.Partners[0].Kinds = []string{"*"}
	if n, err := New(c); err != nil {
		t.Errorf("VOPRF without a kind policy: %v", err)
	} else {
		n.Close()
	}
	c = base()
	c.Partners[0].ReleaseLabels = []string{"TLP:GREEN", ""}
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "empty label prefix") {
		t.Errorf("empty label prefix: %v", err)
	}
}

// A release rule matches a label's leading tokens whole: TLP:AMBER does
// not release TLP:AMBER+STRICT (the recipient's organisation only, in TLP
// 2.0) nor TLP:AMBERX. Regression: rules were bare string prefixes.
func TestReleaseLabels(t *testing.T) {
	for _, c := range []struct {
		rules []string
		label string
		want  bool
	}{
		{[]string{"TLP:AMBER"}, "TLP:AMBER", true},
		{[]string{"TLP:AMBER"}, "TLP:AMBER case 4712", true},
		{[]string{"TLP:AMBER"}, " TLP:AMBER\tcase", true},
		{[]string{"TLP:AMBER"}, "TLP:AMBER, case 4712", true},
		{[]string{"TLP:AMBER"}, "TLP:AMBER;case", true},
		{[]string{"TLP:AMBER"}, "TLP:AMBER+STRICT", false},
		{[]string{"TLP:AMBER"}, "TLP:AMBER+STRICT case 4712", false},
		{[]string{"TLP:AMBER"}, "TLP:AMBERX", false},
		{[]string{"TLP:AMBER"}, "TLP:AMBER:x", false},
		{[]string{"TLP:AMBER"}, "TLP:AMBER/x", false},
		{[]string{"TLP:AMBER"}, "tlp:amber", false},
		{[]string{"TLP:AMBER"}, "xTLP:AMBER", false},
		{[]string{"TLP:AMBER"}, "case TLP:AMBER", false},
		{[]string{"TLP:AMBER"}, "", false},
		{[]string{"TLP:AMBER+STRICT"}, "TLP:AMBER+STRICT case", true},
		{[]string{"TLP:AMBER+STRICT"}, "TLP:AMBER case", false},
		{[]string{"TLP:AMBER", "TLP:AMBER+STRICT"}, "TLP:AMBER+STRICT", true},
		{[]string{"TLP:CLEAR"}, "TLP:WHITE", false}, // no translation: list both
		{[]string{"TLP:GREEN case"}, "TLP:GREEN case 7", true},
		{[]string{"TLP:GREEN case"}, "TLP:GREEN  case", true},
		{[]string{"TLP:GREEN case"}, "TLP:GREEN cases", false},
		{[]string{"TLP:GREEN case"}, "TLP:GREEN", false},
		{[]string{"case"}, "case 4712", true},
		{[]string{"case"}, "case4712", false},
		{[]string{"*"}, "TLP:RED anything", true},
		{[]string{"*"}, "", true},
		{nil, "TLP:CLEAR", false},
	} {
		p := &Partner{ReleaseLabels: c.rules}
		if got := p.releases(c.label); got != c.want {
			t.Errorf("rules %q, label %q: released %v, want %v", c.rules, c.label, got, c.want)
		}
	}
}

// A rule that could not mean what it says is refused: no token, a
// wildcard inside a rule, a TLP marking that TLP does not have.
func TestReleaseRuleConfig(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	pub := key.Public().(ed25519.PublicKey)
	cfg := func(rule string) *Config {
		return &Config{ID: "a", Identity: key, Partners: []Partner{{
			ID: "b", URL: "https://b.example", SPKI: IdentitySPKI(pub), Identity: pub, Budget: 10,
			ReleaseLabels: []string{"TLP:GREEN", rule},
		}}}
	}
	for rule, want := range map[string]string{
		"":                 "empty",
		" ":                "empty",
		",;":               "empty",
		"TLP:*":            "'*'",
		"TLP:GREEN *":      "'*'",
		"tlp:green":        "TLP",
		"TLP:GREN":         "TLP",
		"TLP:AMBER-STRICT": "TLP",
		"TLP:Amber":        "TLP",
		"TLP:GREEN\ncase":  "control",
	} {
		if _, err := cfg(rule).check(false); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("rule %q: %v, want an error containing %q", rule, err, want)
		}
	}
	for _, rule := range []string{"*", "TLP:CLEAR", "TLP:WHITE", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED", "TLP:AMBER case", "case", "PAP:GREEN"} {
		if _, err := cfg(rule).check(false); err != nil {
			t.Errorf("rule %q: %v", rule, err)
		}
	}
}
