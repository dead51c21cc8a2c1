package indicator

import (
	"strings"
	"testing"
	"unicode"
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

// The local part's case mapping is Unicode's full lowercase mapping
// (PROTOCOL.md section 4.3), as JavaScript's toLowerCase and Python's
// str.lower make it. Regression: strings.ToLower made "istanbul" of
// "İstanbul" and "οδοσ" of "ΟΔΟΣ", where other languages make "i̇stanbul"
// and "οδος".
func TestLowerFull(t *testing.T) {
	for in, want := range map[string]string{
		"İstanbul":   "i\u0307stanbul",
		"ISTANBUL":   "istanbul",
		"ı":          "ı",
		"ΟΔΟΣ":       "οδος",
		"Σ":          "σ",
		"ΑΣΣ":        "ασς",
		"ΟΔΟΣ.ΟΔΟΣ":  "οδοσ.οδος", // '.' is Case_Ignorable (MidNumLet)
		"ΟΔΟΣ-ΟΔΟΣ":  "οδος-οδος", // '-' is not
		"ΟΔΟΣ1Α":     "οδος1α",
		"Α1Σ":        "α1σ",
		"ΑΣ\u0301":   "ας\u0301",
		"Α\u02b0Σ":   "α\u02b0ς", // U+02B0 is Cased and Case_Ignorable: skipped
		"\u02b0Σ":    "\u02b0σ",
		"ΑΣ\u0345":   "ας\u0345",
		"ẞ":          "ß",
		"ǅ":          "ǆ",
		"\U00010400": "\U00010428",
		"\U00010d50": "\U00010d50", // unassigned in Unicode 15.0.0
		// More Case_Ignorable characters than golang.org/x/text/cases
		// looks at (30) before a Cased one: not final.
		"ΑΣ" + strings.Repeat("'", 40) + "Α": "ασ" + strings.Repeat("'", 40) + "α",
	} {
		if got := lowerFull(in); got != want {
			t.Errorf("lowerFull(%+q) = %+q, want %+q", in, got, want)
		}
	}
	// The Word_Break characters of Case_Ignorable are not of a category
	// that is Case_Ignorable in itself, nor Cased.
	for _, rg := range wordBreakMid.R16 {
		for r := rune(rg.Lo); r <= rune(rg.Hi); r++ {
			if unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk) || isCased(r) {
				t.Errorf("%U in wordBreakMid is Case_Ignorable or Cased by its category", r)
			}
		}
	}
}

// Regression: golang.org/x/text/unicode/norm made "á@example.org" of
// "\U00010041\u0301@example.org" (golang/go#81028).
func TestEmailNormFault(t *testing.T) {
	for _, in := range []string{"\U00010041\u0301@example.org", "\U00010430\u0306@example.org", "\U00020041\u0300x@example.org"} {
		got, err := Email.Canonicalize(in)
		if want := strings.TrimSpace(in); err != nil || got != want {
			t.Errorf("%+q = %+q, %v; want %+q", in, got, err, want)
		}
	}
}
