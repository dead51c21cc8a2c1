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
