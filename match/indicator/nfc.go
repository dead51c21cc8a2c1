package indicator

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// nfc returns s in Unicode Normalization Form C.
//
// It is norm.NFC.String but for a fault of golang.org/x/text/unicode/norm
// (golang/go#81028, open): when composing, the library truncates the
// starter to 16 bits, so that a character outside the BMP followed by a
// combining mark is composed as if it were the BMP character with the same
// low 16 bits: NFC("\U00010041\u0301") is "Á", where it is the input
// itself; and the second character is truncated too, so that a BMP
// character followed by one outside it can be composed into a character
// of neither: NFC("\u1099\U000110BA") is "\U0001109A" (Kaithi), where it
// is the input. nfc normalizes the text around such a character apart
// from it.
// Such a character is not the first of any canonical composition (those
// of Unicode 15.0.0 outside the BMP, in Kaithi, Chakma, Grantha, Tirhuta,
// Siddham and Dives Akuru, start with characters whose low 16 bits compose
// with nothing), so nothing composes with it, and the marks after it are
// only reordered among themselves. Decomposition is not affected, which
// lets normFault find the characters concerned.
func nfc(s string) string {
	i, n := normFault(s)
	if i < 0 {
		return norm.NFC.String(s)
	}
	var b strings.Builder
	b.WriteString(nfc(s[:i]))
	b.WriteString(norm.NFC.String(s[i : i+n]))
	b.WriteString(nfc(s[i+n:]))
	return b.String()
}

// normFault returns the byte index and length of the first character of s
// on which norm.NFC would go wrong (see nfc), or -1: a character after
// which, up to the next starter included, comes a character that
// norm.NFC composes with it into a character that is not canonically
// equivalent to the two (one of the two is outside the BMP).
func normFault(s string) (index, size int) {
	for i, r := range s {
		n := utf8.RuneLen(r)
		for _, c := range s[i+n:] {
			if r < 0x10000 && c < 0x10000 {
				// Both keep their 16 bits: the library composes them
				// right. (This is the loop's only test on BMP text.)
				if norm.NFC.PropertiesString(string(c)).CCC() == 0 {
					break
				}
				continue
			}
			pair := string(r) + string(c)
			if norm.NFD.String(norm.NFC.String(pair)) != norm.NFD.String(pair) {
				return i, n
			}
			if norm.NFC.PropertiesString(string(c)).CCC() == 0 {
				break
			}
		}
	}
	return -1, 0
}
