package indicator

import (
	"errors"
	"fmt"
	"strings"
)

// IBAN is an International Bank Account Number (ISO 13616).
//
// Canonical form: the electronic format, upper case without spaces
// ("DE89370400440532013000"). An "IBAN" prefix and spaces, '-' and '.' are
// removed. The country code must be one that issues IBANs, the length the
// one that country uses, and the ISO 7064 mod-97 check digits must verify
// (the remainder is 1).
var IBAN = register("iban", canonicalIBAN)

// ibanLengths is the IBAN length of each country that issues IBANs: the
// SWIFT IBAN registry and the national formats in use outside it, as
// compiled by the ibantools project (MIT/MPL-2.0), version 4.5.4.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AO": 25, "AT": 20, "AX": 18, "AZ": 28,
	"BA": 20, "BE": 16, "BF": 28, "BG": 22, "BH": 22, "BI": 27, "BJ": 28,
	"BL": 27, "BR": 29, "BY": 28, "CF": 27, "CG": 27, "CH": 21, "CI": 28,
	"CM": 27, "CR": 22, "CV": 25, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
	"DK": 18, "DO": 28, "DZ": 26, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
	"FK": 18, "FO": 18, "FR": 27, "GA": 27, "GB": 22, "GE": 22, "GF": 27,
	"GI": 23, "GL": 18, "GP": 27, "GQ": 27, "GR": 27, "GT": 28, "GW": 25,
	"HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IR": 26,
	"IS": 26, "IT": 27, "JO": 30, "KM": 27, "KW": 30, "KZ": 20, "LB": 28,
	"LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MA": 28,
	"MC": 27, "MD": 24, "ME": 22, "MF": 27, "MG": 27, "MK": 19, "ML": 28,
	"MN": 20, "MQ": 27, "MR": 27, "MT": 31, "MU": 30, "MZ": 25, "NC": 27,
	"NE": 28, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PF": 27, "PK": 24,
	"PL": 28, "PM": 27, "PS": 29, "PT": 25, "QA": 29, "RE": 27, "RO": 24,
	"RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19,
	"SK": 24, "SM": 27, "SN": 28, "SO": 23, "ST": 25, "SV": 28, "TD": 27,
	"TF": 27, "TG": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22,
	"VG": 24, "WF": 27, "XK": 20, "YE": 30, "YT": 27,
}

func canonicalIBAN(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "IBAN")
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if len(s) < 5 {
		return "", errors.New("too short")
	}
	for i := range len(s) {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return "", errors.New("has a character other than letters and digits")
		}
	}
	want, ok := ibanLengths[s[:2]]
	if !ok {
		return "", errors.New("country code does not issue IBANs")
	}
	if len(s) != want {
		return "", fmt.Errorf("%d characters, %s IBANs have %d", len(s), s[:2], want)
	}
	if s[2] > '9' || s[3] > '9' {
		return "", errors.New("check digits are not digits")
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
		return "", errors.New("check digits do not verify (mod 97)")
	}
	return s, nil
}
