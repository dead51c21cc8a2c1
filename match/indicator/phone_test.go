package indicator

import (
	"strings"
	"testing"
)

func TestKindPhone(t *testing.T) {
	testKind(t, Phone, []canonCase{
		{"+44 20 7946 0018", "+442079460018", ""},
		{"+44 (0)20 7946 0018", "+442079460018", ""},
		{"0044 20 7946 0018", "+442079460018", ""},
		{"+1 (201) 555-0123", "+12015550123", ""},
		{"tel:+1-201-555-0123", "+12015550123", ""},
		{"+49 30 1234567", "+49301234567", ""},
		{"+49.30.123.4567", "+49301234567", ""},
		{"+39 06 1234 5678", "+390612345678", ""}, // Italy keeps the 0
		{"+33 1 23 45 67 89", "+33123456789", ""},
		{"+7 495 123-45-67", "+74951234567", ""},
		{"020 7946 0018", "", "default country"},
		{"+999 1234 5678", "", "calling code"},
		{"+44 20", "", "possible length"},
		{"+1-800-FLOWERS", "", "letters"},
		{"+1 201 555 0123 x12", "", "extensions"},
		{"+49 30 1234567890123456", "", ""},
		{"", "", "no digits"},
	})
	for _, c := range []struct{ in, region, want string }{
		{"020 7946 0018", "GB", "+442079460018"},
		{"(201) 555-0123", "US", "+12015550123"},
		{"1 201 555 0123", "us", "+12015550123"},
		{"011 44 20 7946 0018", "US", "+442079460018"},
		{"030 1234567", "DE", "+49301234567"},
		{"06 1234 5678", "IT", "+390612345678"},
		{"8 495 123-45-67", "RU", "+74951234567"},
		{"+33 1 23 45 67 89", "DE", "+33123456789"},
		{"06 12 34 56 78", "FR", "+33612345678"},
		// Regression: an empty region, which reads international numbers only, was once refused as unknown (cccd8c4).
		{"0044 20 7946 0018", "", "+442079460018"},
		// "030 1" is +49 0301, as libphonenumber reads it: the 0 is kept
		// when the rest would be too short (4.7: lengths, not validity).
		{"030 1", "DE", "+490301"},
		{"030", "DE", ""},
		{"555-0123", "US", ""},
	} {
		got, err := ParsePhone(c.in, c.region)
		if c.want == "" {
			if err == nil {
				t.Errorf("ParsePhone(%q, %s) = %v, want an error", c.in, c.region, got)
			}
			continue
		}
		if err != nil || got.Value() != c.want || got.Kind() != Phone {
			t.Errorf("ParsePhone(%q, %s) = %v, %v; want %s", c.in, c.region, got, err, c.want)
		}
	}
	if _, err := ParsePhone("+12015550123", "XX"); err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("unknown region: %v", err)
	}
}

// TestPhoneConformance runs libphonenumber's example numbers, a mobile and
// a fixed-line one for each region: the international format
// canonicalizes to the E.164 form as [Phone], the national format too with
// the region as default country ([ParsePhone]), and E.164 is a fixed point.
// The national format written with the region's preferred international
// prefix ("0011" in Australia, "810" in Belarus) before the calling code
// reads the same too.
func TestPhoneConformance(t *testing.T) {
	c := newConformance(t, "phone.txt")
	for _, r := range c.records(5) {
		region, typ, national, intl, e164 := r[0], r[1], r[2], r[3], r[4]
		got, err := Phone.Canonicalize(intl)
		c.check(err == nil && got == e164, "%s %s international %q = %q, %v; want %s", region, typ, intl, got, err, e164)
		got, err = Phone.Canonicalize(e164)
		c.check(err == nil && got == e164, "%s %s E.164 %q = %q, %v", region, typ, e164, got, err)
		ind, err := ParsePhone(national, region)
		c.check(err == nil && ind.Value() == e164, "%s %s national %q = %v, %v; want %s", region, typ, national, ind, err, e164)
		if idd := preferredIDD[region]; idd != "" {
			in := idd + " " + strings.TrimPrefix(intl, "+")
			ind, err := ParsePhone(in, region)
			c.check(err == nil && ind.Value() == e164, "%s %s %q = %v, %v; want %s", region, typ, in, ind, err, e164)
		}
	}
	c.done(nil)
}

// preferredIDD are the preferred international prefixes of regions whose
// metadata gives several (libphonenumber's preferredInternationalPrefix)
// or one other than 00.
var preferredIDD = map[string]string{
	"AU": "0011", "BY": "810", "RU": "810", "US": "011", "JP": "010",
	"BR": "0014", "CO": "009", "ID": "008", "KR": "001", "SG": "001",
}

// Regression: national writings that libphonenumber reads with the
// national prefix for parsing and its transform rule, which the lengths
// alone once read wrong: Belarus's trunk prefix 8 0 was cut to 8
// (+3750294911911), Argentine mobiles written 0 area 15 number were
// refused, Indonesian numbers that start 00 were taken for international
// ones, and Australia's international prefixes were not known.
func TestPhoneNationalPrefixForParsing(t *testing.T) {
	for _, c := range []struct{ in, region, want string }{
		{"8 029 491-19-11", "BY", "+375294911911"},
		{"80 29 491-19-11", "BY", "+375294911911"},
		{"029 491-19-11", "BY", "+375294911911"},
		{"8 0152 45-09-11", "BY", "+375152450911"},
		{"810 44 20 7946 0018", "BY", "+442079460018"},
		{"011 15-2345-6789", "AR", "+5491123456789"},
		{"0351 15 123-4567", "AR", "+5493511234567"},
		{"011 2345-6789", "AR", "+541123456789"},
		{"0011 44 20 7946 0018", "AU", "+442079460018"},
		{"0014 44 20 7946 0018", "AU", "+442079460018"},
		{"0018 031 234 567", "ID", "+620018031234567"},
		{"001 44 20 7946 0018", "ID", "+62001442079460018"}, // 001 is not an Indonesian international prefix
		{"008 44 20 7946 0018", "ID", "+442079460018"},
		{"7 495 123-45-67", "RU", "+74951234567"},
		{"0 11 2345-6789", "BR", "+551123456789"},
	} {
		got, err := ParsePhone(c.in, c.region)
		if err != nil || got.Value() != c.want {
			t.Errorf("ParsePhone(%q, %s) = %v, %v; want %s", c.in, c.region, got, err, c.want)
		}
	}
}
