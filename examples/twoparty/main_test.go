package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"What B learned (4 of its 8 indicators are on A's list)",
		"email:broker@example.net",
		"domain:xn--bcher-download-gsb.example",
		"ipv4:192.0.2.44",
		"ipv6:2001:db8::1f",
		"B asked about 2 email, 2 domain, 2 ipv4, 1 ipv6, 1 sha256",
		// Two of A's cases share an address: B gets both labels, A
		// learns both entries.
		"A's labels: C2 server, case CERT-2320\n" + strings.Repeat(" ", 55) + "botnet C2, case CERT-2331\n",
		"B also holds A's entry 5: ipv4:192.0.2.44\n  B also holds A's entry 9: ipv4:192.0.2.44\n",
		// Persons written in other scripts meet; a namesake born on
		// another day does not.
		"flight 1  ABDULLAYEV Muhammad    strong on name-dob, pair-dob, phon-dob: returnee from a conflict zone, CT-117",
		"flight 2  Yusuf Ismailov         weak   on name-year, phon-year: facilitator, CT-121",
		"flight 3  Ahmed Al-Hassan        strong on name-dob",
		"flight 4  Mueller, Peter         strong on doc: recruiter, CT-142",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "flight 5") {
		t.Error("a namesake born on another day matched")
	}
	// B's non-shared indicators never appear in what A learned.
	aPart := out.String()[strings.Index(out.String(), "What A learned"):]
	for _, secret := range []string{"treasurer", "legit-shop", "203.0.113.9", "2c26b46b"} {
		if strings.Contains(aPart, secret) {
			t.Errorf("A's part of the output mentions B's non-shared %q", secret)
		}
	}
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.txt", "# CERT list\nExample.COM.\nbad domain.example\nfoo.example\n\nbar.example\n192.0.2.1\n")
	b := write(t, dir, "b.txt", "bar.example\nexample.com\nnot-shared.example\nfoo.example.\n-x.example\n")
	outPath := filepath.Join(dir, "hits.txt")
	var out, errb bytes.Buffer
	code := run([]string{"-kind", "domain", "-a", a, "-b", b, "-out", outPath}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	if want := "bar.example\nexample.com\nfoo.example\n"; string(got) != want {
		t.Errorf("shared = %q, want %q", got, want)
	}
	log := errb.String()
	for _, want := range []string{
		"publisher (-a): lines, 3 imported, 2 rejected, 0 unsupported, 2 skipped",
		a + ": line 3: rejected: invalid domain: has a character not allowed",
		a + ": line 7: rejected: invalid domain: is an IP address",
		"querier (-b): lines, 4 imported, 1 rejected, 0 unsupported, 0 skipped",
		b + ": line 5: rejected: invalid domain: has a label starting or ending with '-'",
		"shared: 3 indicators",
		"filter: 3 distinct entries",
		"bytes: querier -> publisher",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("summary lacks %q:\n%s", want, log)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.txt", "example.com\n")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-kind", "domain"}, 2, "go together"},
		{[]string{"-a", a, "-b", a}, 1, "needs Options.Kind"}, // a line list without -kind
		{[]string{"-a", a, "-b", a, "-format", "xml"}, 2, "unknown format"},
		{[]string{"-kind", "nope", "-a", a, "-b", a}, 2, "unknown indicator kind"},
		{[]string{"-kind", "domain", "-a", a, "-b", filepath.Join(dir, "missing")}, 1, "no such file"},
		{[]string{"extra"}, 2, "unexpected argument"},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != tc.code || !strings.Contains(errb.String(), tc.msg) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, errb.String(), tc.code, tc.msg)
		}
	}
}

