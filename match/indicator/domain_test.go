package indicator

import (
	"strings"
	"testing"
)

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
