package indicator

import (
	"errors"
	"strings"
	"testing"
)

type canonCase struct {
	in, want string // want "" means invalid
	reason   string // substring of the error, for invalid cases
}

func testKind(t *testing.T, k *Kind, cases []canonCase) {
	t.Helper()
	for _, c := range cases {
		got, err := New(k, c.in)
		if c.want == "" {
			var ie *Error
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalid) {
				t.Errorf("%s %q: got %v, %v; want an Error", k, c.in, got, err)
				continue
			}
			if ie.Kind != k.Name() || !strings.Contains(ie.Reason, c.reason) {
				t.Errorf("%s %q: error %q, want kind %s and reason containing %q", k, c.in, err, k, c.reason)
			}
			if strings.TrimSpace(c.in) != "" && len(c.in) > 3 && strings.Contains(err.Error(), strings.TrimSpace(c.in)) {
				t.Errorf("%s %q: the error quotes the value: %q", k, c.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", k, c.in, err)
			continue
		}
		if got.Value() != c.want {
			t.Errorf("%s %q = %q, want %q", k, c.in, got.Value(), c.want)
		}
		if again, err := New(k, got.Value()); err != nil || again != got {
			t.Errorf("%s %q: canonical form %q is not a fixed point (%v, %v)", k, c.in, got.Value(), again, err)
		}
	}
}

func TestKindDomain(t *testing.T) {
	testKind(t, Domain, []canonCase{
		{"example.com", "example.com", ""},
		{"WWW.Example.COM.", "www.example.com", ""},
		{"  example.org  ", "example.org", ""},
		{"bücher.example", "xn--bcher-kva.example", ""},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", ""},
		{"BÜCHER.example", "xn--bcher-kva.example", ""},
		{"ｅｘａｍｐｌｅ．ｃｏｍ", "example.com", ""}, // full-width forms and dot
		{"_dmarc.example.com", "_dmarc.example.com", ""},
		// Mixed script: a Cyrillic "р" and "а" in "paypal" make another
		// domain than paypal.com, and must stay one (a homograph).
		{"\u0440\u0430ypal.com", "xn--ypal-43d9g.com", ""},
		{"ПРИМЕР.РФ", "xn--e1afmkfd.xn--p1ai", ""},
		{"r3---sn-apo3qvuoxuxbt-j5pe.googlevideo.com", "r3---sn-apo3qvuoxuxbt-j5pe.googlevideo.com", ""},
		{"a.b.c.d.e.example", "a.b.c.d.e.example", ""},
		{"", "", "empty"},
		{".", "", "empty"},
		{"localhost", "", "single label"},
		{"192.0.2.1", "", "IP address"},
		{"[2001:db8::1]", "", "IP address"},
		{"exa mple.com", "", ""},
		{"-bad.example.com", "", "'-'"},
		{"bad-.example.com", "", "'-'"},
		{"a..example.com", "", ""},
		{strings.Repeat("a", 64) + ".example", "", ""},
		{strings.Repeat("abcdefghi.", 26) + "example", "", ""},
		{"ex*mple.com", "", ""},
		{"example.com/path", "", ""},
	})
}

func TestKindEmail(t *testing.T) {
	testKind(t, Email, []canonCase{
		{"alice@example.org", "alice@example.org", ""},
		{"Alice@Example.ORG", "alice@example.org", ""},
		{" alice@example.org. ", "alice@example.org", ""},
		{"alice+tag@example.org", "alice+tag@example.org", ""},
		{"a.lice@gmail.com", "a.lice@gmail.com", ""},
		{"jörg@bücher.example", "jörg@xn--bcher-kva.example", ""},
		{"ÉLODIE@example.fr", "élodie@example.fr", ""},
		{"o'brien@example.ie", "o'brien@example.ie", ""},
		{"alice@example", "", "single label"},
		{"alice.example.org", "", "missing '@'"},
		{"@example.org", "", "empty local part"},
		{"alice@", "", "domain part"},
		{"a@b@example.org", "", "local part"},
		{".alice@example.org", "", "dot"},
		{"alice.@example.org", "", "dot"},
		{"al..ice@example.org", "", "dot"},
		{"al ice@example.org", "", "white space"},
		{"\"alice\"@example.org", "", "local part"},
		{strings.Repeat("a", 65) + "@example.org", "", "64 bytes"},
		{"alice@192.0.2.1", "", "IP address"},
	})
}

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

func TestKindHashes(t *testing.T) {
	digests := map[*Kind]string{
		MD5:    "d41d8cd98f00b204e9800998ecf8427e",
		SHA1:   "da39a3ee5e6b4b0d3255bfef95601890afd80709",
		SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		SHA512: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
	}
	for k, d := range digests {
		other := digests[SHA1]
		if k == SHA1 {
			other = digests[MD5]
		}
		mixed := strings.ToUpper(d[:len(d)/2]) + d[len(d)/2:]
		testKind(t, k, []canonCase{
			{d, d, ""},
			{strings.ToUpper(d), d, ""},
			{mixed, d, ""},
			{"  " + d + "\t", d, ""},
			{"\n" + strings.ToUpper(d) + "\r", d, ""},
			{d[:len(d)-1], "", "hex digits"},
			{d + "0", "", "hex digits"},
			{d[:len(d)-1] + "g", "", "not hexadecimal"},
			{"0x" + d[2:], "", "not hexadecimal"},
			{d[:10] + " " + d[11:], "", "not hexadecimal"},
			{other, "", "hex digits"},
			{"", "", "hex digits"},
		})
	}
}

func TestKindsDoNotCollide(t *testing.T) {
	// The same string under two kinds is two OPRF inputs.
	v := "d41d8cd98f00b204e9800998ecf8427e"
	a := MustNew(MD5, v)
	k, err := NewKind("x-token", func(s string) (string, error) { return s, nil })
	if err != nil {
		t.Fatal(err)
	}
	b := MustNew(k, v)
	if a == b {
		t.Fatal("equal values of different kinds collide")
	}
}

func TestKindRegistry(t *testing.T) {
	names := []string{}
	for _, k := range Kinds() {
		names = append(names, k.Name())
		got, err := Lookup(k.Name())
		if err != nil || got != k {
			t.Errorf("Lookup(%q) = %v, %v", k.Name(), got, err)
		}
	}
	if want := "btc document domain email eth iban ipv4 ipv4-cidr ipv6 ipv6-cidr md5 phone plate sha1 sha256 sha512 ssdeep tlsh url"; strings.Join(names, " ") != want {
		t.Errorf("Kinds() = %v, want %s", names, want)
	}
	for _, bad := range []string{"url2", "ip", "ip-dst", ""} {
		if _, err := Lookup(bad); !errors.Is(err, ErrUnknownKind) {
			t.Errorf("Lookup(%q): %v", bad, err)
		}
	}
	for alias, name := range kindAliases {
		if k, err := Lookup(strings.ToUpper(alias)); err != nil || k.Name() != name {
			t.Errorf("alias %s: %v, %v", alias, k, err)
		}
	}
	ind, err := Parse("email:Alice@Example.org")
	if err != nil || ind.String() != "email:alice@example.org" {
		t.Errorf("Parse = %v, %v", ind, err)
	}
	for _, bad := range []string{"alice@example.org", "mail:alice@example.org", "ipv4:1.2.3"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestCustomKind(t *testing.T) {
	upper := func(s string) (string, error) {
		if s == "bad" {
			return "", errors.New("is bad")
		}
		return strings.ToUpper(strings.TrimSpace(s)), nil
	}
	k, err := NewKind("x-case-number", upper)
	if err != nil {
		t.Fatal(err)
	}
	if ind := MustNew(k, " ab-12 "); ind.Value() != "AB-12" || ind.Kind() != k {
		t.Errorf("custom kind gave %v", ind)
	}
	_, err = New(k, "bad")
	var ie *Error
	if !errors.As(err, &ie) || ie.Kind != "x-case-number" || ie.Reason != "is bad" {
		t.Errorf("custom kind error %v", err)
	}
	for _, name := range []string{"email", "case", "x-", "x-UPPER", "x-" + strings.Repeat("a", 31), "x-a_b", "-x"} {
		if _, err := NewKind(name, upper); err == nil {
			t.Errorf("NewKind(%q) accepted", name)
		}
	}
	if _, err := NewKind("x-ok", nil); err == nil {
		t.Error("NewKind with nil canonicalizer accepted")
	}
}

func TestIndicatorLimits(t *testing.T) {
	k, _ := NewKind("x-raw", func(s string) (string, error) { return s, nil })
	if _, err := New(k, strings.Repeat("a", MaxValueLen)); err != nil {
		t.Errorf("value of MaxValueLen refused: %v", err)
	}
	for _, v := range []string{strings.Repeat("a", MaxValueLen+1), "", "\xff\xfe"} {
		if _, err := New(k, v); !errors.Is(err, ErrInvalid) {
			t.Errorf("value of %d bytes: got %v", len(v), err)
		}
	}
	if _, err := New(nil, "x"); err == nil {
		t.Error("nil kind accepted")
	}
	var zero Indicator
	if !zero.IsZero() || zero.String() == "" {
		t.Error("zero Indicator")
	}
}

// FuzzCanonicalize checks every built-in kind: no panic on any input, and
// the canonical form is a fixed point.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{"Alice@Example.ORG.", "bücher.example", "::ffff:1.2.3.4", "192.000.2.1",
		"2001:DB8::1", "D41D8CD98F00B204E9800998ECF8427E", "xn--bcher-kva.example", "a@b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range Kinds() {
			c, err := k.Canonicalize(s)
			if err != nil {
				continue
			}
			c2, err := k.Canonicalize(c)
			if err != nil || c2 != c {
				t.Fatalf("%s: %q -> %q -> %q, %v", k, s, c, c2, err)
			}
		}
		// National phone numbers: the result is a canonical phone number.
		for _, region := range []string{"DE", "US", "IT", "RU"} {
			ind, err := ParsePhone(s, region)
			if err != nil {
				continue
			}
			if again, err := New(Phone, ind.Value()); err != nil || again != ind {
				t.Fatalf("ParsePhone(%q, %s) = %v, not a fixed point (%v)", s, region, ind, err)
			}
		}
		if ind, err := ParseIP(s); err == nil {
			if again, err := New(ind.Kind(), ind.Value()); err != nil || again != ind {
				t.Fatalf("ParseIP(%q) = %v, not a fixed point", s, ind)
			}
		}
	})
}

func TestEmailNFC(t *testing.T) {
	composed := MustNew(Email, "jos\u00e9@example.org")
	decomposed := MustNew(Email, "jose\u0301@example.org")
	if composed != decomposed {
		t.Fatalf("%q and %q differ", composed.Value(), decomposed.Value())
	}
}
