package indicator

import (
	"testing"

	"golang.org/x/text/unicode/norm"
)

// nfc is NFC where golang.org/x/text/unicode/norm composes a character
// outside the BMP with a following mark as the BMP character of its low 16
// bits (golang/go#81028), and norm.NFC elsewhere.
func TestNFC(t *testing.T) {
	for in, want := range map[string]string{
		"\U00010041\u0301":               "\U00010041\u0301", // norm: "Á"
		"\U00010430\u0306":               "\U00010430\u0306", // norm: "ӑ"
		"\U00020041\u0323\u0301":         "\U00020041\u0323\u0301",
		"\U00020041\u0301\u0323":         "\U00020041\u0323\u0301", // marks reordered
		"a\u0301\U00010041\u0301b\u0308": "á\U00010041\u0301b\u0308",
		"\U00011099\U000110ba":           "\U0001109a",       // Kaithi: a real composition outside the BMP
		"\u1099\U000110ba":               "\u1099\U000110ba", // norm: "\U0001109a", a BMP starter truncated onto Kaithi
		"\u1131\U00011127":               "\u1131\U00011127", // norm: Chakma "\U0001112e"
		"\u1347\U0001133e":               "\u1347\U0001133e", // norm: Grantha "\U0001134b"
		"\u1347\U00011357":               "\u1347\U00011357", // norm: Grantha "\U0001134c"
		"\U0001d15e":                     "\U0001d157\U0001d165",
		"\u2126":                         "\u03a9",
		"e\u0301":                        "é",
	} {
		if got := nfc(in); got != want {
			t.Errorf("nfc(%+q) = %+q, want %+q", in, got, want)
		}
		if got := nfc(in); !norm.NFC.IsNormalString(got) && normFaultFree(got) {
			t.Errorf("nfc(%+q) = %+q is not NFC", in, got)
		}
	}
}

func normFaultFree(s string) bool { i, _ := normFault(s); return i < 0 }

// A domain whose UTS #46 mapping would meet the fault is refused, not
// mapped to the name of the BMP letter ("ӑ.example").
func TestDomainNormFault(t *testing.T) {
	for _, in := range []string{"\U00010430\u0306.example", "\U00010408\u0306.example"} {
		if got, err := Domain.Canonicalize(in); err == nil {
			t.Errorf("%+q = %q, want a refusal", in, got)
		}
	}
}

// nfc keeps every character outside the BMP followed by a mark
// canonically equivalent to itself, and is NFC (norm.NFC, which is right
// where normFault finds nothing, leaves it as it is).
func TestNFCOutsideBMP(t *testing.T) {
	if testing.Short() {
		t.Skip("the code points of four planes")
	}
	// Planes 1, 2, 3 and 14, where characters are assigned, those whose
	// low 16 bits are of the BMP's composing starters (below U+3100, and
	// Hangul syllables); marks that compose with Latin, Cyrillic and Greek
	// letters, and a Hangul trailing consonant.
	for r := rune(0x10000); r <= 0xeffff; r++ {
		if low := r & 0xffff; low >= 0x3100 && (low < 0xac00 || low > 0xd7a3) {
			continue
		}
		if r == 0x40000 {
			r = 0xe0000
		}
		for _, m := range []string{"\u0301", "\u0306\u0323", "\u11a8"} {
			s := string(r) + m
			got := nfc(s)
			if norm.NFD.String(got) != norm.NFD.String(s) || norm.NFC.String(got) != got && normFaultFree(got) {
				t.Fatalf("nfc(%+q) = %+q", s, got)
			}
		}
	}
}

// Every composition of Unicode 15.0.0 whose characters are outside the
// BMP, tried with BMP characters of the same low 16 bits in their place:
// nfc composes only the real ones.
func TestNFCTruncatedPairs(t *testing.T) {
	for r := rune(0x10000); r <= 0x1ffff; r++ {
		d := norm.NFD.String(string(r))
		rs := []rune(d)
		if len(rs) != 2 || norm.NFC.String(d) != string(r) {
			continue // not a canonical composition of two characters
		}
		for _, pair := range [][2]rune{{rs[0] & 0xffff, rs[1]}, {rs[0], rs[1] & 0xffff}, {rs[0] & 0xffff, rs[1] & 0xffff}} {
			s := string(pair[0]) + string(pair[1])
			if got := nfc(s); norm.NFD.String(got) != norm.NFD.String(s) {
				t.Errorf("nfc(%+q) = %+q, not canonically equivalent", s, got)
			}
		}
		if got := nfc(d); got != string(r) {
			t.Errorf("nfc(%+q) = %+q, want %+q", d, got, string(r))
		}
	}
}
