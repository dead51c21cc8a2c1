package indicator

import (
	"fmt"
	"math/bits"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// Phone is a telephone number.
//
// Canonical form: E.164 as libphonenumber writes it, "+" and the digits
// of the country calling code and the national significant number
// ("+442079460018"). White space around and a "tel:" prefix are removed,
// then the separators space, tab, '-', '.', '/', '(' and ')'. A number is
// international when it starts with "+", or with "00" and a digit other
// than 0. A national prefix written after the country code, as in
// "+44 (0)20 7946 0018", is dropped where libphonenumber drops it. The
// national significant number must be of a length possible for the
// calling code (libphonenumber's isPossibleNumber). National-format
// numbers ("020 7946 0018") need a default region: use [ParsePhone]; this
// kind alone refuses them. Letters (vanity numbers) and extensions are
// refused. PROTOCOL.md section 4.7 gives the steps, which follow
// libphonenumber's parser and metadata release 9.0.43.
//
// Reason codes: `phone.chars`, `phone.no-digits`, `phone.national`,
// `phone.country-code`, `phone.national-prefix`, `phone.length`.
var Phone = register("phone", func(s string) (string, error) { return canonicalPhone(s, "") })

// phone_table.go is generated from a pinned release of libphonenumber-js,
// which gen_phone.go downloads from the npm registry; offline, pass the
// tarball: go run gen_phone.go -tgz libphonenumber-js-VERSION.tgz.
//
//go:generate go run gen_phone.go

// phoneRegion is a numbering plan, as far as canonicalization needs it
// (see phone_table.go): the fields of libphonenumber's metadata that its
// parser reads.
type phoneRegion struct {
	code             string // country calling code
	intlPrefix       string // international call prefix, a regular expression ("" for none)
	nationalPrefix   string // trunk prefix
	prefixForParsing string // national prefix for parsing, a regular expression ("" means nationalPrefix)
	transformRule    string // replaces what prefixForParsing matched, "$1" for its group 1
	pattern          string // national significant numbers, a regular expression
	lengths          uint32 // possible national significant number lengths, bit set
}

// ParsePhone returns the phone indicator of s, reading a national-format
// number ("030 1234567") as a number of region, an ISO 3166-1 alpha-2 code
// such as "DE". In region's own international prefix (such as "011" in
// the United States, "0011" in Australia) is understood too. International
// numbers do not depend on region, and an empty region reads only them,
// as [Phone]. PROTOCOL.md section 4.7 gives the rules.
func ParsePhone(s, region string) (Indicator, error) {
	region = strings.ToUpper(region)
	if _, ok := phoneRegions[region]; !ok && region != "" {
		return Indicator{}, fmt.Errorf("indicator: unknown phone region %q (want an ISO 3166-1 alpha-2 code)", region)
	}
	switch {
	case len(s) > maxRawValueLen:
		return Indicator{}, &Error{Kind: Phone.name, Code: "value.too-long", Reason: fmt.Sprintf("longer than %d bytes before canonicalization", maxRawValueLen)}
	case !utf8.ValidString(s):
		return Indicator{}, &Error{Kind: Phone.name, Code: "value.utf8", Reason: "not valid UTF-8"}
	}
	c, err := canonicalPhone(s, region)
	if err != nil {
		return Indicator{}, &Error{Kind: Phone.name, Code: codeOf(err, "phone.invalid"), Reason: err.Error()}
	}
	return New(Phone, c)
}

// maxNSNLen is the longest national significant number libphonenumber
// reads (MAX_LENGTH_FOR_NSN); no possible length in the metadata exceeds it.
const maxNSNLen = 17

func canonicalPhone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 4 && strings.EqualFold(s[:4], "tel:") {
		s = s[4:]
	}
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
			return "", fail("phone.chars", "has a character other than digits and separators (letters and extensions are not supported)")
		}
	}
	d := b.String()
	if d == "" {
		return "", fail("phone.no-digits", "no digits")
	}
	if len(d) > 3+maxNSNLen+4 {
		// Longer than any calling code, number and international prefix.
		return "", failf("phone.length", "%d digits, too many for a phone number", len(d))
	}
	if plus {
		return internationalPhone(d)
	}
	r, hasRegion := phoneRegions[region]
	if !hasRegion {
		// Without a region, "00" (the international prefix ITU-T E.164
		// recommends) is the only one known.
		if len(d) > 2 && d[:2] == "00" && d[2] != '0' {
			return internationalPhone(d[2:])
		}
		return "", fail("phone.national", "national format (no '+' or '00'): the default country is needed, see ParsePhone")
	}
	// libphonenumber: the region's international prefix, unless a 0
	// follows it (no calling code starts with 0).
	if r.intlPrefix != "" {
		if m := phoneRE(r.intlPrefix, false).FindStringIndex(d); m != nil && m[1] < len(d) && d[m[1]] != '0' {
			return internationalPhone(d[m[1]:])
		}
	}
	// A national number that starts with the region's own calling code
	// written without '+' ("7 495 ..." in Russia) is read as
	// international when it is then a number of the region and was not
	// before, or was too long (libphonenumber's maybeExtractCountryCode).
	if strings.HasPrefix(d, r.code) {
		rest := stripNationalPrefix(d[len(r.code):], r)
		if !matchNational(d, r) && matchNational(rest, r) || lengthAbove(r.lengths, len(d)) {
			return finishPhone(r.code, rest, planOf(r.code))
		}
	}
	return finishPhone(r.code, d, r)
}

