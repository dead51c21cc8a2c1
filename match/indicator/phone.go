package indicator

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// Phone is a telephone number.
//
// Canonical form: E.164, "+" and the digits of the country calling code and
// the national significant number, at most 15 digits ("+442079460018").
// Separators (spaces, '-', '.', '/', parentheses) and a "tel:" prefix are
// removed. A number is international when it starts with "+" or with the
// international prefix "00"; a trunk prefix written after the country code,
// as in "+44 (0)20 7946 0018", is dropped when the number is only then of a
// possible length for its country. The national significant number must be
// of a length possible for the country (libphonenumber's metadata).
// National-format numbers ("020 7946 0018") need a default country: use
// [ParsePhone]; this kind alone refuses them. Letters (vanity numbers) and
// extensions are refused.
var Phone = register("phone", func(s string) (string, error) { return canonicalPhone(s, "") })

// phone_table.go is generated from a pinned release of libphonenumber-js,
// which gen_phone.go downloads from the npm registry; offline, pass the
// tarball: go run gen_phone.go -tgz libphonenumber-js-VERSION.tgz.
//
//go:generate go run gen_phone.go

// phoneRegion is a region's numbering plan, as far as canonicalization
// needs it (see phone_table.go).
type phoneRegion struct {
	code           string // country calling code
	intlPrefix     string // international call prefix, if a fixed string
	nationalPrefix string // trunk prefix
	lengths        uint32 // possible national significant number lengths, bit set
}

// ParsePhone returns the phone indicator of s, reading a national-format
// number ("030 1234567") as a number of region, an ISO 3166-1 alpha-2 code
// such as "DE". In region's own international prefix (such as "011" in
// the United States) is understood too. International numbers do not
// depend on region, and an empty region reads only them, as [Phone].
func ParsePhone(s, region string) (Indicator, error) {
	region = strings.ToUpper(region)
	if _, ok := phoneRegions[region]; !ok && region != "" {
		return Indicator{}, fmt.Errorf("indicator: unknown phone region %q (want an ISO 3166-1 alpha-2 code)", region)
	}
	c, err := canonicalPhone(s, region)
	if err != nil {
		return Indicator{}, &Error{Kind: Phone.name, Reason: err.Error()}
	}
	return New(Phone, c)
}

func canonicalPhone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "tel:")
	plus := strings.HasPrefix(s, "+")
	if plus {
		s = s[1:]
	}
	var b strings.Builder
	for i := range len(s) {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			b.WriteByte(c)
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')' || c == '\t':
		default:
			return "", errors.New("has a character other than digits and separators (letters and extensions are not supported)")
		}
	}
	d := b.String()
	if d == "" {
		return "", errors.New("no digits")
	}
	r, hasRegion := phoneRegions[region]
	switch {
	case plus:
		return internationalPhone(d)
	case hasRegion && r.intlPrefix != "" && strings.HasPrefix(d, r.intlPrefix):
		return internationalPhone(d[len(r.intlPrefix):])
	case strings.HasPrefix(d, "00"):
		return internationalPhone(d[2:])
	case !hasRegion:
		return "", errors.New("national format (no '+' or '00'): the default country is needed, see ParsePhone")
	}
	nsn := d
	if p := r.nationalPrefix; p != "" && strings.HasPrefix(nsn, p) && possibleLength(r.lengths, len(nsn)-len(p)) {
		nsn = nsn[len(p):]
	}
	if !possibleLength(r.lengths, len(nsn)) || r.nationalPrefix == "0" && nsn[0] == '0' {
		return "", fmt.Errorf("a national number of %d digits, not a possible length for %s (%s)", len(nsn), region, lengthsString(r.lengths))
	}
	return "+" + r.code + nsn, nil
}

// internationalPhone canonicalizes the digits after an international
// prefix: country calling code (calling codes are prefix-free) and national
// significant number.
func internationalPhone(d string) (string, error) {
	for l := 1; l <= 3 && l < len(d); l++ {
		mask, ok := phoneCodes[d[:l]]
		if !ok {
			continue
		}
		nsn := d[l:]
		if !possibleLength(mask, len(nsn)) && strings.HasPrefix(nsn, "0") && possibleLength(mask, len(nsn)-1) {
			nsn = nsn[1:] // "+44 (0)20 ..."
		}
		if !possibleLength(mask, len(nsn)) {
			// The calling code is part of the value: not named.
			return "", fmt.Errorf("a number of %d digits after its country code, not a possible length there (%s)", len(nsn), lengthsString(mask))
		}
		if l+len(nsn) > 15 {
			return "", errors.New("longer than the 15 digits E.164 allows")
		}
		return "+" + d[:l] + nsn, nil
	}
	return "", errors.New("no known country calling code")
}

func possibleLength(mask uint32, n int) bool { return n > 0 && n < 32 && mask&(1<<n) != 0 }

func lengthsString(mask uint32) string {
	var parts []string
	for mask != 0 {
		n := bits.TrailingZeros32(mask)
		parts = append(parts, fmt.Sprint(n))
		mask &^= 1 << n
	}
	return strings.Join(parts, ", ") + " digits"
}
