package indicator

import (
	"strings"
	"unicode"

	"golang.org/x/text/language"
)

// Document is a travel or identity document: passport, identity card,
// visa, residence permit.
//
// Canonical form: "ISS:NUMBER", the issuing country as an ISO 3166-1
// alpha-3 code and the document number in upper case without separators
// ("DEU:C01X00T47"). The input is the country and the number separated by
// ':' or white space. The country may be alpha-2 or alpha-3 (deprecated
// codes such as "UK" become their current ones; PROTOCOL.md section 4.12
// lists them all), or one of the ICAO 9303
// codes of machine-readable documents that are not ISO codes: "D" for
// Germany, "RKS" for Kosovo (also written XK or XKK), and the codes of
// British nationality classes, organisations and stateless persons (GBD,
// GBN, GBO, GBP, GBS, EUE, UNA, UNK, UNO, XBA, XIM, XCC, XCE, XCO, XDC,
// XEC, XES, XMP, XOM, XPO, XXA, XXB, XXC, XXX). The number loses white
// space, '-', '.', '/' and the MRZ filler '<', ASCII letters are
// upper-cased, and it must then be 1 to 32 letters A-Z and digits 0-9.
//
// Reason codes: `country.format`, `country.unknown`, `document.chars`,
// `document.length`.
var Document = register("document", func(s string) (string, error) {
	return countryAndNumber(s, documentNumber)
})

// Plate is a vehicle registration plate.
//
// Canonical form: "CCC:PLATE", the registering country as an ISO 3166-1
// alpha-3 code (given as for [Document]) and the plate in upper case
// (Unicode), in NFC, without separators ("DEU:BAB1234" for "DE B-AB 1234").
// White space, '-', '.', '·' and '_' are removed; what remains must be 1
// to 16 letters and decimal digits of any script, upper-cased by Unicode's
// simple case mapping and then put in NFC.
//
// Reason codes: `country.format`, `country.unknown`, `plate.chars`,
// `plate.length`.
var Plate = register("plate", func(s string) (string, error) {
	return countryAndNumber(s, plateNumber)
})

// icaoCodes are the ICAO 9303 issuing-state codes that are not ISO 3166-1
// alpha-3 codes, mapped to their canonical form.
var icaoCodes = map[string]string{
	"D": "DEU", "RKS": "RKS", "XK": "RKS", "XKK": "RKS", "XKX": "RKS",
	"GBD": "GBD", "GBN": "GBN", "GBO": "GBO", "GBP": "GBP", "GBS": "GBS",
	"EUE": "EUE", "UNA": "UNA", "UNK": "UNK", "UNO": "UNO",
	"XBA": "XBA", "XIM": "XIM", "XCC": "XCC", "XCE": "XCE", "XCO": "XCO",
	"XDC": "XDC", "XEC": "XEC", "XES": "XES", "XMP": "XMP", "XOM": "XOM",
	"XPO": "XPO", "XXA": "XXA", "XXB": "XXB", "XXC": "XXC", "XXX": "XXX",
}

// countryAlpha3 returns the canonical three-letter code of a country code.
func countryAlpha3(code string) (string, error) {
	code = toUpperASCII(code)
	if c, ok := icaoCodes[code]; ok {
		return c, nil
	}
	if len(code) != 2 && len(code) != 3 || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return "", fail("country.unknown", "country is not an ISO 3166-1 alpha-2 or alpha-3 code (2 or 3 letters)")
	}
	r, err := language.ParseRegion(code)
	if err != nil || !r.IsCountry() {
		return "", fail("country.unknown", "country is not an ISO 3166-1 code")
	}
	iso3 := r.Canonicalize().ISO3()
	if iso3 == "ZZZ" || len(iso3) != 3 {
		return "", fail("country.unknown", "country has no ISO 3166-1 alpha-3 code")
	}
	return iso3, nil
}

func countryAndNumber(s string, number func(string) (string, error)) (string, error) {
	s = strings.TrimSpace(s)
	country, num, ok := strings.Cut(s, ":")
	if !ok {
		i := strings.IndexFunc(s, unicode.IsSpace)
		if i < 0 {
			return "", fail("country.format", `want "COUNTRY:NUMBER" (or the two separated by white space)`)
		}
		country, num = s[:i], s[i:]
	}
	c, err := countryAlpha3(strings.TrimSpace(country))
	if err != nil {
		return "", err
	}
	n, err := number(num)
	if err != nil {
		return "", err
	}
	return c + ":" + n, nil
}

func documentNumber(s string) (string, error) {
	var b strings.Builder
	for _, r := range toUpperASCII(s) {
		switch {
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			b.WriteRune(r)
		case unicode.IsSpace(r), r == '-', r == '.', r == '/', r == '<':
		default:
			return "", fail("document.chars", "document number has a character other than A-Z, 0-9 and separators")
		}
	}
	if b.Len() == 0 || b.Len() > 32 {
		return "", failf("document.length", "document number of %d letters and digits, want 1 to 32", b.Len())
	}
	return b.String(), nil
}

func plateNumber(s string) (string, error) {
	var b strings.Builder
	n := 0
	for _, r := range nfc(strings.ToUpper(s)) { // not norm.NFC: see nfc
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			n++
		case unicode.IsSpace(r), r == '-', r == '.', r == '·', r == '_':
		default:
			return "", fail("plate.chars", "plate has a character other than letters, digits and separators")
		}
	}
	if n == 0 || n > 16 {
		return "", failf("plate.length", "plate of %d letters and digits, must be 1 to 16", n)
	}
	return b.String(), nil
}