// TestFilesHighRate: a publisher's -fpr above the querier's default bound
// still works. Regression test: -fpr 1e-4 was refused by the querier.
func TestFilesHighRate(t *testing.T) {
	dir := t.TempDir()
	var a, b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&a, "host%d.example\n", i)
		fmt.Fprintf(&b, "host%d.example\n", i+250)
	}
	pa, pb := write(t, dir, "a.txt", a.String()), write(t, dir, "b.txt", b.String())
	for _, fpr := range []string{"1e-4", "0.01"} {
		var out, errb bytes.Buffer
		if code := run([]string{"-kind", "domain", "-a", pa, "-b", pb, "-fpr", fpr}, &out, &errb); code != 0 {
			t.Fatalf("-fpr %s: exit %d: %s", fpr, code, errb.String())
		}
		if n := strings.Count(out.String(), "\n"); n != 50 {
			t.Errorf("-fpr %s: %d shared, want 50", fpr, n)
		}
	}
}

// TestFormats matches a STIX bundle against a CSV file and a MISP feed
// against a MISP event: mixed kinds, detected formats.
func TestFormats(t *testing.T) {
	const td = "../../match/feed/testdata/"
	for _, c := range []struct {
		args []string
		want string
		log  []string
	}{
		{[]string{"-a", td + "bundle.json", "-b", td + "list.csv"},
			"email:broker@example.net\nipv4:192.0.2.44\n",
			[]string{"publisher (-a): stix, 11 imported, 3 rejected, 7 unsupported, 2 skipped",
				td + "bundle.json: indicator--00000000-0000-4000-8000-000000000006: unsupported: pattern uses FOLLOWEDBY",
				"querier (-b): csv, 7 imported, 2 rejected, 1 unsupported, 0 skipped"}},
		{[]string{"-a", td + "event.json", "-b", td + "bundle.json", "-region", "DE"},
			"domain:c2.example.org\nemail:broker@example.net\nipv4:192.0.2.44\nipv4-cidr:198.51.100.0/24\nmd5:d41d8cd98f00b204e9800998ecf8427e\nsha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
			[]string{"publisher (-a): misp, 15 imported"}},
		{[]string{"-a", td + "mispfeed", "-b", td + "lines.txt", "-kind", "domain"},
			"",
			[]string{"publisher (-a): misp, 3 imported", "5f0e0003-0000-4000-8000-000000000000.json: rejected: event file cannot be opened"}},
	} {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errb.String())
		}
		want := strings.Split(strings.TrimSpace(c.want), "\n")
		got := strings.Split(strings.TrimSpace(out.String()), "\n")
		slices.Sort(want)
		if c.want == "" {
			want = []string{""}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: shared\n%s\nwant\n%s", c.args, out.String(), strings.Join(want, "\n"))
		}
		for _, l := range c.log {
			if !strings.Contains(errb.String(), l) {
				t.Errorf("%v: summary lacks %q:\n%s", c.args, l, errb.String())
			}
		}
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

func TestPersonFiles(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.csv", "surname;given;dob;document;document_country;ref;label\n"+
		"Абдуллаев;Мухаммед;1991-03-14;;;A-1;case 1\n"+
		"Müller;Hans-Peter;1970;;;A-2;case 2\n"+
		"Müller;Hans-Peter;1970;;;A-3;case 3\n"+
		"Berg;Anna;;C01X00T47;DE;A-4;case 4\n")
	b := write(t, dir, "b.csv", "name,dob,ref,nickname\n"+
		"\"ABDULLAYEV, Muhammad\",14.03.1991,B-1,x\n"+
		"Hans Peter MUELLER,1970-05-01,B-2,y\n"+
		"Anna Berg,1980-01-01,B-3,z\n"+
		"Nobody Here,1980-13-01,B-4,w\n")
	out := filepath.Join(dir, "hits.tsv")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-kind", "person", "-a", a, "-b", b, "-out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "B-1\tcase 1\tperson-v1-name-dob,person-v1-pair-dob,person-v1-phon-dob\n" +
		"B-2\tcase 2\tperson-v1-name-year,person-v1-phon-year\n" +
		"B-2\tcase 3\tperson-v1-name-year,person-v1-phon-year\n" +
		"B-3\tcase 4\tperson-v1-name\n" // A's record has no date of birth: the name alone, weak
	if string(got) != want {
		t.Errorf("hits:\n%s\nwant:\n%s", got, want)
	}
	for _, s := range []string{"unknown columns, not read: nickname", "line 5: rejected: dob", "4 records read"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, stderr.String())
		}
	}
	if code := run([]string{"-kind", "person", "-format", "csv", "-a", a, "-b", b}, &stdout, &stderr); code != 2 {
		t.Errorf("-format with -kind person: exit %d", code)
	}
}

