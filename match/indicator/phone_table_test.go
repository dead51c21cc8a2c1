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
		checkPlan(t, id, r)
		if r.nationalPrefix != "" && !isDigits(r.nationalPrefix) {
			t.Errorf("%s: national prefix %q is not a digit string", id, r.nationalPrefix)
		}
		// possibleLength ignores bit 0 and bits from 32 up; a region
		// whose lengths all fall there, or none, accepts no number.
		if r.lengths&^1 == 0 {
			t.Errorf("%s: no possible lengths (%#x)", id, r.lengths)
		}
		if _, ok := phoneCodes[r.code]; !ok {
			t.Errorf("%s: calling code %s is not in phoneCodes", id, r.code)
		}
	}
}

// TestPhoneCodesConsistent checks that each calling code's main region
// has that code (or, for a non-geographic code, that it has a plan of its
// own), and that the codes are prefix-free, which internationalPhone
// relies on when it takes the first code that matches.
func TestPhoneCodesConsistent(t *testing.T) {
	regions := make(map[string]bool)
	for _, r := range phoneRegions {
		regions[r.code] = true
	}
	for code, main := range phoneCodes {
		if !isDigits(code) || len(code) > 3 || code[0] == '0' {
			t.Errorf("calling code %q is not 1 to 3 digits", code)
		}
		for l := 1; l < len(code); l++ {
			if _, ok := phoneCodes[code[:l]]; ok {
				t.Errorf("calling code %s starts with calling code %s", code, code[:l])
			}
		}
		switch {
		case !regions[code] && !nonGeographicCodes[code]:
			t.Errorf("calling code %s has no region and is not a non-geographic code", code)
		case regions[code] && phoneRegions[main].code != code:
			t.Errorf("calling code %s: main region %q has another code", code, main)
		case !regions[code]:
			if p := phoneNonGeographic[code]; main != "" || p.code != code || p.lengths&^1 == 0 {
				t.Errorf("non-geographic calling code %s: main region %q, plan %+v", code, main, p)
			}
			checkPlan(t, "+"+code, phoneNonGeographic[code])
		}
	}
}

// checkPlan checks a numbering plan's patterns: each compiles anchored
// (phoneRE panics otherwise) and the national number pattern accepts no
// number of a length the plan does not list as possible.
func checkPlan(t *testing.T, id string, r phoneRegion) {
	t.Helper()
	for _, p := range []string{r.intlPrefix, r.prefixForParsing, r.pattern} {
		func() {
			defer func() {
				if e := recover(); e != nil {
					t.Errorf("%s: pattern %q does not compile: %v", id, p, e)
				}
			}()
			phoneRE(p, false)
			phoneRE(p, true)
		}()
	}
	if r.pattern == "" {
		t.Errorf("%s: no national number pattern", id)
	}
}

// TestPhoneTableEntries pins a few entries that show how the generator
// reads libphonenumber's metadata: a fixed international prefix (US
// "011"), a pattern of several (AU), a two-digit trunk prefix (HU "06"),
// a national prefix for parsing of several (BY "0|80?") and one with a
// transform rule (AR, whose mobiles are written 0 area 15 number
// nationally and +54 9 area number internationally).
func TestPhoneTableEntries(t *testing.T) {
	for id, want := range map[string]phoneRegion{
		"US": {code: "1", intlPrefix: "011", nationalPrefix: "1", lengths: 1 << 10},
		"AU": {code: "61", intlPrefix: "001[14-689]|14(?:1[14]|34|4[17]|[56]6|7[47]|88)0011", nationalPrefix: "0", prefixForParsing: "(183[12])|0",
			lengths: 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<12},
		"HU": {code: "36", intlPrefix: "00", nationalPrefix: "06", lengths: 1<<8 | 1<<9},
		"GB": {code: "44", intlPrefix: "00", nationalPrefix: "0", prefixForParsing: "0|180020", lengths: 1<<7 | 1<<9 | 1<<10},
		"BY": {code: "375", intlPrefix: "810", nationalPrefix: "8", prefixForParsing: "0|80?", lengths: 0xfc0},
	} {
		got := phoneRegions[id]
		got.pattern = ""
		if id != "AR" && got != want {
			t.Errorf("phoneRegions[%q] = %+v, want %+v", id, got, want)
		}
	}
	if ar := phoneRegions["AR"]; !strings.HasPrefix(ar.prefixForParsing, "0?(?:(11|") || ar.transformRule != "9$1" {
		t.Errorf("phoneRegions[AR] = %+v, want a national prefix for parsing with a group and the rule 9$1", ar)
	}
}

// TestPhoneTableRoundTrip reads a number of every possible length of every
// region in national form and checks that its canonical form reads back
// unchanged, which needs the region's entry and its calling code's to
// agree.
func TestPhoneTableRoundTrip(t *testing.T) {
	for id, r := range phoneRegions {
		// A digit that starts neither prefix, so that neither is
		// stripped from the number, nor the calling code.
		d := "2"
		if strings.HasPrefix(r.nationalPrefix, d) || strings.HasPrefix(r.code, d) {
			d = "3"
		}
		for m := r.lengths &^ 1; m != 0; m &= m - 1 {
			n := bits.TrailingZeros32(m)
			nsn := strings.Repeat(d, n)
			got, err := canonicalPhone(nsn, id)
			if !possibleLength(planOf(r.code).lengths, n) && r.transformRule == "" {
				// A length of the region but not of its calling code's
				// main region (7 digits in Canada, local numbers): refused,
				// as its international writing is.
				if err == nil {
					t.Errorf("%s: national %s = %q, want it refused", id, nsn, got)
				}
				continue
			}
			if r.transformRule != "" {
				// A rule may rewrite a local number ("22222" is "3 22222" on Norfolk Island).
				if err != nil || !strings.HasPrefix(got, "+"+r.code) {
					t.Errorf("%s: national %s = %q, %v", id, nsn, got, err)
					continue
				}
			} else if want := "+" + r.code + nsn; got != want || err != nil {
				t.Errorf("%s: national %s = %q, %v; want %q", id, nsn, got, err, want)
				continue
			}
			if again, err := canonicalPhone(got, ""); again != got || err != nil {
				t.Errorf("%s: %s = %q, %v; want it unchanged", id, got, again, err)
			}
		}
	}
}
