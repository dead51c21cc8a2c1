package indicator

import (
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// Domain is a DNS domain or host name.
//
// Canonical form (PROTOCOL.md section 4.4): surrounding white space
// removed; UTS #46 processing to ASCII (version 15.0.0: nontransitional,
// CheckBidi and CheckJoiners on, CheckHyphens, UseSTD3ASCIIRules and
// VerifyDnsLength off), which lower-cases, maps width and compatibility
// forms and the dots U+3002, U+FF0E and U+FF61 to '.', so that a Unicode
// name and its punycode match; one trailing dot (the root) removed, after
// that mapping; not an IP address, and not ending in a number as one does
// (WHATWG URL: "1.2.3.08" and "256.256.256.256" are failed addresses to a
// browser, not names); every label 1 to 63 bytes of a-z, 0-9, '-' and '_'
// (underscore appears in real DNS names), not starting or ending with
// '-', nor, for an A-label, its Unicode form; the whole name at most 253
// bytes with at least two labels. Labels with "--" in their third and
// fourth places ("r3---sn-apo3qvuoxuxbt-j5pe") are in common use and kept.
//
// Reason codes: domain.empty, domain.idna, domain.ip-address,
// domain.numeric, domain.empty-label, domain.label-too-long,
// domain.char, domain.hyphen, domain.too-long, domain.single-label.
var Domain = register("domain", canonicalDomain)

var domainProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.StrictDomainName(false), // allow '_', checked below
	idna.CheckHyphens(false),     // "r3---sn-..." labels are in common use
	idna.VerifyDNSLength(false),  // checked below, with a precise reason
)

func canonicalDomain(s string) (string, error) {
	a, err := hostName(s)
	if err != nil {
		return "", err
	}
	if !strings.Contains(a, ".") {
		return "", fail("domain.single-label", "a single label, not a domain name")
	}
	return a, nil
}

// hostName canonicalizes a host name as [Domain] does, except that it
// accepts a single label: surrounding white space removed, UTS #46 to
// ASCII, one trailing dot removed, the label rules checked.
func hostName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "." {
		return "", fail("domain.empty", "empty")
	}
	a, err := asciiHost(s)
	if err != nil {
		return "", err
	}
	a = strings.TrimSuffix(a, ".")
	if a == "" {
		return "", fail("domain.empty", "empty")
	}
	if isIPHost(a) {
		return "", fail("domain.ip-address", "is an IP address, not a domain name")
	}
	if endsInNumber(a) {
		return "", fail("domain.numeric", "ends in a number, as an IPv4 address does, but is not one")
	}
	if err := checkLabels(a); err != nil {
		return "", err
	}
	return a, nil
}

// isIPHost reports whether a mapped host name is an IP address: an IPv4
// address in any of the forms of WHATWG URL parsing ("192.0.2.1",
// "3221225985", "0xc0.0.2.1", "192.2.1"), or an IPv6 address, with or
// without brackets.
func isIPHost(a string) bool {
	if _, ok := browserIPv4(a); ok {
		return true
	}
	_, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(a, "["), "]"))
	return err == nil
}

// endsInNumber reports whether the last label of a host name is a number
// to WHATWG URL's "ends in a number checker": decimal digits, or "0x" or
// "0X" and hex digits (none included). A browser reads such a host as an
// IPv4 address and refuses it if it is not one.
func endsInNumber(a string) bool {
	last := a[strings.LastIndexByte(a, '.')+1:]
	if last == "" {
		return false
	}
	if strings.Trim(last, "0123456789") == "" {
		return true
	}
	return len(last) >= 2 && last[0] == '0' && last[1]|0x20 == 'x' && strings.Trim(last[2:], "0123456789abcdefABCDEF") == ""
}

// asciiHost converts a host name to ASCII with UTS #46 (domainProfile),
// refusing what it refuses and a name on which the Go normalization
// library would go wrong. The result may end in '.', the root.
func asciiHost(s string) (string, error) {
	errIDNA := fail("domain.idna", "not a valid internationalized domain name (UTS #46: disallowed character, bad punycode, joiner or Bidi rule)")
	if idnaNormFault(s) {
		// The IDNA library's NFC would compose a character outside the BMP
		// with a mark as if it were a BMP letter (see nfc): a name that
		// would collide with another one is refused rather than mapped.
		return "", fail("domain.idna", "not mapped: a character outside the BMP followed by a combining mark (a fault of the Go normalization library, golang/go#81028)")
	}
	a, err := domainProfile.ToASCII(s)
	if err != nil {
		// idna's errors quote the input; keep only what went wrong.
		return "", errIDNA
	}
	// An A-label must itself be valid: convert it once more, which checks
	// its punycode and the code points it stands for, so that the
	// canonical form is a fixed point.
	if strings.Contains(a, "xn--") {
		if again, err := domainProfile.ToASCII(a); err != nil || again != a {
			return "", errIDNA
		}
	}
	return a, nil
}

// idnaNormFault reports whether s holds a character outside the BMP that,
// mapped by UTS #46 on its own, is followed by marks that the
// normalization library would wrongly compose with it (see nfc).
func idnaNormFault(s string) bool {
	if i, _ := normFault(s); i >= 0 {
		return true
	}
	hasSupp := false
	for _, r := range s {
		hasSupp = hasSupp || r >= 0x10000
	}
	if !hasSupp {
		return false
	}
	var b strings.Builder
	for _, r := range s {
		if r >= 0x10000 {
			// A single character is mapped without the fault.
			if m, err := domainProfile.ToUnicode(string(r)); err == nil {
				b.WriteString(m)
				continue
			}
		}
		b.WriteRune(r)
	}
	i, _ := normFault(b.String())
	return i >= 0
}

// checkLabels checks the label rules of [Domain] on an ASCII host name
// without a trailing dot, one rule after the other over the whole name.
func checkLabels(a string) error {
	labels := strings.Split(a, ".")
	for _, l := range labels {
		if l == "" {
			return fail("domain.empty-label", "has an empty label")
		}
	}
	for _, l := range labels {
		if len(l) > 63 {
			return failf("domain.label-too-long", "has a label of %d bytes, longer than 63", len(l))
		}
	}
	for _, l := range labels {
		for i := range len(l) {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fail("domain.char", "has a character not allowed in a domain name")
			}
		}
	}
	for _, l := range labels {
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fail("domain.hyphen", "has a label starting or ending with '-'")
		}
		if strings.HasPrefix(l, "xn--") {
			// UTS #46 checks this (V3) on the Unicode form only when
			// CheckHyphens is on; the A-label of "-bücher" does not start
			// with '-'. asciiHost made sure the punycode decodes.
			u, err := idna.Punycode.ToUnicode(l)
			if err == nil && (strings.HasPrefix(u, "-") || strings.HasSuffix(u, "-")) {
				return fail("domain.hyphen", "has a label whose Unicode form starts or ends with '-'")
			}
		}
	}
	if len(a) > 253 {
		return failf("domain.too-long", "%d bytes, longer than 253", len(a))
	}
	return nil
}
