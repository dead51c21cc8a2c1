package indicator

import (
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Domain is a DNS domain or host name.
//
// Canonical form: surrounding white space and one trailing dot removed;
// IDNA 2008 (UTS #46 nontransitional lookup mapping, which lower-cases and
// normalises width and compatibility forms, with the Bidi rule) to ASCII,
// so a Unicode name and its punycode match; every label 1 to 63 bytes of
// a-z, 0-9, '-' and '_' (underscore appears in real DNS names), not
// starting or ending with '-'; the whole name at most 253 bytes with at
// least two labels. IP addresses are refused: use [IPv4] or
// [IPv6].
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
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", errors.New("empty")
	}
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return "", errors.New("is an IP address, not a domain name")
	}
	a, err := asciiHost(s)
	if err != nil {
		return "", err
	}
	if !strings.Contains(a, ".") {
		return "", errors.New("a single label, not a domain name")
	}
	return a, nil
}

// asciiHost converts a host name to its IDNA 2008 ASCII form and checks the
// label rules of [Domain], except that it accepts a single label.
func asciiHost(s string) (string, error) {
	errIDNA := errors.New("not a valid internationalized domain name (IDNA 2008: disallowed character, bad punycode or Bidi rule)")
	if !utf8.ValidString(s) {
		return "", errors.New("not valid UTF-8")
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
	if len(a) > 253 {
		return "", errors.New("longer than 253 bytes")
	}
	labels := strings.Split(a, ".")
	for _, l := range labels {
		if l == "" {
			return "", errors.New("has an empty label")
		}
		if len(l) > 63 {
			return "", errors.New("has a label longer than 63 bytes")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", errors.New("has a label starting or ending with '-'")
		}
		for i := range len(l) {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", errors.New("has a character not allowed in a domain name")
			}
		}
	}
	return a, nil
}
