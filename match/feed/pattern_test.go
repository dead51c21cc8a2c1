package feed

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

func TestParsePattern(t *testing.T) {
	for _, c := range []struct {
		pattern     string
		comparisons int
		hasAnd      bool
		unsupported string // "" none; "ERR" a syntax error
	}{
		{"[ipv4-addr:value = '192.0.2.1']", 1, false, ""},
		{"[ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.2']", 2, false, ""},
		{"[file:hashes.'SHA-256' = 'ab' AND file:hashes.MD5 = 'cd']", 2, true, ""},
		{"[a:b = 'x'] OR ([c:d = 'y'] AND [e:f = 'z'])", 3, true, ""},
		{"([a:b = 'x'])", 1, false, ""},
		{"[(a:b = 'x' OR c:d = 'y') AND e:f = 'z']", 3, true, ""},
		{`[a:b = 'it\'s \\ fine']`, 1, false, ""},
		{"[email-message:to_refs[*].value = 'a@example.org']", 1, false, ""},
		{"[file:size > 1024]", 1, false, ""},
		{"[a:b IN ('x', 'y')]", 1, false, ""},
		{"[a:b NOT = 'x']", 1, false, "NOT"},
		{"[a:b = 'x'] FOLLOWEDBY [c:d = 'y']", 2, false, "FOLLOWEDBY"},
		{"[a:b = 'x'] REPEATS 5 TIMES", 1, false, "the REPEATS qualifier"},
		{"[a:b = 'x'] START t'2016-01-01T00:00:00Z' STOP t'2016-02-01T00:00:00Z'", 1, false, "the START/STOP qualifier"},
		{"[EXISTS a:b]", 0, false, "EXISTS"},
		{"[a:b = 'x'", 0, false, "ERR"},
		{"a:b = 'x'", 0, false, "ERR"},
		{"[a:b = 'x]", 0, false, "ERR"},
		{"[a:b 'x']", 0, false, "ERR"},
		{"[a:b = ]", 0, false, "ERR"},
		{"[] ", 0, false, "ERR"},
		{"[a:b = 'x'] junk", 0, false, "ERR"},
		{`[a:b = 'bad \n escape']`, 0, false, "ERR"},
		{strings.Repeat("(", 100) + "[a:b = 'x']" + strings.Repeat(")", 100), 0, false, "ERR"},
	} {
		pp, err := parsePattern(c.pattern)
		if c.unsupported == "ERR" {
			if err == nil {
				t.Errorf("%s: parsed, want a syntax error", c.pattern)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.pattern, err)
			continue
		}
		if len(pp.comparisons) != c.comparisons || pp.hasAnd != c.hasAnd || pp.unsupported != c.unsupported {
			t.Errorf("%s: %d comparisons, and=%v, unsupported=%q", c.pattern, len(pp.comparisons), pp.hasAnd, pp.unsupported)
		}
	}
	pp, _ := parsePattern(`[a:b = 'it\'s \\ fine']`)
	if pp.comparisons[0].value != `it's \ fine` || !pp.comparisons[0].isString {
		t.Errorf("unescaped value %q", pp.comparisons[0].value)
	}
}

func TestSTIXHashSpellings(t *testing.T) {
	const h = "d41d8cd98f00b204e9800998ecf8427e"
	for _, path := range []string{"file:hashes.MD5", "file:hashes.'MD5'", "file:hashes.md5", "file:hashes.'md5'", "artifact:hashes.MD5"} {
		ind, err := stixValue(path, h)
		if err != nil || ind.Kind() != indicator.MD5 {
			t.Errorf("%s: %v, %v", path, ind, err)
		}
	}
	for _, path := range []string{"file:hashes.'SHA-256'", "file:hashes.SHA256", "file:hashes.'sha256'", "file:hashes.'SHA_256'"} {
		if _, err := stixValue(path, strings.Repeat("ab", 32)); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	if _, err := stixValue("file:hashes.'SHA3-256'", "ab"); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("SHA3-256: %v", err)
	}
	if _, err := stixValue("ipv4-addr:value", "2001:db8::1"); err == nil {
		t.Error("an IPv6 value under ipv4-addr accepted")
	}
}

