package indicator

import (
	"errors"
	"strings"
	"testing"
)

func TestKindRegistry(t *testing.T) {
	names := []string{}
	for _, k := range Kinds() {
		names = append(names, k.Name())
		got, err := Lookup(k.Name())
		if err != nil || got != k {
			t.Errorf("Lookup(%q) = %v, %v", k.Name(), got, err)
		}
	}
	if want := "btc document domain email eth iban ipv4 ipv4-cidr ipv6 ipv6-cidr md5 person-v1-doc person-v1-name person-v1-name-dob person-v1-name-year person-v1-pair-dob person-v1-phon-dob person-v1-phon-year phone plate sha1 sha256 sha512 ssdeep tlsh url"; strings.Join(names, " ") != want {
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

// FuzzCanonicalize checks every built-in kind: no panic on any input, and
// the canonical form is a fixed point.
//
// Regression: its corpus (testdata/fuzz) keeps the two URL hosts it caught that were not fixed points (a7cc892); TestKindURL repeats them.
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
