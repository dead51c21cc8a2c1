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
