package indicator

import (
	"math/bits"
	"strings"
	"testing"
)

// nonGeographicCodes are the calling codes that ITU-T E.164 assigns to
// global services rather than to a country; only they may have no region
// in phoneRegions.
var nonGeographicCodes = map[string]bool{
	"800": true, "808": true, "870": true, "878": true, "881": true,
	"882": true, "883": true, "888": true, "979": true,
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// TestPhoneRegionsConsistent checks each region of the generated table on
// its own and against phoneCodes, which internationalPhone reads instead.
func TestPhoneRegionsConsistent(t *testing.T) {
	if len(phoneRegions) < 200 {
		t.Fatalf("%d regions; the table is cut short", len(phoneRegions))
	}
	for id, r := range phoneRegions {
		if len(id) != 2 || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			t.Errorf("region %q is not an ISO 3166-1 alpha-2 code", id)
		}
		if !isDigits(r.code) || len(r.code) > 3 || r.code[0] == '0' {
			t.Errorf("%s: calling code %q is not 1 to 3 digits", id, r.code)
		}
		if r.intlPrefix != "" && !isDigits(r.intlPrefix) {
			t.Errorf("%s: international prefix %q is not a digit string", id, r.intlPrefix)
		}
		if r.nationalPrefix != "" && !isDigits(r.nationalPrefix) {
			t.Errorf("%s: national prefix %q is not a digit string", id, r.nationalPrefix)
		}
		// possibleLength ignores bit 0 and bits from 32 up; a region
		// whose lengths all fall there, or none, accepts no number.
		if r.lengths&^1 == 0 {
			t.Errorf("%s: no possible lengths (%#x)", id, r.lengths)
		}
		mask, ok := phoneCodes[r.code]
		if !ok {
			t.Errorf("%s: calling code %s is not in phoneCodes", id, r.code)
		} else if r.lengths&^mask != 0 {
			// An international number of this region would then be
			// refused although its national form is accepted.
			t.Errorf("%s: lengths %s are not all among those of +%s (%s)", id, lengthsString(r.lengths), r.code, lengthsString(mask))
		}
	}
}

// TestPhoneCodesConsistent checks that each calling code's lengths are
// exactly those of its regions, and that the codes are prefix-free, which
// internationalPhone relies on when it takes the first code that matches.
func TestPhoneCodesConsistent(t *testing.T) {
	union := make(map[string]uint32)
	for _, r := range phoneRegions {
		union[r.code] |= r.lengths
	}
	for code, mask := range phoneCodes {
		if !isDigits(code) || len(code) > 3 || code[0] == '0' {
			t.Errorf("calling code %q is not 1 to 3 digits", code)
		}
		for l := 1; l < len(code); l++ {
			if _, ok := phoneCodes[code[:l]]; ok {
				t.Errorf("calling code %s starts with calling code %s", code, code[:l])
			}
		}
		u, ok := union[code]
		switch {
		case !ok && !nonGeographicCodes[code]:
			t.Errorf("calling code %s has no region and is not a non-geographic code", code)
		case !ok && mask&^1 == 0:
			t.Errorf("non-geographic calling code %s has no possible lengths", code)
		case ok && mask != u:
			t.Errorf("calling code %s has lengths %s, its regions %s", code, lengthsString(mask), lengthsString(u))
		}
	}
}

// TestPhoneTableEntries pins a few entries that show how the generator
// reads libphonenumber's metadata: a fixed international prefix (US
// "011"), a pattern of several that must come out empty (AU, whose
// metadata has "001[14-689]|14(?:...)0011"), and a two-digit trunk prefix
// (HU "06").
func TestPhoneTableEntries(t *testing.T) {
	for id, want := range map[string]phoneRegion{
		"US": {"1", "011", "1", 1 << 10},
		"AU": {"61", "", "0", 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<12},
		"HU": {"36", "00", "06", 1<<8 | 1<<9},
		"GB": {"44", "00", "0", 1<<7 | 1<<9 | 1<<10},
	} {
		if got := phoneRegions[id]; got != want {
			t.Errorf("phoneRegions[%q] = %+v, want %+v", id, got, want)
		}
	}
}

// TestPhoneTableRoundTrip reads a number of every possible length of every
// region in national form and checks that its canonical form reads back
// unchanged, which needs the region's entry and its calling code's to
// agree.
func TestPhoneTableRoundTrip(t *testing.T) {
	for id, r := range phoneRegions {
		// A digit that starts neither prefix, so that neither is
		// stripped from the number.
		d := "2"
		if strings.HasPrefix(r.nationalPrefix, d) || strings.HasPrefix(r.intlPrefix, d) {
			d = "3"
		}
		for m := r.lengths &^ 1; m != 0; m &= m - 1 {
			n := bits.TrailingZeros32(m)
			if len(r.code)+n > 15 {
				continue // beyond E.164; see internationalPhone
			}
			nsn := strings.Repeat(d, n)
			got, err := canonicalPhone(nsn, id)
			if want := "+" + r.code + nsn; got != want || err != nil {
				t.Errorf("%s: national %s = %q, %v; want %q", id, nsn, got, err, want)
				continue
			}
			if again, err := canonicalPhone(got, ""); again != got || err != nil {
				t.Errorf("%s: %s = %q, %v; want it unchanged", id, got, again, err)
			}
		}
	}
}
