package indicator

import (
	"net/netip"
	"testing"
)

func TestKindIPv4(t *testing.T) {
	testKind(t, IPv4, []canonCase{
		{"192.0.2.1", "192.0.2.1", ""},
		{" 192.0.2.1\t", "192.0.2.1", ""},
		{"0.0.0.0", "0.0.0.0", ""},
		{"255.255.255.255", "255.255.255.255", ""},
		{"::ffff:192.0.2.1", "192.0.2.1", ""},
		{"::FFFF:c000:0201", "192.0.2.1", ""},
		{"192.000.002.001", "", "leading zero"},
		{"010.0.0.1", "", "leading zero"},
		{"192.0.2.256", "", "not an IP"},
		{"192.0.2", "", "not an IP"},
		{"3221225985", "", "not an IP"},
		{"0xc0.0.2.1", "", "not an IP"},
		{"192.0.2.0/24", "", "CIDR"},
		{"2001:db8::1", "", "ipv6"},
		{"fe80::1%eth0", "", "zone"},
		{"", "", "not an IP"},
	})
}

func TestKindIPv6(t *testing.T) {
	testKind(t, IPv6, []canonCase{
		{"2001:db8::1", "2001:db8::1", ""},
		{"2001:DB8:0:0:0:0:0:1", "2001:db8::1", ""},
		{"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", ""},
		{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", ""},
		{"::1", "::1", ""},
		{"::", "::", ""},
		{"::192.0.2.1", "::c000:201", ""}, // IPv4-compatible (deprecated): an IPv6 address
		{"64:ff9b::192.0.2.1", "64:ff9b::c000:201", ""},
		{"::ffff:192.0.2.1", "", "IPv4-mapped"},
		{"192.0.2.1", "", "ipv4"},
		{"2001:db8::/32", "", "CIDR"},
		{"fe80::1%eth0", "", "zone"},
		{"2001:db8:::1", "", "not an IP"},
		{"2001:db8::g", "", "not an IP"},
	})
}

func TestKindCIDR(t *testing.T) {
	testKind(t, IPv4CIDR, []canonCase{
		{"192.0.2.0/24", "192.0.2.0/24", ""},
		{"192.0.2.77/24", "192.0.2.0/24", ""},
		{" 10.1.2.3/8 ", "10.0.0.0/8", ""},
		{"192.0.2.1/32", "192.0.2.1/32", ""},
		{"0.0.0.0/0", "0.0.0.0/0", ""},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24", ""},
		{"223.166.0.0/15", "223.166.0.0/15", ""},
		{"192.0.2.0", "", "no prefix length"},
		{"192.0.2.0/33", "", "prefix length"},
		{"192.0.2.0/024", "", "prefix length"},
		{"192.0.2.0/", "", "prefix length"},
		{"192.000.2.0/24", "", "leading zero"},
		{"2001:db8::/32", "", "ipv6-cidr"},
	})
	testKind(t, IPv6CIDR, []canonCase{
		{"2001:db8::/32", "2001:db8::/32", ""},
		{"2001:DB8::1/32", "2001:db8::/32", ""},
		{"2001:0db8:0000::/48", "2001:db8::/48", ""},
		{"::/0", "::/0", ""},
		{"2001:db8::1/128", "2001:db8::1/128", ""},
		{"fe80::/10", "fe80::/10", ""},
		{"::ffff:192.0.2.0/120", "", "ipv4-cidr"},
		{"192.0.2.0/24", "", "ipv4-cidr"},
		{"2001:db8::/129", "", "prefix length"},
		{"2001:db8::", "", "no prefix length"},
		{"fe80::%eth0/64", "", "zone"},
	})
	for in, want := range map[string]string{
		"192.0.2.1": "ipv4:192.0.2.1", "::ffff:192.0.2.1": "ipv4:192.0.2.1", "2001:db8::1": "ipv6:2001:db8::1",
		"192.0.2.9/24": "ipv4-cidr:192.0.2.0/24", "2001:db8::/32": "ipv6-cidr:2001:db8::/32",
	} {
		if got, err := ParseIP(in); err != nil || got.String() != want {
			t.Errorf("ParseIP(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseIP("example.com"); err == nil {
		t.Error("ParseIP accepted a domain")
	}
}

// TestIPv6RFC5952 runs the examples of RFC 5952: every spelling of an
// address or prefix canonicalizes to the text section 4 prescribes.
func TestIPv6RFC5952(t *testing.T) {
	c := newConformance(t, "rfc5952.txt")
	for _, r := range c.records(4) {
		k, err := Lookup(r[0])
		if err != nil {
			t.Fatal(err)
		}
		in, want := r[1], r[2]
		got, err := k.Canonicalize(in)
		if a, perr := netip.ParseAddr(want); perr == nil && a.Is4In6() {
			// Section 5's "::ffff:192.0.2.1": [IPv6] refuses IPv4-mapped
			// addresses, which are kind [IPv4], so that an address has one
			// kind; there it is the IPv4 address it maps.
			v4, err4 := IPv4.Canonicalize(in)
			if err != nil && err4 == nil && v4 == a.Unmap().String() {
				c.documented("IPv4-mapped addresses are kind ipv4", "%s %q refused, ipv4 %q", k, in, v4)
				continue
			}
		}
		c.check(err == nil && got == want, "%s %q (section %s) = %q, %v; want %q", k, in, r[3], got, err, want)
	}
	c.done(map[string]int{"IPv4-mapped addresses are kind ipv4": 2})
}
