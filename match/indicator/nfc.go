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
// itself. nfc normalizes the text around such a character apart from it:
// a character whose low 16 bits compose with what follows is not the first
// character of any canonical composition (those of Unicode 15.0.0 outside
// the BMP, in Kaithi, Chakma, Grantha, Tirhuta, Siddham and Dives Akuru,
// compose with marks outside the BMP whose low 16 bits compose with
// nothing), so nothing composes with it, and the marks after it are
// reordered among themselves only.
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
// on which norm.NFC would go wrong (see nfc), or -1: a character outside
// the BMP after which, up to the next starter included, comes a character
// that composes with the BMP character of its low 16 bits.
func normFault(s string) (index, size int) {
	for i, r := range s {
		if r < 0x10000 {
			continue
		}
		alias := string(rune(r & 0xffff))
		n := utf8.RuneLen(r)
		for _, c := range s[i+n:] {
			if utf8.RuneCountInString(norm.NFC.String(alias+string(c))) == 1 {
				return i, n
			}
			if norm.NFC.PropertiesString(string(c)).CCC() == 0 {
				break
			}
		}
	}
	return -1, 0
}