// internationalPhone canonicalizes the digits after an international
// prefix: country calling code (calling codes are prefix-free) and national
// significant number, read with the plan of the code's main region.
func internationalPhone(d string) (string, error) {
	if d[0] == '0' {
		return "", fail("phone.country-code", "no known country calling code")
	}
	for l := 1; l <= 3 && l < len(d); l++ {
		if _, ok := phoneCodes[d[:l]]; !ok {
			continue
		}
		return finishPhone(d[:l], d[l:], planOf(d[:l]))
	}
	return "", fail("phone.country-code", "no known country calling code")
}

// planOf returns the numbering plan of calling code cc: its main
// region's (libphonenumber's getRegionCodeForCountryCode), or its own for
// a non-geographic code.
func planOf(cc string) phoneRegion {
	if main := phoneCodes[cc]; main != "" {
		return phoneRegions[main]
	}
	return phoneNonGeographic[cc]
}

// finishPhone strips the national prefix of plan from nsn where
// libphonenumber does, checks that the length of what remains is possible
// for calling code cc, and returns the E.164 form.
func finishPhone(cc, nsn string, plan phoneRegion) (string, error) {
	// libphonenumber keeps the stripped number unless it is then too
	// short or of a length between two possible ones.
	if p := stripNationalPrefix(nsn, plan); p != nsn && (possibleLength(plan.lengths, len(p)) || lengthAbove(plan.lengths, len(p))) {
		nsn = p
	}
	// The E.164 form must read as itself: a number that still starts
	// with a national prefix its calling code's plan would strip
	// ("0000000" in DE) has no canonical form.
	main := planOf(cc)
	if p := stripNationalPrefix(nsn, main); p != nsn && (possibleLength(main.lengths, len(p)) || lengthAbove(main.lengths, len(p))) {
		return "", fail("phone.national-prefix", "the national number still starts with a national prefix after the country code")
	}
	// libphonenumber's isPossibleNumber: the lengths of the calling
	// code's plan, whichever region the number was read in, so that every
	// writing of a number is refused or accepted alike.
	if lengths := main.lengths; !possibleLength(lengths, len(nsn)) {
		// The calling code is part of the value: not named.
		return "", failf("phone.length", "a national number of %d digits, not a possible length for its country (%s)", len(nsn), lengthsString(lengths))
	}
	return "+" + cc + nsn, nil
}

// stripNationalPrefix removes the national prefix from the start of the
// digits d as libphonenumber's maybeStripNationalPrefixAndCarrierCode
// does: the national prefix for parsing (or else the national prefix)
// matched at the start; if the transform rule is set and the pattern's
// last group matched, what the pattern matched is replaced by the rule
// (group references expanded), else it is removed; but a number that
// matched the national number pattern before and does not after is kept
// as it was.
func stripNationalPrefix(d string, r phoneRegion) string {
	p := r.prefixForParsing
	if p == "" {
		if r.nationalPrefix == "" {
			return d
		}
		p = r.nationalPrefix // digits only
	}
	re := phoneRE(p, false)
	m := re.FindStringSubmatchIndex(d)
	if m == nil {
		return d
	}
	var out string
	if last := 2 * re.NumSubexp(); r.transformRule == "" || last == 0 || m[last] < 0 {
		out = d[m[1]:]
	} else {
		var b strings.Builder
		rule := r.transformRule
		for i := 0; i < len(rule); i++ {
			if rule[i] == '$' && i+1 < len(rule) {
				g := int(rule[i+1] - '0')
				if 2*g+1 < len(m) && m[2*g] >= 0 {
					b.WriteString(d[m[2*g]:m[2*g+1]])
				}
				i++
				continue
			}
			b.WriteByte(rule[i])
		}
		out = b.String() + d[m[1]:]
	}
	if matchNational(d, r) && !matchNational(out, r) {
		return d
	}
	return out
}

// matchNational reports whether d matches the national number pattern of
// r whole.
func matchNational(d string, r phoneRegion) bool {
	return phoneRE(r.pattern, true).MatchString(d)
}

// phoneREs caches the compiled patterns of the metadata, anchored at the
// start (and with whole, at the end too). Patterns are compiled on first
// use: most programs read numbers of a few regions only.
var phoneREs sync.Map // string -> *regexp.Regexp

// phoneRE returns pattern p anchored at the start, and with whole at the
// end too. Go's regexp, like Java's and JavaScript's, prefers the
// leftmost alternative, which is what makes a prefix match such as
// "0|80?" the same in every implementation. The patterns come from the
// generated table, where a test compiles every one.
func phoneRE(p string, whole bool) *regexp.Regexp {
	key := p
	if whole {
		key = "$" + p
	}
	if re, ok := phoneREs.Load(key); ok {
		return re.(*regexp.Regexp)
	}
	src := "^(?:" + p + ")"
	if whole {
		src += "$"
	}
	re, _ := phoneREs.LoadOrStore(key, regexp.MustCompile(src))
	return re.(*regexp.Regexp)
}

func possibleLength(mask uint32, n int) bool { return n > 0 && n < 32 && mask&(1<<n) != 0 }

// lengthAbove reports whether n is longer than every length of mask
// (libphonenumber's TOO_LONG).
func lengthAbove(mask uint32, n int) bool { return n >= 32 || mask>>n == 0 }

func lengthsString(mask uint32) string {
	var parts []string
	for mask != 0 {
		n := bits.TrailingZeros32(mask)
		parts = append(parts, fmt.Sprint(n))
		mask &^= 1 << n
	}
	return strings.Join(parts, ", ") + " digits"
}
