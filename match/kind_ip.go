package match

import (
	"errors"
	"net/netip"
	"strings"
)

// KindIPv4 is an IPv4 address.
//
// Canonical form: dotted decimal without leading zeros ("192.0.2.1").
// An IPv4-mapped IPv6 address ("::ffff:192.0.2.1") is the IPv4 address it
// maps and is accepted here: an IPv4 address is always matched as this
// kind, whatever its notation. Leading zeros are refused as ambiguous
// (octal in some parsers, decimal in others), as are prefixes (CIDR) and
// zones.
var KindIPv4 = register("ipv4", canonicalIPv4)

// KindIPv6 is an IPv6 address.
//
// Canonical form: RFC 5952 text (lower case, zeros compressed). IPv4-mapped
// addresses are refused with a pointer to [KindIPv4], so that each address
// has exactly one kind; prefixes (CIDR) and zones are refused.
var KindIPv6 = register("ipv6", canonicalIPv6)

func parseIP(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		return netip.Addr{}, errors.New("is a prefix (CIDR), not an address")
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		// netip's errors quote the input; say what is wrong without it.
		if isDottedQuadWithLeadingZero(s) {
			return netip.Addr{}, errors.New("has a leading zero in a field (ambiguous: octal or decimal)")
		}
		return netip.Addr{}, errors.New("not an IP address")
	}
	if a.Zone() != "" {
		return netip.Addr{}, errors.New("has a zone")
	}
	return a, nil
}

func isDottedQuadWithLeadingZero(s string) bool {
	fields := strings.Split(s, ".")
	if len(fields) != 4 {
		return false
	}
	lead := false
	for _, f := range fields {
		if f == "" || len(f) > 4 || strings.Trim(f, "0123456789") != "" {
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
		return "", errors.New("is an IPv6 address; use kind ipv6")
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
		return "", errors.New("is an IPv4 address; use kind ipv4")
	case a.Is4In6():
		return "", errors.New("is an IPv4-mapped address; use kind ipv4")
	}
	return a.String(), nil
}
