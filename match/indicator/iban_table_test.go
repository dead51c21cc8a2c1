package indicator

import (
	"fmt"
	"strings"
	"testing"
)

// TestIBANLengthsConsistent checks every entry of the generated table.
func TestIBANLengthsConsistent(t *testing.T) {
	if len(ibanLengths) < 100 {
		t.Fatalf("%d countries; the table is cut short", len(ibanLengths))
	}
	for cc, n := range ibanLengths {
		if len(cc) != 2 || strings.Trim(cc, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			t.Errorf("country %q is not an ISO 3166-1 alpha-2 code", cc)
		}
		// ISO 3166-1 leaves AA, QM-QZ, XA-XZ and ZZ to private use; of
		// those only XK (Kosovo) is in the SWIFT IBAN registry.
		if cc == "AA" || cc == "ZZ" || cc[0] == 'Q' && cc[1] >= 'M' || cc[0] == 'X' && cc != "XK" {
			t.Errorf("country %q is a user-assigned code", cc)
		}
		// ISO 13616-1 allows at most 34 characters; Norway's 15 are the
		// fewest in use.
		if n < 15 || n > 34 {
			t.Errorf("%s: length %d is outside 15..34", cc, n)
		}
	}
}

// TestIBANLengthsRoundTrip builds an IBAN of every country, with a BBAN of
// zeros and the check digits that make it valid, and checks that exactly
// the table's length is accepted.
func TestIBANLengthsRoundTrip(t *testing.T) {
	for cc, n := range ibanLengths {
		for _, l := range []int{n - 1, n, n + 1} {
			iban := withCheckDigits(cc, strings.Repeat("0", l-4))
			got, err := canonicalIBAN(iban)
			if l == n && (got != iban || err != nil) {
				t.Errorf("%s: %s = %q, %v; want it valid", cc, iban, got, err)
			}
			if l != n && err == nil {
				t.Errorf("%s: %s of %d characters accepted, want only %d", cc, iban, l, n)
			}
		}
	}
}

// withCheckDigits returns the IBAN of country cc and bban with valid ISO
// 7064 MOD 97-10 check digits (ISO 13616-1 Annex B).
func withCheckDigits(cc, bban string) string {
	rem := 0
	for _, c := range bban + cc + "00" {
		if c >= 'A' {
			rem = (rem*100 + int(c-'A'+10)) % 97
		} else {
			rem = (rem*10 + int(c-'0')) % 97
		}
	}
	return fmt.Sprintf("%s%02d%s", cc, 98-rem, bban)
}
