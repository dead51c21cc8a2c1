package person

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// meet returns the rules on which a querier's record q meets a
// publisher's record p, strongest first.
func meet(t *testing.T, q, p Record) []string {
	t.Helper()
	rules, _ := meetRules(t, q, p)
	return rules
}

func birth(t *testing.T, s string) Birth {
	t.Helper()
	b, err := ParseBirth(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeysMeet checks which rules two records meet on, in both roles:
// dates of birth of different precision meet only on the keys their
// common precision allows, and two full dates that differ never meet.
func TestKeysMeet(t *testing.T) {
	name := func(n, dob string) Record { return Record{Name: n, Birth: birth(t, dob)} }
	tests := []struct {
		q, p Record
		want string // rule kinds, strongest first, space-separated; "" for none
	}{
		{name("Hans Peter Mueller", "1970-05-01"), name("MUELLER, Peter Hans", "1970-05-01"),
			"person-v1-name-dob person-v1-pair-dob person-v1-phon-dob"},
		{name("Hans Mueller", "1970-05-01"), name("Hans Peter Mueller", "1970-05-01"),
			"person-v1-pair-dob person-v1-phon-dob"},
		// A full date and a year: only the year keys, both ways.
		{name("Hans Mueller", "1970-05-01"), name("Hans Mueller", "1970"),
			"person-v1-name-year person-v1-phon-year"},
		{name("Hans Mueller", "1970"), name("Hans Mueller", "1970-05-01"),
			"person-v1-name-year person-v1-phon-year"},
		{name("Hans Mueller", "1970"), name("Hans Mueller", "1970"),
			"person-v1-name-year person-v1-phon-year"},
		{name("Hans Mueller", "1968/1972"), name("Hans Mueller", "1970-05-01"),
			"person-v1-name-year person-v1-phon-year"},
		{name("Hans Mueller", "1970-05"), name("Hans Mueller", "1970-05-01"),
			"person-v1-name-year person-v1-phon-year"},
		// Namesakes with different full dates, even in the same year, and
		// with years apart: nothing.
		{name("Hans Mueller", "1970-05-01"), name("Hans Mueller", "1970-06-01"), ""},
		{name("Hans Mueller", "1970"), name("Hans Mueller", "1971-06-01"), ""},
		{name("Hans Mueller", "1970"), name("Hans Mueller", "1971"), ""},
		// No date on one side: the name alone, both ways; a full date on
		// both sides never meets on the name alone.
		{name("Hans Mueller", ""), name("Hans Mueller", "1970-05-01"), "person-v1-name"},
		{name("Hans Mueller", "1970-05-01"), name("Hans Mueller", ""), "person-v1-name"},
		{name("Hans Mueller", ""), name("Hans Mueller", ""), "person-v1-name"},
		{name("Hans Mueller", "1970"), name("Hans Mueller", ""), "person-v1-name"},
		// Different people of one date.
		{name("Hans Mueller", "1970-05-01"), name("Peter Schmidt", "1970-05-01"), ""},
	}
	for _, tt := range tests {
		if got := strings.Join(meet(t, tt.q, tt.p), " "); got != tt.want {
			t.Errorf("%s (%v) querying %s (%v): met on %q, want %q", tt.q.Name, tt.q.Birth, tt.p.Name, tt.p.Birth, got, tt.want)
		}
	}
}

func TestKeysDocument(t *testing.T) {
	q := Record{Name: "Anna Berg", Documents: []Document{{Number: "c01x-00t47", Country: "DE"}}}
	p := Record{Name: "Someone Else", Birth: birth(t, "1980-01-01"), Documents: []Document{{Number: "C01X00T47", Country: "DEU"}}}
	if got := meet(t, q, p); !slices.Equal(got, []string{"person-v1-doc"}) {
		t.Errorf("met on %v, want the document alone", got)
	}
	other := p
	other.Documents = []Document{{Number: "C01X00T47", Country: "AUT"}}
	if got := meet(t, q, other); len(got) != 0 {
		t.Errorf("a number of another issuer: met on %v", got)
	}
	// A document alone is a record.
	if keys, _, err := Keys(Record{Documents: q.Documents}, Publisher); err != nil || len(keys) != 1 {
		t.Errorf("document alone: %v, %v", keys, err)
	}
}

func TestKeysOrderIndependent(t *testing.T) {
	b := birth(t, "1985-04-12")
	recs := []Record{
		{Name: "Hans Peter Mueller", Birth: b},
		{Name: "Mueller, Hans Peter", Birth: b},
		{Name: "Peter Mueller Hans", Birth: b},
		{Given: "Hans Peter", Surname: "Mueller", Birth: b},
		{Given: "Peter Hans", Surname: "Mueller", Birth: b},
	}
	var first []Key
	for i, rec := range recs {
		for _, role := range []Role{Publisher, Querier} {
			keys, _, err := Keys(rec, role)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 && role == Publisher {
				first = keys
			}
			if role == Publisher && !slices.Equal(keys, first) {
				t.Errorf("record %d: keys differ from record 0's", i)
			}
		}
	}
}

func TestKeysErrors(t *testing.T) {
	secret := "Zebediah"
	tests := []struct {
		rec  Record
		want string
	}{
		{Record{}, "no name"},
		{Record{Name: "123 ---"}, "no name"},
		{Record{Name: secret, Documents: []Document{{Number: "X" + secret}}}, "no issuing country"},
		{Record{Name: secret, Documents: []Document{{Number: secret + "!", Country: "DE"}}}, "document 1"},
		{Record{Name: secret, Documents: []Document{{Number: "1", Country: secret}}}, "document 1"},
		{Record{Name: secret, Birth: Birth{Year: 1970, Month: 2, Day: 30}}, "no such month or day"},
		{Record{Name: secret, Birth: Birth{Year: 1970, ToYear: 1990}}, "range"},
	}
	for _, tt := range tests {
		for _, role := range []Role{Publisher, Querier} {
			_, _, err := Keys(tt.rec, role)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%+v: %v, want an error about %q", tt.rec, err, tt.want)
			} else if strings.Contains(strings.ToLower(err.Error()), "zebediah") {
				t.Errorf("error quotes the value: %v", err)
			}
		}
	}
	if _, _, err := Keys(Record{}, Querier); !errors.Is(err, ErrNoName) {
		t.Errorf("empty record: %v, want ErrNoName", err)
	}
	if _, _, err := Keys(Record{Name: "A B"}, 0); err == nil {
		t.Error("role 0 accepted")
	}
}

// TestKeysBounded checks that a record with many names and a range of
// years stays within MaxKeys, keeps its strongest keys, and says how
// many it left out.
func TestKeysBounded(t *testing.T) {
	rec := Record{Name: "Alpha Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliett", Birth: birth(t, "1960/1969")}
	keys, info, err := Keys(rec, Querier)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(keys); i++ {
		if ruleIndex(keys[i].Rule) < ruleIndex(keys[i-1].Rule) {
			t.Fatalf("key %d (%v) after a weaker one", i, keys[i].Rule.Kind)
		}
	}
	// Documents come first and are not bounded otherwise.
	n := len(keys) + info.Dropped
	for i := range MaxDocuments {
		rec.Documents = append(rec.Documents, Document{Number: strconv.Itoa(i), Country: "FR"})
	}
	keys, info, err = Keys(rec, Querier)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != min(MaxKeys, n+MaxDocuments) || info.Dropped != max(0, n+MaxDocuments-MaxKeys) {
		t.Fatalf("%d keys, %d dropped; want %d in all", len(keys), info.Dropped, n+MaxDocuments)
	}
	for i, k := range keys[:MaxDocuments] {
		if k.Rule != RuleDocument {
			t.Fatalf("key %d: a %v key kept before a document", i, k.Rule.Kind)
		}
	}
	rec.Documents = append(rec.Documents, Document{Number: "X", Country: "FR"})
	if _, _, err := Keys(rec, Querier); err == nil {
		t.Errorf("%d documents accepted", len(rec.Documents))
	}
}

func TestParseBirth(t *testing.T) {
	good := map[string]string{
		"": "", "1965": "1965", "1965-03": "1965-03", "1965-03-07": "1965-03-07", "07.03.1965": "1965-03-07",
		"1965/1969": "1965/1969", "1965-1969": "1965/1969", " 2000-02-29 ": "2000-02-29",
	}
	for in, want := range good {
		b, err := ParseBirth(in)
		if err != nil || b.String() != want {
			t.Errorf("ParseBirth(%q) = %v, %v; want %s", in, b, err, want)
		}
	}
	for _, in := range []string{"65", "1965-13", "1965-02-30", "1900-02-29", "1969/1965", "1950/1970", "x", "1965-03-07-01", "0999", "03/07/1965"} {
		if b, err := ParseBirth(in); err == nil {
			t.Errorf("ParseBirth(%q) = %v, want an error", in, b)
		}
	}
}

// FuzzKeys checks that making keys never panics, that every key is a
// valid indicator of its rule's kind, and that a record's keys do not
// depend on the order of its name parts (given names and surname either
// way round), for names within the bounds (past them, which words and
// forms are kept depends on the order) and without a word that joins the
// next (a particle, "abd", "abu"), which joins across parts.
func FuzzKeys(f *testing.F) {
	for _, s := range []string{"Hans-Peter Müller", "Мухаммед Абдуллаев", "محمد عبد الله", "Ludwig van Beethoven", "Γεώργιος Παπαδόπουλος", "דוד כהן", ""} {
		f.Add(s, "Berg", "1970-05-01")
		f.Add("Anna", s, "1970")
	}
	f.Fuzz(func(t *testing.T, given, surname, dob string) {
		b, err := ParseBirth(dob)
		if err != nil {
			return
		}
		keys, info, err := Keys(Record{Given: given, Surname: surname, Birth: b}, Publisher)
		if err != nil {
			if !errors.Is(err, ErrNoName) {
				t.Fatalf("%v", err)
			}
			return
		}
		for _, k := range keys {
			if _, err := indicator.New(k.Rule.Kind, k.Indicator.Value()); err != nil {
				t.Fatalf("key %v: %v", k.Indicator, err)
			}
		}
		if info.FormsTruncated || info.Dropped > 0 || joins(given) || joins(surname) {
			return
		}
		rev, info2, err := Keys(Record{Given: surname, Surname: given, Birth: b}, Publisher)
		if err != nil || info2.FormsTruncated || info2.Dropped > 0 {
			t.Fatalf("the parts swapped: %v, %+v", err, info2)
		}
		set := func(ks []Key) []string {
			var out []string
			for _, k := range ks {
				out = append(out, k.Indicator.String())
			}
			slices.Sort(out)
			return out
		}
		if !slices.Equal(set(keys), set(rev)) {
			t.Fatalf("%q %q and the parts swapped make different keys", given, surname)
		}
	})
}

// joins reports whether a name part has a word that is joined to the
// next one, or a comma (which reorders).
func joins(part string) bool {
	if strings.ContainsAny(part, ",،") || strings.Contains(part, "عبد") {
		return true
	}
	forms, _ := normalizeName(part)
	forms = append(forms, strings.FieldsFunc(strings.ToLower(part), func(r rune) bool { return !unicode.IsLetter(r) }))
	// Every spelling of every word: a particle may be one only once
	// transliterated ("λα" is "la").
	raw, _ := splitWords(norm.NFKC.String(part))
	mode := cyrillicMode(raw)
	for _, w := range raw {
		t := transliterate(w, mode)
		forms = append(forms, t[:])
	}
	for _, f := range forms {
		for _, w := range f {
			if particles[w] || glueNext[w] || articles[w] || honorifics[w] || w == "o" || w == "mc" || w == "mac" || strings.HasPrefix(w, "abd") || strings.HasPrefix(w, "abu") {
				return true
			}
		}
	}
	return false
}
