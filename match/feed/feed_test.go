package feed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// run reads a fixture and returns its entries and rejects as text.
func run(t *testing.T, path string, opts *Options) (entries, rejects []string, r *Reader) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return runBytes(t, data, opts)
}

func runBytes(t *testing.T, data []byte, opts *Options) (entries, rejects []string, r *Reader) {
	t.Helper()
	r = NewReader(bytes.NewReader(data), opts)
	return collect(t, r)
}

func collect(t *testing.T, r *Reader) (entries, rejects []string, _ *Reader) {
	t.Helper()
	for e := range r.Entries() {
		entries = append(entries, fmt.Sprintf("%v %s %q", e.Indicator, e.Ref, e.Label))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	for _, rj := range r.Rejects() {
		rejects = append(rejects, rj.String())
	}
	return entries, rejects, r
}

func check(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got:\n\t%s\nwant:\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func checkSummary(t *testing.T, r *Reader, want Summary) {
	t.Helper()
	if got := r.Summary(); got != want {
		t.Errorf("summary %+v, want %+v", got, want)
	}
}

const ind = "indicator--00000000-0000-4000-8000-0000000000"

func TestSTIX(t *testing.T) {
	entries, rejects, r := run(t, "testdata/bundle.json", nil)
	check(t, "entries", entries, []string{
		"ipv4:192.0.2.44 " + ind + "01 \"\"",
		"domain:c2.example.org " + ind + "01 \"\"",
		"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 " + ind + "02 \"\"",
		"md5:d41d8cd98f00b204e9800998ecf8427e " + ind + "02 \"\"",
		"sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709 " + ind + "03 \"\"",
		"sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e " + ind + "03 \"\"",
		"ipv4-cidr:198.51.100.0/24 " + ind + "05 \"\"",
		"ipv6:2001:db8::1 " + ind + "05 \"\"",
		"email:broker@example.net " + ind + "11 \"\"",
		"email:o'brien@example.ie " + ind + "13 \"\"",
		"url:https://example.ie/o'brien " + ind + "13 \"\"",
	})
	check(t, "rejects", rejects, []string{
		ind + "04: unsupported: AND with a comparison that cannot be imported: object path file:name is not supported",
		ind + "05: unsupported: object path mac-addr:value is not supported",
		ind + "06: unsupported: pattern uses FOLLOWEDBY",
		ind + "07: unsupported: pattern uses the WITHIN qualifier",
		ind + "08: unsupported: comparison 1 uses the operator MATCHES",
		ind + "09: unsupported: pattern_type sigma is not supported (only stix)",
		ind + "10: unsupported: revoked indicator",
		ind + "11 comparison 1: rejected: invalid ip: not an IP address",
		ind + "12: rejected: malformed pattern: pattern ends too early",
		ind + "14: rejected: no pattern",
	})
	// Two objects (an identity and a relationship) are not indicators.
	checkSummary(t, r, Summary{Format: STIX, Imported: 11, Rejected: 3, Unsupported: 7, Skipped: 2})
}

func TestSTIXShapes(t *testing.T) {
	one := `{"type": "indicator", "id": "indicator--1", "pattern_type": "stix", "pattern": "[domain-name:value = 'example.com']"}`
	for name, data := range map[string]string{
		"single object": one,
		"array":         "[" + one + "]",
		"bundle":        `{"type": "bundle", "id": "bundle--1", "objects": [` + one + `]}`,
		"objects first": `{"objects": [` + one + `], "type": "bundle"}`,
	} {
		entries, rejects, _ := runBytes(t, []byte(data), &Options{Format: STIX})
		if len(entries) != 1 || len(rejects) != 0 || !strings.HasPrefix(entries[0], "domain:example.com indicator--1") {
			t.Errorf("%s: %v %v", name, entries, rejects)
		}
	}
}

func TestMISP(t *testing.T) {
	entries, rejects, r := run(t, "testdata/event.json", &Options{PhoneRegion: "DE"})
	a := func(n string) string { return "a00000" + n + "-0000-4000-8000-000000000000" }
	check(t, "entries", entries, []string{
		"ipv4:192.0.2.44 " + a("01") + ` ""`,
		"ipv6:2001:db8::1f " + a("02") + ` ""`,
		"ipv4-cidr:198.51.100.0/24 " + a("03") + ` ""`,
		"domain:c2.example.org " + a("04") + ` ""`,
		"ipv4:203.0.113.9 " + a("04") + ` ""`,
		"domain:mail.example.net " + a("05") + ` ""`,
		"ipv4:192.0.2.45 " + a("06") + ` ""`,
		"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 " + a("07") + ` ""`,
		"md5:d41d8cd98f00b204e9800998ecf8427e " + a("08") + ` ""`,
		"email:broker@example.net " + a("09") + ` ""`,
		"url:https://pay.example.com/a/b " + a("10") + ` ""`,
		"btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa " + a("11") + ` ""`,
		"iban:DE89370400440532013000 " + a("12") + ` ""`,
		"phone:+49301234567 " + a("13") + ` ""`,
		"document:DEU:C01X00T47 " + a("19") + ` ""`,
	})
	check(t, "rejects", rejects, []string{
		"attribute " + a("14") + ": unsupported: attribute type link is not supported",
		"attribute " + a("15") + ": rejected: invalid md5: not hexadecimal (a character other than 0-9, a-f and A-F)",
		"attribute " + a("16") + ": rejected: composite type domain|ip with 1 value parts",
		"attribute " + a("17") + ": unsupported: deleted attribute",
		"attribute " + a("18") + ": unsupported: composite type filename|pehash has no supported part",
		"attribute " + a("20") + ": unsupported: attribute type text is not supported",
		"attribute " + a("21") + ": rejected: passport number without an issuing country (in the value, or a passport-country attribute of its object)",
	})
	checkSummary(t, r, Summary{Format: MISP, Imported: 15, Rejected: 3, Unsupported: 4})

	// Without a phone region the national number is rejected, not guessed.
	_, rejects, _ = run(t, "testdata/event.json", nil)
	if !slices.Contains(rejects, "attribute "+a("13")+": rejected: invalid phone: national format (no '+' or '00'): the default country is needed, see ParsePhone") {
		t.Errorf("national phone number without a region: %v", rejects)
	}
}

func TestMISPShapes(t *testing.T) {
	ev := `{"uuid": "e1", "info": "x", "Attribute": [{"uuid": "u1", "type": "domain", "value": "example.com"}]}`
	for name, data := range map[string]string{
		"bare event":   ev,
		"wrapper":      `{"Event": ` + ev + `}`,
		"api response": `{"response": [{"Event": ` + ev + `}]}`,
		"list":         `[{"Event": ` + ev + `}]`,
		"string bools": `{"Event": {"Attribute": [{"uuid": "u1", "type": "domain", "value": "example.com", "deleted": "0"}]}}`,
	} {
		entries, rejects, _ := runBytes(t, []byte(data), &Options{Format: MISP})
		if len(entries) != 1 || len(rejects) != 0 || !strings.HasPrefix(entries[0], "domain:example.com u1") {
			t.Errorf("%s: %v %v", name, entries, rejects)
		}
	}
}

func TestMISPFeed(t *testing.T) {
	fsys := os.DirFS("testdata/mispfeed")
	r := NewMISPFeedReader(fsys, &Options{Label: func(s Source) string { return s.Name }})
	entries, rejects, _ := collect(t, r)
	check(t, "entries", entries, []string{
		`domain:feed-one.example.com c0000001-0000-4000-8000-000000000000 "first"`,
		`ipv4:192.0.2.10 c0000002-0000-4000-8000-000000000000 "first"`,
		`sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709 c0000003-0000-4000-8000-000000000000 "second"`,
	})
	check(t, "rejects", rejects, []string{
		"5f0e0002-0000-4000-8000-000000000000.json: attribute c0000004-0000-4000-8000-000000000000: unsupported: attribute type comment is not supported",
		"5f0e0003-0000-4000-8000-000000000000.json: rejected: event file cannot be opened",
	})
	// A manifest naming a path outside the feed is refused.
	bad := fstest.MapFS{"manifest.json": {Data: []byte(`{"../secret": {}}`)}}
	_, rejects, _ = collect(t, NewMISPFeedReader(bad, nil))
	check(t, "path in manifest", rejects, []string{"manifest.json: rejected: event id ../secret is not a file name"})
}

func TestCSV(t *testing.T) {
	entries, rejects, r := run(t, "testdata/list.csv", nil)
	check(t, "entries", entries, []string{
		`domain:www.example.com case-101 "phishing kit"`,
		`ipv4:192.0.2.44 case-102 "C2"`,
		`ipv6:2001:db8::1f case-103 ""`,
		`email:broker@example.net case-104 "negotiator"`,
		`iban:DE89370400440532013000 case-105 "mule account"`,
		`phone:+442079460018 case-109 "contact, night shift"`,
		`url:http://example.com/a,b case-110 ""`,
	})
	check(t, "rejects", rejects, []string{
		"line 8: rejected: invalid sha256: not hexadecimal (a character other than 0-9, a-f and A-F)",
		`line 9: unsupported: kind "mutex" is not supported`,
		"line 10: rejected: no kind",
	})
	checkSummary(t, r, Summary{Format: CSV, Imported: 7, Rejected: 2, Unsupported: 1})

	entries, _, r = run(t, "testdata/semicolon.csv", nil)
	check(t, "semicolons", entries, []string{`ipv4:192.0.2.1 line 2 ""`, `domain:example.org line 3 ""`})
	if r.Summary().Format != CSV {
		t.Errorf("semicolon CSV detected as %v", r.Summary().Format)
	}

	// A fixed kind, named columns, and a label function.
	data := "IOC,Case\nexample.com,7\nexample.org,8\n"
	entries, _, _ = runBytes(t, []byte(data), &Options{Format: CSV, Kind: mustKind("domain"), RefColumn: "case",
		Label: func(s Source) string { return "seen at " + s.Where }})
	check(t, "fixed kind", entries, []string{`domain:example.com 7 "seen at line 2"`, `domain:example.org 8 "seen at line 3"`})

	for name, data := range map[string]string{
		"no value column": "kind,thing\nip,1.2.3.4\n",
		"no kind":         "value\nexample.com\n",
		"empty":           "",
	} {
		r := NewReader(strings.NewReader(data), &Options{Format: CSV})
		for range r.Entries() {
		}
		if r.Err() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestLines(t *testing.T) {
	entries, rejects, r := run(t, "testdata/lines.txt", &Options{Kind: mustKind("domain")})
	check(t, "entries", entries, []string{
		`domain:example.com line 2 ""`, `domain:www.example.org line 3 ""`, `domain:xn--bcher-kva.example line 6 ""`,
	})
	check(t, "rejects", rejects, []string{"line 5: rejected: invalid domain: has a character not allowed in a domain name"})
	checkSummary(t, r, Summary{Format: Lines, Imported: 3, Rejected: 1, Skipped: 2})

	// A line list needs a kind.
	r = NewReader(strings.NewReader("example.com\n"), nil)
	for range r.Entries() {
	}
	if r.Err() == nil {
		t.Error("line list without a kind: no error")
	}
	// A line above the limit is one rejected line, and reading goes on.
	long := strings.Repeat("a", maxLineBytes+10) + "\nexample.com\n"
	entries, rejects, _ = runBytes(t, []byte(long), &Options{Kind: mustKind("domain")})
	check(t, "long line", rejects, []string{fmt.Sprintf("line 1: rejected: line longer than %d bytes", maxLineBytes)})
	check(t, "after the long line", entries, []string{`domain:example.com line 2 ""`})
	// National phone numbers with a region.
	entries, _, _ = runBytes(t, []byte("020 7946 0018\n+49 30 1234567\n"), &Options{Kind: mustKind("phone"), PhoneRegion: "GB"})
	check(t, "phones", entries, []string{`phone:+442079460018 line 1 ""`, `phone:+49301234567 line 2 ""`})
}

func TestDetect(t *testing.T) {
	for path, want := range map[string]Format{
		"testdata/bundle.json": STIX, "testdata/event.json": MISP, "testdata/list.csv": CSV,
		"testdata/semicolon.csv": CSV, "testdata/lines.txt": Lines,
	} {
		data, _ := os.ReadFile(path)
		r := NewReader(bytes.NewReader(data), &Options{Kind: mustKind("domain")})
		for range r.Entries() {
		}
		if r.Summary().Format != want || r.Err() != nil {
			t.Errorf("%s detected as %v (%v), want %v", path, r.Summary().Format, r.Err(), want)
		}
	}
	for _, c := range []struct {
		data   string
		format Format
	}{
		{`{"some": "json"}`, Auto},
		{`{"some": "json"}`, MISP},
		{`{"some": "json"}`, STIX},
		{`{"Event": {"info": "x", "Attribute": []}}`, STIX}, // a MISP event read as STIX
		{`{"type": "bundle", "objects": []}`, MISP},         // a STIX bundle read as MISP
	} {
		r := NewReader(strings.NewReader(c.data), &Options{Format: c.format})
		for range r.Entries() {
		}
		if r.Err() == nil {
			t.Errorf("%s as %v: no error", c.data, c.format)
		}
	}
	for _, s := range []string{"stix", "MISP", "csv", "lines", "auto", ""} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) accepted")
	}
}

func TestOnRejectAndStop(t *testing.T) {
	var got []Reject
	r := NewReader(strings.NewReader("a\nexample.com\nb\nexample.org\nexample.net\n"),
		&Options{Kind: mustKind("domain"), OnReject: func(rj Reject) { got = append(got, rj) }})
	n := 0
	for range r.Entries() {
		n++
		if n == 2 {
			break // the consumer stops: reading stops, without error
		}
	}
	if n != 2 || r.Err() != nil || len(got) != 2 || len(r.Rejects()) != 0 || r.Summary().Imported != 2 {
		t.Errorf("%d entries, err %v, %d rejects to the callback, %d kept", n, r.Err(), len(got), len(r.Rejects()))
	}
	for range r.Entries() {
	}
	if r.Err() == nil {
		t.Error("second range: no error")
	}
}

// TestBrokenJSON: a JSON input cut anywhere ends with an error (or, cut
// between records, with fewer entries), never a panic, never an entry
// that is not in the whole input.
func TestBrokenJSON(t *testing.T) {
	for _, path := range []string{"testdata/bundle.json", "testdata/event.json"} {
		data, _ := os.ReadFile(path)
		full, _, _ := run(t, path, &Options{PhoneRegion: "DE"})
		for n := range len(data) {
			r := NewReader(bytes.NewReader(data[:n]), &Options{PhoneRegion: "DE"})
			i := 0
			for e := range r.Entries() {
				if i >= len(full) || !strings.HasPrefix(full[i], e.Indicator.String()+" ") {
					t.Fatalf("%s cut at %d: entry %d is %v", path, n, i, e.Indicator)
				}
				i++
			}
			if r.Err() == nil && n < len(bytes.TrimRight(data, "\n")) {
				t.Fatalf("%s cut at %d of %d: no error", path, n, len(data))
			}
		}
	}
}

// TestLargeInputs: inputs far larger than MaxRecordBytes, made of
// ordinary records, import whole.
func TestLargeInputs(t *testing.T) {
	const n = 40000 // about 8 MB of STIX, 6 MB of MISP
	for _, c := range []struct {
		name string
		data []byte
	}{{"stix", syntheticSTIX(n)}, {"misp", syntheticMISP(n)}, {"csv", syntheticCSV(n)}, {"lines", syntheticLines(n)}} {
		if len(c.data) < MaxRecordBytes && c.name != "lines" && c.name != "csv" {
			t.Fatalf("%s input of %d bytes is not large", c.name, len(c.data))
		}
		r := NewReader(bytes.NewReader(c.data), &Options{Kind: mustKind("domain")})
		got := 0
		for range r.Entries() {
			got++
		}
		if got != n || r.Err() != nil {
			t.Errorf("%s: %d of %d entries, %v", c.name, got, n, r.Err())
		}
	}
}

func TestRecordTooLarge(t *testing.T) {
	big := `{"type": "bundle", "objects": [{"type": "indicator", "id": "indicator--1", "pattern_type": "stix", "pattern": "[domain-name:value = '` +
		strings.Repeat("a", MaxRecordBytes+256<<10) + `']"}]}`
	r := NewReader(strings.NewReader(big), nil)
	for range r.Entries() {
	}
	if !errors.Is(r.Err(), ErrRecordTooLarge) {
		t.Errorf("oversized STIX object: %v", r.Err())
	}
	row := "kind,value\ndomain," + strings.Repeat("a", MaxRecordBytes+256<<10) + "\n"
	r = NewReader(strings.NewReader(row), nil)
	for range r.Entries() {
	}
	if !errors.Is(r.Err(), ErrRecordTooLarge) {
		t.Errorf("oversized CSV row: %v", r.Err())
	}
}

// genReader produces a document of n records on the fly: head, n
// records, tail, without holding it in memory.
type genReader struct {
	head, tail string
	rec        func(i int) string
	n, i       int
	buf        []byte
	done       bool
}

func (g *genReader) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		switch {
		case g.head != "":
			g.buf, g.head = []byte(g.head), ""
		case g.i < g.n:
			g.buf = []byte(g.rec(g.i))
			g.i++
		case !g.done:
			g.buf, g.done = []byte(g.tail), true
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// TestStreamingMemory imports inputs of about 60 MB in every format and
// checks that the heap stays far below the input size: the importers
// stream.
func TestStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 60 MB per format")
	}
	const n = 250000
	pad := strings.Repeat("x", 160)
	for _, c := range []struct {
		name string
		gen  *genReader
		opts Options
	}{
		{"stix", &genReader{head: `{"type": "bundle", "objects": [`, tail: "]}", n: n, rec: func(i int) string {
			sep := ","
			if i == 0 {
				sep = ""
			}
			return fmt.Sprintf(`%s{"type": "indicator", "id": "indicator--%d", "description": "%s", "pattern_type": "stix", "pattern": "[domain-name:value = 'h%d.example.com']"}`, sep, i, pad, i)
		}}, Options{}},
		{"misp", &genReader{head: `{"Event": {"info": "big", "Attribute": [`, tail: "]}}", n: n, rec: func(i int) string {
			sep := ","
			if i == 0 {
				sep = ""
			}
			return fmt.Sprintf(`%s{"uuid": "u%d", "type": "domain", "comment": "%s", "value": "h%d.example.com"}`, sep, i, pad, i)
		}}, Options{}},
		{"csv", &genReader{head: "kind,value,label\n", n: n, rec: func(i int) string {
			return fmt.Sprintf("domain,h%d.example.com,%s\n", i, pad)
		}}, Options{}},
		{"lines", &genReader{n: n, rec: func(i int) string { return fmt.Sprintf("h%d.%s.example.com\n", i, pad[:60]) }}, Options{Kind: mustKind("domain")}},
	} {
		r := NewReader(c.gen, &c.opts)
		var peak uint64
		var ms runtime.MemStats
		seen := 0
		for range r.Entries() {
			if seen++; seen%25000 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
		s := r.Summary()
		if r.Err() != nil || s.Imported+s.Rejected != n {
			t.Fatalf("%s: %v, %+v", c.name, r.Err(), s)
		}
		if peak > 24<<20 {
			t.Errorf("%s: heap reached %d MiB while streaming", c.name, peak>>20)
		}
		t.Logf("%s: %d records, heap peak %.1f MiB", c.name, n, float64(peak)/(1<<20))
	}
}
