package indicator

import "strings"

// IBAN is an International Bank Account Number (ISO 13616).
//
// Canonical form: the electronic format, upper case without spaces
// ("DE89370400440532013000"). White space around is removed, ASCII
// letters are upper-cased, then an "IBAN" prefix and the separators space,
// tab, '-' and '.' are removed. The country code must be one that issues
// IBANs, the length the one that country uses, and the ISO 7064 mod-97
// check digits must verify (the remainder is 1). PROTOCOL.md section 4.11
// lists the countries and lengths.
//
// Reason codes: `iban.chars`, `iban.country`, `iban.length`,
// `iban.check-digits`, `iban.checksum`.
var IBAN = register("iban", canonicalIBAN)

// iban_table.go (ibanLengths) is generated from a pinned release of
// ibantools, which gen_iban.go downloads from the npm registry; offline,
// pass the tarball: go run gen_iban.go -tgz ibantools-VERSION.tgz.
//
//go:generate go run gen_iban.go

func canonicalIBAN(s string) (string, error) {
	s = toUpperASCII(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "IBAN")
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' || r == '\t' {
			return -1
		}
		return r
	}, s)
	for i := range len(s) {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return "", fail("iban.chars", "has a character other than letters and digits (after separators are removed)")
		}
	}
	if len(s) < 2 {
		return "", failf("iban.length", "%d characters, too short for an IBAN", len(s))
	}
	want, ok := ibanLengths[s[:2]]
	if !ok {
		return "", fail("iban.country", "country code does not issue IBANs")
	}
	if len(s) != want {
		// The country code is part of the value: not named.
		return "", failf("iban.length", "%d characters, this country's IBANs have %d", len(s), want)
	}
	if s[2] > '9' || s[3] > '9' {
		return "", fail("iban.check-digits", "check digits are not digits")
	}
	// ISO 7064 MOD 97-10 over BBAN || country || check digits, letters as
	// 10..35, computed digit by digit.
	rem := 0
	for _, c := range s[4:] + s[:4] {
		if c >= 'A' {
			rem = (rem*100 + int(c-'A'+10)) % 97
		} else {
			rem = (rem*10 + int(c-'0')) % 97
		}
	}
	if rem != 1 {
		return "", fail("iban.checksum", "check digits do not verify (mod 97)")
	}
	return s, nil
}