// TestCountOnly: with -count-only the program prints how many of B's
// distinct indicators are on A's list, and no indicator, shared or not,
// on either output.
func TestCountOnly(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.txt", "# CERT list\nExample.COM.\nfoo.example\nbar.example\nonly-a.example\nbad domain.example\n")
	// Three shared, written otherwise; a repeat (counted once); two not
	// shared; one rejected.
	b := write(t, dir, "b.txt", "bar.example\nexample.com\nFOO.example.\nfoo.example\nonly-b.example\nalso-b.example\n-x.example\n")
	var out, errb bytes.Buffer
	if code := run([]string{"-count-only", "-kind", "domain", "-a", a, "-b", b}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || lines[0] != "3" || !strings.HasPrefix(lines[1], "of 5 queried; expected false positives ") {
		t.Fatalf("output %q, want the count 3 and 5 queried", out.String())
	}
	for _, v := range []string{"example.com", "foo", "bar", "only-a", "only-b", "also-b", "x.example"} {
		if strings.Contains(out.String(), v) || strings.Contains(errb.String(), v) {
			t.Errorf("the output names the indicator %q:\n%s\n%s", v, out.String(), errb.String())
		}
	}
	for _, want := range []string{
		"publisher (-a): lines, 4 imported, 1 rejected",
		"querier (-b): lines, 6 imported, 1 rejected",
		"count filter: 4 distinct entries",
		"count: domain: 3 of 5",
		"count: 3 of 5 distinct indicators",
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, errb.String())
		}
	}
	if strings.Contains(errb.String(), "every domain queried") {
		t.Error("a count of 3 of 5 is said to tell which")
	}
}

// TestCountOnlyFormats: on mixed kinds the count is the number of lines
// the revealing exchange prints, and each kind is counted apart.
func TestCountOnlyFormats(t *testing.T) {
	const td = "../../match/feed/testdata/"
	for _, files := range [][]string{
		{td + "bundle.json", td + "list.csv"},
		{td + "event.json", td + "bundle.json"},
	} {
		var shared, sharedErr bytes.Buffer
		if code := run([]string{"-a", files[0], "-b", files[1], "-region", "DE"}, &shared, &sharedErr); code != 0 {
			t.Fatalf("%v: exit %d: %s", files, code, sharedErr.String())
		}
		want := strings.Count(shared.String(), "\n")
		var out, errb bytes.Buffer
		if code := run([]string{"-count-only", "-a", files[0], "-b", files[1], "-region", "DE"}, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", files, code, errb.String())
		}
		if first, _, _ := strings.Cut(out.String(), "\n"); first != fmt.Sprint(want) || want < 2 {
			t.Errorf("%v: count %q, revealing exchange %d", files, first, want)
		}
		for _, ind := range strings.Fields(shared.String()) {
			_, v, _ := strings.Cut(ind, ":")
			if strings.Contains(out.String(), v) || strings.Contains(errb.String(), v) {
				t.Errorf("%v: the output names the shared %q", files, v)
			}
		}
		// Each kind is counted apart; a count that is all of its batch
		// (as a batch of one on the list) comes with a warning that it
		// tells which, and no other does.
		kinds, warned := 0, 0
		for l := range strings.Lines(errb.String()) {
			var kind string
			var n, of int
			if _, err := fmt.Sscanf(l, "count: %s %d of %d\n", &kind, &n, &of); err == nil && strings.HasSuffix(kind, ":") {
				kinds++
				kind = strings.TrimSuffix(kind, ":")
				if warn := strings.Contains(errb.String(), l+"  every "+kind+" queried is on the list"); warn != (n == of) {
					t.Errorf("%v: %q: warning %v", files, l, warn)
				} else if warn {
					warned++
				}
			}
		}
		if kinds < 3 || warned == 0 || warned == kinds {
			t.Errorf("%v: %d kinds counted, %d warned:\n%s", files, kinds, warned, errb.String())
		}
	}
}

