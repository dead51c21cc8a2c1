package indicator

import (
	"strings"
	"testing"
)

func TestKindEmail(t *testing.T) {
	testKind(t, Email, []canonCase{
		{"alice@example.org", "alice@example.org", ""},
		{"Alice@Example.ORG", "alice@example.org", ""},
		{" alice@example.org. ", "alice@example.org", ""},
		{"alice+tag@example.org", "alice+tag@example.org", ""},
		{"a.lice@gmail.com", "a.lice@gmail.com", ""},
		{"jörg@bücher.example", "jörg@xn--bcher-kva.example", ""},
		{"ÉLODIE@example.fr", "élodie@example.fr", ""},
		{"o'brien@example.ie", "o'brien@example.ie", ""},
		{"alice@example", "", "single label"},
		{"alice.example.org", "", "missing '@'"},
		{"@example.org", "", "empty local part"},
		{"alice@", "", "domain part"},
		{"a@b@example.org", "", "local part"},
		{".alice@example.org", "", "dot"},
		{"alice.@example.org", "", "dot"},
		{"al..ice@example.org", "", "dot"},
		{"al ice@example.org", "", "white space"},
		{"\"alice\"@example.org", "", "local part"},
		{strings.Repeat("a", 65) + "@example.org", "", "64 bytes"},
		{"alice@192.0.2.1", "", "IP address"},
	})
}

// Regression: "jos\u00e9" and "jose\u0301" were two indicators before the local part was NFC-normalised (5520ab5).
func TestEmailNFC(t *testing.T) {
	composed := MustNew(Email, "jos\u00e9@example.org")
	decomposed := MustNew(Email, "jose\u0301@example.org")
	if composed != decomposed {
		t.Fatalf("%q and %q differ", composed.Value(), decomposed.Value())
	}
}
