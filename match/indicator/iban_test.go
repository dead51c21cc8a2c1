package indicator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestKindIBAN(t *testing.T) {
	testKind(t, IBAN, []canonCase{
		{"DE89 3704 0044 0532 0130 00", "DE89370400440532013000", ""},
		{"DE89370400440532013000", "DE89370400440532013000", ""},
		{"de89-3704.0044 0532 0130 00", "DE89370400440532013000", ""},
		{"IBAN DE89 3704 0044 0532 0130 00", "DE89370400440532013000", ""},
		{"GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", ""},
		{"FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606", ""},
		{"NL91ABNA0417164300", "NL91ABNA0417164300", ""},
		{"CH9300762011623852957", "CH9300762011623852957", ""},
		{"BE68539007547034", "BE68539007547034", ""},
		{"NO9386011117947", "NO9386011117947", ""},
		{"DE89370400440532013001", "", "mod 97"},
		{"DE88370400440532013000", "", "mod 97"},
		{"DE8937040044053201300", "", "21 characters, this country's IBANs have 22"}, // not "DE": part of the value
		{"XX89370400440532013000", "", "does not issue"},
		{"US89370400440532013000", "", "does not issue"},
		{"DE89 3704 0044 0532 0130 0!", "", "letters and digits"},
		{"DEAB370400440532013000", "", "check digits"},
	})
}

// TestIBANConformance runs the IBAN lists of python-stdnum and php-iban:
// valid IBANs are accepted in upper case without separators, and refused
// once a digit of their BBAN is changed (MOD 97-10 detects every single
// substitution) or their length is not the one the SWIFT registry gives
// their country; invalid ones are refused.
func TestIBANConformance(t *testing.T) {
	const ruleMod97 = "IBAN verifies country, length and mod 97, not national BBAN formats or check digits"
	c := newConformance(t, "iban.txt")
	registry := map[string]int{}
	outOfScope, outOfScopeAccepted := 0, 0
	for _, r := range c.records(3) {
		in := r[1]
		got, err := IBAN.Canonicalize(in)
		switch r[0] {
		case "registry":
			n, err := strconv.Atoi(r[2])
			if err != nil {
				t.Fatal(err)
			}
			registry[in] = n
		case "valid":
			want := strings.ToUpper(strings.NewReplacer(" ", "", "-", "", ".", "").Replace(in))
			c.check(err == nil && got == want, "%q = %q, %v; want %q", in, got, err, want)
			if n, ok := registry[want[:2]]; ok && len(want) != n {
				t.Errorf("%q: %d characters, the registry gives %s %d", in, len(want), want[:2], n)
			}
			for _, bad := range corruptIBAN(want) {
				got, err := IBAN.Canonicalize(bad)
				c.check(err != nil, "%q (one BBAN digit of %q changed) accepted as %q", bad, want, got)
			}
		case "invalid":
			c.check(err != nil, "invalid %q accepted as %q", in, got)
		case "bban-format", "national":
			if err == nil {
				c.documented(ruleMod97, "%s %q accepted", r[0], in)
				continue
			}
			c.pass()
		case "non-registry":
			// Out of the suite's scope: fedmatch may or may not issue
			// these countries, but what it accepts must be canonical.
			outOfScope++
			if err == nil {
				outOfScopeAccepted++
				if again, err := IBAN.Canonicalize(got); err != nil || again != got || got != strings.ToUpper(in) {
					t.Errorf("out-of-registry %q = %q, then %q, %v", in, got, again, err)
				}
			}
		default:
			t.Fatalf("unknown expectation %q", r[0])
		}
	}
	// Every registry country refuses an IBAN one character too short or
	// too long, even with check digits that verify.
	for cc, n := range registry {
		for _, l := range []int{n - 1, n + 1} {
			bad := ibanWithCheckDigits(cc, strings.Repeat("0", l-4))
			got, err := IBAN.Canonicalize(bad)
			c.check(err != nil, "%q: %d characters for %s (registry: %d) accepted as %q", bad, l, cc, n, got)
		}
	}
	t.Logf("%s: %d out-of-registry examples, outside the suite's scope: %d accepted", c.suite, outOfScope, outOfScopeAccepted)
	c.done(map[string]int{ruleMod97: 5})
}

// corruptIBAN returns iban with its first, middle and last BBAN digit
// each replaced by the next digit (mod 10), check digits unchanged.
func corruptIBAN(iban string) []string {
	var pos []int
	for i := 4; i < len(iban); i++ {
		if '0' <= iban[i] && iban[i] <= '9' {
			pos = append(pos, i)
		}
	}
	if len(pos) == 0 {
		return nil
	}
	var out []string
	for _, i := range slices.Compact([]int{pos[0], pos[len(pos)/2], pos[len(pos)-1]}) {
		b := []byte(iban)
		b[i] = '0' + (b[i]-'0'+1)%10
		out = append(out, string(b))
	}
	return out
}

// ibanWithCheckDigits returns the IBAN of a country and a BBAN with the
// check digits ISO 7064 MOD 97-10 gives them.
func ibanWithCheckDigits(country, bban string) string {
	rem := 0
	for _, c := range bban + country + "00" {
		if c >= 'A' {
			rem = (rem*100 + int(c-'A'+10)) % 97
		} else {
			rem = (rem*10 + int(c-'0')) % 97
		}
	}
	return fmt.Sprintf("%s%02d%s", country, 98-rem, bban)
}
