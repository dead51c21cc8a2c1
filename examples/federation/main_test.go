package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestFederation(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"from fiu-b     1 shared:\n    email:broker@example.net                      their label: subject of STR 2026-117",
		"from police-c  1 shared:\n    ipv4:192.0.2.44                               their label: seen in case 4711",
		"from police-c  2 shared:\n    btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa        their label: payment trail\n    phone:+442079460018",
		"police-c  evaluated 5 (1 phone, 1 ipv4, 1 btc, 1 document, 1 email), confirmed 2 hit(s)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	// Nothing an agency did not share appears in another's part.
	if strings.Count(s, "someone@example.org") != 0 || strings.Count(s, "DE89370400440532013000") != 0 {
		t.Errorf("an unshared indicator crossed:\n%s", s)
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"TLP:GREEN C2 · Büro":   "TLP:GREEN C2 · Büro",
		"a\nforged\tcolumn":     `"a\nforged\tcolumn"`,
		"\x1b[2J \u2028 \u202e": `"\x1b[2J \u2028 \u202e"`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %s, want %s", in, got, want)
		}
	}
}
