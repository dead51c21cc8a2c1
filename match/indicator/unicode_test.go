package indicator

import (
	"testing"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Every Unicode table this package uses is of UnicodeVersion: a Go or
// golang.org/x release that moves one on changes canonical values, and
// must be a decision (PROTOCOL.md section 4, the vectors), not an accident.
func TestUnicodeVersion(t *testing.T) {
	for name, v := range map[string]string{"unicode": unicode.Version, "x/net/idna": idna.UnicodeVersion, "x/text/unicode/norm": norm.Version} {
		if v != UnicodeVersion {
			t.Errorf("%s tables are Unicode %s, UnicodeVersion is %s", name, v, UnicodeVersion)
		}
	}
}