// FuzzReader feeds arbitrary bytes to every format: no panic, no entry
// that is not a valid indicator or whose label or reference Publish would
// refuse, and counts that add up.
func FuzzReader(f *testing.F) {
	for _, p := range []string{"testdata/bundle.json", "testdata/event.json", "testdata/list.csv", "testdata/lines.txt", "testdata/semicolon.csv"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for format := range byte(5) {
			f.Add(format, data)
		}
	}
	f.Fuzz(func(t *testing.T, format byte, data []byte) {
		opts := &Options{Format: Format(format % 5), Kind: indicator.Domain, PhoneRegion: "DE"}
		r := NewReader(bytes.NewReader(data), opts)
		n := 0
		for e := range r.Entries() {
			n++
			again, err := indicator.New(e.Indicator.Kind(), e.Indicator.Value())
			if err != nil || again != e.Indicator {
				t.Fatalf("entry %v is not canonical: %v", e.Indicator, err)
			}
			if match.CheckLabel(e.Ref) != nil || match.CheckLabel(e.Label) != nil {
				t.Fatalf("entry with a reference or label that Publish refuses: %q %q", e.Ref, e.Label)
			}
		}
		s := r.Summary()
		if s.Imported != n || len(r.Rejects()) != s.Rejected+s.Unsupported {
			t.Fatalf("summary %+v for %d entries and %d rejects", s, n, len(r.Rejects()))
		}
	})
}

// FuzzMISPFeed fuzzes the manifest of a feed.
func FuzzMISPFeed(f *testing.F) {
	ev, _ := os.ReadFile("testdata/mispfeed/5f0e0001-0000-4000-8000-000000000000.json")
	man, _ := os.ReadFile("testdata/mispfeed/manifest.json")
	f.Add(man, ev)
	f.Fuzz(func(t *testing.T, manifest, event []byte) {
		fsys := fstest.MapFS{
			"manifest.json": {Data: manifest},
			"5f0e0001-0000-4000-8000-000000000000.json": {Data: event},
		}
		r := NewMISPFeedReader(fsys, nil)
		for range r.Entries() {
		}
	})
}

func FuzzPattern(f *testing.F) {
	for _, s := range []string{"[ipv4-addr:value = '192.0.2.1']", "[a:b = 'x'] FOLLOWEDBY [c:d = 'y'] WITHIN 5 SECONDS",
		"[file:hashes.'SHA-256' = 'ab' AND file:name = 'x']", `[a:b IN ('x', 'y')]`, "[x:y[*].z = t'2020-01-01T00:00:00Z']"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pp, err := parsePattern(s)
		if err != nil {
			return
		}
		for _, c := range pp.comparisons {
			if !strings.Contains(c.path, ":") || c.op == "" {
				t.Fatalf("comparison %+v", c)
			}
		}
	})
}

// A syntax error names a misplaced string or literal by what it is, never
// by its text: strings in patterns are the indicator values. Regression:
// "want a comparison operator, got \"203.0.113.9\"" and the like.
func TestPatternErrorsDoNotQuoteValues(t *testing.T) {
	for _, p := range []string{
		"[ipv4-addr:value 'SECRET-1']",
		"[ipv4-addr:value = 'x'] 'SECRET-2'",
		"['SECRET-3' = 'x']",
		"[ipv4-addr:value = 'x' 'SECRET-4']",
		"[ipv4-addr:value IN 'SECRET-5']",
		"[ipv4-addr:value = 'x'] h'5345435245542d36'",
		"[ipv4-addr:value = 'x'] b'U0VDUkVULTc='",
		"[ipv4-addr:value = 'x'] START 'SECRET-8'",
		"[ipv4-addr:value = 'x'] SECRET-9.example",
		"[ipv4-addr:value SECRET-10:1]",
	} {
		_, err := parsePattern(p)
		if err == nil || strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "5345") || strings.Contains(err.Error(), "U0VD") {
			t.Errorf("%s: %v", p, err)
		}
	}
}