func TestCountOnlyUsage(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.txt", "example.com\n")
	p := write(t, dir, "p.csv", "name,dob\nAnna Berg,1980-01-01\n")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-count-only", "-kind", "domain", "-a", a, "-b", a, "-out", filepath.Join(dir, "o")}, "-out does not apply"},
		{[]string{"-count-only", "-kind", "person", "-a", p, "-b", p, "-out", filepath.Join(dir, "o")}, "-out does not apply"},
		{[]string{"-count-only", "-kind", "person", "-format", "csv", "-a", p, "-b", p}, "do not apply to -kind person"},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.msg) || out.Len() != 0 {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errb.String(), tc.msg)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); err == nil {
		t.Error("-out was created although the command was refused")
	}
}

// TestCountOnlyPersons: B's records are counted by one name-dob key each,
// the first: a record whose two name forms are both on A's list counts
// once, two records of one person with one key count once, and records
// that would match only on weaker keys, or have no full date of birth,
// are not counted.
func TestCountOnlyPersons(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.csv", "surname;given;dob;ref;label\n"+
		"Абдуллаев;Мухаммед;1991-03-14;A-1;case 1\n"+
		"Müller;Hans-Peter;1970-05-01;A-2;case 2\n"+
		"Schulz;Otto;1970;A-3;case 3\n"+
		"Berg;Anna;;A-4;case 4\n")
	b := write(t, dir, "b.csv", "name,dob,ref\n"+
		"\"ABDULLAYEV, Muhammad\",14.03.1991,B-1\n"+
		"Muhammad Abdullayev,1991-03-14,B-2\n"+ // B-1's key: merged
		"\"Müller, Hans-Peter\",1970-05-01,B-3\n"+ // two name forms, both A's
		"Anna Berg,1980-01-01,B-4\n"+ // A's record has no date: a weak key only
		"Otto Schulz,1970-02-03,B-5\n"+ // A's has the year only: weak keys only
		"Karl Weber,1965-02-03,B-6\n"+
		"Hans Peter Mueller,1970,B-7\n") // no full date: not counted
	// The revealing exchange finds B-4, B-5 and B-7 too, on weak keys.
	hits := filepath.Join(dir, "hits.tsv")
	var out, errb bytes.Buffer
	if code := run([]string{"-kind", "person", "-a", a, "-b", b, "-out", hits}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	revealed, _ := os.ReadFile(hits)
	for _, ref := range []string{"B-1\t", "B-2\t", "B-3\t", "B-4\t", "B-5\t", "B-7\t"} {
		if !strings.Contains(string(revealed), ref) {
			t.Fatalf("the revealing exchange does not find %s:\n%s", ref, revealed)
		}
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"-count-only", "-kind", "person", "-a", a, "-b", b}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || lines[0] != "2" || !strings.HasPrefix(lines[1], "of 5 queried; ") {
		t.Fatalf("output %q, want 2 of 5", out.String())
	}
	for _, want := range []string{
		"querier (-b): csv, 7 records read",
		"1 records without a full date of birth, not counted; 5 distinct person-v1-name-dob keys counted",
		"count: 2 of 5 distinct person-v1-name-dob keys",
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, errb.String())
		}
	}
	for _, v := range []string{"bdul", "ller", "Berg", "berg", "chulz", "eber", "case", "B-", "A-"} {
		if strings.Contains(out.String(), v) || strings.Contains(errb.String(), v) {
			t.Errorf("the output names %q:\n%s\n%s", v, out.String(), errb.String())
		}
	}
}
