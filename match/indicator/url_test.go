package indicator

import (
	"strings"
	"testing"
)

func TestKindURL(t *testing.T) {
	testKind(t, URL, []canonCase{
		{"http://www.example.com/", "http://www.example.com/", ""},
		{"HTTP://WWW.Example.COM/Path", "http://www.example.com/Path", ""},
		{"www.example.com", "http://www.example.com/", ""},
		{"example.com:8080/a", "http://example.com:8080/a", ""},
		{"https://example.com:443/", "https://example.com/", ""},
		{"http://example.com:80/", "http://example.com/", ""},
		{"http://example.com:/", "http://example.com/", ""},
		{"http://example.com/%7euser", "http://example.com/~user", ""},
		{"http://example.com/%7Euser", "http://example.com/~user", ""},
		{"http://example.com/~user", "http://example.com/~user", ""},
		{"http://example.com/%25%32%35", "http://example.com/%25", ""}, // %25 -> %, %32%35 -> 25: decoded until stable
		{"http://example.com/a/../b", "http://example.com/b", ""},
		{"http://example.com/a/./b/", "http://example.com/a/b/", ""},
		{"http://example.com//a///b", "http://example.com/a/b", ""},
		{"http://example.com/../../x", "http://example.com/x", ""},
		{"http://example.com/a#frag", "http://example.com/a", ""},
		{"http://example.com/a b", "http://example.com/a%20b", ""},
		{"http://example.com/q?x=1&y=%2F", "http://example.com/q?x=1&y=/", ""},
		{"http://example.com/q?", "http://example.com/q?", ""},
		{"http://..www.example.com../", "http://www.example.com/", ""},
		{"http://3221225985/", "http://192.0.2.1/", ""},
		{"http://0xc0.0.2.1/", "http://192.0.2.1/", ""},
		{"http://0300.0.2.1/", "http://192.0.2.1/", ""},
		{"http://192.2.1/", "http://192.2.0.1/", ""}, // the last part fills two bytes
		{"http://[2001:DB8::1]:8080/", "http://[2001:db8::1]:8080/", ""},
		{"http://[::ffff:192.0.2.1]/", "http://192.0.2.1/", ""},
		{"http://bücher.example/über", "http://xn--bcher-kva.example/%C3%BCber", ""},
		{"http://user:pw@example.com/", "http://user:pw@example.com/", ""},
		{"http://ex\tam\nple.com/", "http://example.com/", ""},
		{"ftp://files.example.org:21/pub", "ftp://files.example.org/pub", ""},
		// Regression: a full-width digit host was not a fixed point while IPv4 forms were read before IDNA mapping (FuzzCanonicalize, a7cc892).
		{"http://８/", "http://0.0.0.8/", ""},
		{"mailto:alice@example.org", "", "no authority"},
		{"http://", "", "no host"},
		{"http://exa mple.com/", "", "host"},
		{"http://example.com:99999/", "", "port"},
		{"http://example.com:0/", "", "port"},
		{"http://[2001:db8::1/", "", "unclosed"},
		{"http://[192.0.2.1]/", "", "IPv6"},
		{"", "", "no host"},
		// Regression: an escaped invalid UTF-8 byte once made an A-label that was not a fixed point (FuzzCanonicalize, a7cc892).
		{"Xn-%8000000", "", "not valid UTF-8"},
	})
}

func TestURLNesting(t *testing.T) {
	// "%" "25"×n "41" decodes to "A" in n+1 rounds.
	if got := MustNew(URL, "http://example.com/%"+strings.Repeat("25", 15)+"41").Value(); got != "http://example.com/A" {
		t.Errorf("16 rounds: %s", got)
	}
	nested := "http://example.com/%" + strings.Repeat("25", 16) + "41"
	if _, err := New(URL, nested); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("17 levels of escapes: %v", err)
	}
	if _, err := New(URL, "http://example.com/"+strings.Repeat("a", 4*MaxValueLen)); err == nil {
		t.Error("oversized raw URL accepted")
	}
}
