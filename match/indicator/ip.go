package indicator

import (
	"net/netip"
	"strconv"
	"strings"
)

// IPv4 is an IPv4 address.
//
// Canonical form (PROTOCOL.md section 4.6): dotted decimal without leading
// zeros ("192.0.2.1"). An IPv4-mapped IPv6 address ("::ffff:192.0.2.1")
// is the IPv4 address it maps and is accepted here: an IPv4 address is
// always matched as this kind, whatever its notation. Leading zeros are
// refused as ambiguous (octal in some parsers, decimal in others), and so
// are the other forms of inet_aton and browsers ("3221225985",
// "0xc0.0.2.1", "192.2.1"), prefixes (CIDR) and zones.
//
// Reason codes: ip.syntax, ip.leading-zero, ip.zone, ip.prefix,
// ip.family.
var IPv4 = register("ipv4", canonicalIPv4)

// IPv6 is an IPv6 address.
//
// Canonical form: RFC 5952 text (lower case, zeros compressed). IPv4-mapped
// addresses are refused with a pointer to [IPv4], so that each address
// has exactly one kind; prefixes (CIDR) and zones are refused.
//
// Reason codes: ip.syntax, ip.leading-zero, ip.zone, ip.prefix,
// ip.family, ip.mapped.
var IPv6 = register("ipv6", canonicalIPv6)

func parseIP(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		return netip.Addr{}, fail("ip.prefix", "is a prefix (CIDR), not an address; use kind ipv4-cidr or ipv6-cidr")
	}
	if hasLeadingZero(s) {
		return netip.Addr{}, fail("ip.leading-zero", "has a leading zero in a field (ambiguous: octal or decimal)")
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		// netip's errors quote the input; say what is wrong without it.
		return netip.Addr{}, fail("ip.syntax", "not an IP address")
	}
	if a.Zone() != "" {
		// A zone names an interface of one host: it means nothing to a
		// partner, and dropping it would merge addresses of different
		// links.
		return netip.Addr{}, fail("ip.zone", "has a zone (%...)")
	}
	return a, nil
}

// hasLeadingZero reports whether s, or what follows its last ':', is four
// fields of decimal digits joined by '.', one of which starts with '0'
// and has more digits.
func hasLeadingZero(s string) bool {
	fields := strings.Split(s[strings.LastIndexByte(s, ':')+1:], ".")
	if len(fields) != 4 {
		return false
	}
	lead := false
	for _, f := range fields {
		if f == "" || strings.Trim(f, "0123456789") != "" {
			return false
		}
		lead = lead || (len(f) > 1 && f[0] == '0')
	}
	return lead
}

func canonicalIPv4(s string) (string, error) {
	a, err := parseIP(s)
	if err != nil {
		return "", err
	}
	a = a.Unmap()
	if !a.Is4() {
		return "", fail("ip.family", "is an IPv6 address; use kind ipv6")
	}
	return a.String(), nil
}

func canonicalIPv6(s string) (string, error) {
	a, err := parseIP(s)
	if err != nil {
		return "", err
	}
	switch {
	case a.Is4():
		return "", fail("ip.family", "is an IPv4 address; use kind ipv4")
	case a.Is4In6():
		return "", fail("ip.mapped", "is an IPv4-mapped address; use kind ipv4")
	}
	return a.String(), nil
}

// IPv4CIDR is an IPv4 network in CIDR notation, its own kind: a
// network is never expanded into addresses, and matches only the same
// network.
//
// Canonical form: the network address and prefix length, host bits
// cleared ("192.0.2.0/24" for "192.0.2.77/24"). Leading zeros are refused
// as for [IPv4], in the address and in the length; a /32 stays a network
// of this kind. An IPv4-mapped IPv6 prefix of length 96 or more is the
// IPv4 network it maps.
//
// Reason codes: ip.syntax, ip.leading-zero, ip.zone, ip.no-prefix,
// ip.prefix-length, ip.family.
var IPv4CIDR = register("ipv4-cidr", canonicalIPv4CIDR)

// IPv6CIDR is an IPv6 network in CIDR notation, its own kind.
//
// Canonical form: RFC 5952 network address and prefix length, host bits
// cleared ("2001:db8::/32"). IPv4-mapped prefixes of length 96 or more
// are refused with a pointer to [IPv4CIDR].
//
// Reason codes: ip.syntax, ip.leading-zero, ip.zone, ip.no-prefix,
// ip.prefix-length, ip.family, ip.mapped.
var IPv6CIDR = register("ipv6-cidr", canonicalIPv6CIDR)

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	addr, bitsStr, ok := strings.Cut(s, "/")
	if !ok {
		return netip.Prefix{}, fail("ip.no-prefix", "has no prefix length (/n); a single address is kind ipv4 or ipv6")
	}
	if strings.TrimSpace(addr) != addr {
		// White space is trimmed around the whole value only (PROTOCOL.md 4.6).
		return netip.Prefix{}, fail("ip.syntax", "has white space before its '/'")
	}
	a, err := parseIP(addr)
	if err != nil {
		return netip.Prefix{}, err
	}
	n, err := strconv.Atoi(bitsStr)
	if err != nil || n < 0 || n > a.BitLen() || (len(bitsStr) > 1 && bitsStr[0] == '0') || bitsStr[0] == '+' || bitsStr[0] == '-' {
		return netip.Prefix{}, fail("ip.prefix-length", "has an invalid prefix length")
	}
	return netip.PrefixFrom(a, n).Masked(), nil
}

func canonicalIPv4CIDR(s string) (string, error) {
	p, err := parsePrefix(s)
	if err != nil {
		return "", err
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return "", fail("ip.family", "is an IPv6 prefix shorter than the IPv4-mapped range; use kind ipv6-cidr")
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if !p.Addr().Is4() {
		return "", fail("ip.family", "is an IPv6 network; use kind ipv6-cidr")
	}
	return p.String(), nil
}

func canonicalIPv6CIDR(s string) (string, error) {
	p, err := parsePrefix(s)
	if err != nil {
		return "", err
	}
	switch {
	case p.Addr().Is4():
		return "", fail("ip.family", "is an IPv4 network; use kind ipv4-cidr")
	case p.Addr().Is4In6() && p.Bits() >= 96:
		return "", fail("ip.mapped", "is an IPv4-mapped network; use kind ipv4-cidr")
	}
	return p.String(), nil
}

// ParseIP returns the indicator of an IP address or network, of the kind
// its form calls for: [IPv4] (also for IPv4-mapped IPv6 addresses),
// [IPv6], [IPv4CIDR] or [IPv6CIDR]. Importers use it for
// fields that hold either family, such as MISP's ip-dst.
func ParseIP(s string) (Indicator, error) {
	t := strings.TrimSpace(s)
	var k *Kind
	switch a, err := parseIP(strings.SplitN(t, "/", 2)[0]); {
	case err != nil:
		return Indicator{}, &Error{Kind: "ip", Code: codeOf(err, "ip.syntax"), Reason: err.Error()}
	case strings.Contains(t, "/"):
		k = IPv6CIDR
		if a.Is4() || a.Is4In6() {
			k = IPv4CIDR
		}
	case a.Is4() || a.Is4In6():
		k = IPv4
	default:
		k = IPv6
	}
	return New(k, t)
}
