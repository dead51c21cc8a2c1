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
		{"030 1", "DE", ""},
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
func TestPhoneConformance(t *testing.T) {
	// National formats that ParsePhone reads otherwise than
	// libphonenumber, by no documented rule: faults of the library.
	const (
		gapBY = "Belarus's national prefix is 8 or 80, ParsePhone strips only the 8 and keeps the 0"
		gapAR = "Argentina's national mobile format (0 area 15 number) is not mapped to +54 9 area number"
	)
	gaps := map[string]string{
		"8 0152 45-09-11":  gapBY, // +3750152450911, another number than +375152450911
		"8 029 491-19-11":  gapBY, // +3750294911911, another number than +375294911911
		"011 15-2345-6789": gapAR, // refused
	}
	c := newConformance(t, "phone.txt")
	for _, r := range c.records(5) {
		region, typ, national, intl, e164 := r[0], r[1], r[2], r[3], r[4]
		got, err := Phone.Canonicalize(intl)
		c.check(err == nil && got == e164, "%s %s international %q = %q, %v; want %s", region, typ, intl, got, err, e164)
		got, err = Phone.Canonicalize(e164)
		c.check(err == nil && got == e164, "%s %s E.164 %q = %q, %v", region, typ, e164, got, err)
		ind, err := ParsePhone(national, region)
		if gap, ok := gaps[national]; ok && (err != nil || ind.Value() != e164) {
			c.knownGap(gap, "%s %s national %q = %v, %v; want %s", region, typ, national, ind, err, e164)
			continue
		}
		c.check(err == nil && ind.Value() == e164, "%s %s national %q = %v, %v; want %s", region, typ, national, ind, err, e164)
	}
	c.done(map[string]int{gapBY: 2, gapAR: 1})
}
