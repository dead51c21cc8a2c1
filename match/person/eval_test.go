package person

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// corpusRecord is a record of testdata/corpus.json.
type corpusRecord struct {
	Name, Given, Surname, Patronymic string
	DOB                              string `json:"dob"`
	Sex, Nationality, Document       string
	DocumentCountry                  string `json:"document_country"`
}

type corpusPair struct {
	ID   string
	Tags []string
	A, B corpusRecord
}

func (c corpusRecord) record(t *testing.T) Record {
	t.Helper()
	b, err := ParseBirth(c.DOB)
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	r := Record{Name: c.Name, Given: c.Given, Surname: c.Surname, Patronymic: c.Patronymic, Birth: b, Sex: c.Sex, Nationality: c.Nationality}
	if c.Document != "" {
		r.Documents = []Document{{Number: c.Document, Country: c.DocumentCountry}}
	}
	return r
}

// rate is a count of pairs that met out of all.
type rate struct{ met, all int }

func (r rate) String() string {
	if r.all == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f%% (%d/%d)", 100*float64(r.met)/float64(r.all), r.met, r.all)
}

func (r rate) frac() float64 { return float64(r.met) / float64(max(r.all, 1)) }

// TestCorpus measures recall on the corpus's pairs of records of one
// person and false matches on its pairs of different people, per rule and
// overall, for pairs where both records have a date of birth and for the
// others, and asserts the figures reached, so that a regression fails.
// The corpus (testdata/corpus.json, its README says how it was made) was
// written independently of this package's rules.
func TestCorpus(t *testing.T) {
	data, err := os.ReadFile("testdata/corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var corpus struct{ Same, Different []corpusPair }
	if err := json.Unmarshal(data, &corpus); err != nil {
		t.Fatal(err)
	}
	if len(corpus.Same) < 300 || len(corpus.Different) < 3000 {
		t.Fatalf("corpus of %d same and %d different pairs", len(corpus.Same), len(corpus.Different))
	}
	type stats struct {
		overall, strongMedium rate
		byRule                map[string]*rate
	}
	newStats := func() *stats { return &stats{byRule: map[string]*rate{}} }
	// [same, different] × [both dated, other]
	var all [2][2]*stats
	for i := range all {
		for j := range all[i] {
			all[i][j] = newStats()
		}
	}
	var keys, maxKeys, records int
	var missed []string
	for s, pairs := range [][]corpusPair{corpus.Same, corpus.Different} {
		for _, p := range pairs {
			a, b := p.A.record(t), p.B.record(t)
			ab, nab := meetRules(t, a, b)
			ba, nba := meetRules(t, b, a)
			nab = [2]int{max(nab[0], nba[1]), max(nab[1], nba[0])}
			if !slices.Equal(ab, ba) && max(nab[0], nab[1]) < MaxKeys {
				t.Errorf("%s: a meets b on %v, b meets a on %v", p.ID, ab, ba)
			}
			keys += nab[0] + nab[1]
			maxKeys = max(maxKeys, nab[0], nab[1])
			records += 2
			dated := 1
			if a.Birth != (Birth{}) && b.Birth != (Birth{}) {
				dated = 0
			}
			st := all[s][dated]
			st.overall.all++
			st.strongMedium.all++
			if len(ab) > 0 {
				st.overall.met++
			} else if s == 0 {
				missed = append(missed, p.ID+" "+strings.Join(p.Tags, ","))
			}
			if slices.ContainsFunc(ab, func(k string) bool { r, _ := lookupRule(k); return r.Strength >= Medium }) {
				st.strongMedium.met++
			}
			for _, r := range rules {
				k := r.Kind.Name()
				if st.byRule[k] == nil {
					st.byRule[k] = &rate{}
				}
				st.byRule[k].all++
				if slices.Contains(ab, k) {
					st.byRule[k].met++
				}
			}
		}
	}
	names := [2]string{"both dated", "a record undated"}
	for d := range 2 {
		t.Logf("%s: recall %v (strong or medium: %v); false matches %v (strong or medium: %v)", names[d],
			all[0][d].overall, all[0][d].strongMedium, all[1][d].overall, all[1][d].strongMedium)
		for _, r := range rules {
			k := r.Kind.Name()
			t.Logf("  %-20s recall %-22v false matches %v", k, all[0][d].byRule[k], all[1][d].byRule[k])
		}
	}
	t.Logf("keys per record: mean %.1f, max %d", float64(keys)/float64(records), maxKeys)
	if len(missed) > 0 {
		t.Logf("same-person pairs missed (%d): %s", len(missed), strings.Join(missed, "; "))
	}
	// The figures reached, asserted (the targets are recall ≥ 90%
	// and false matches ≤ 0.5% for dated records).
	if r := all[0][0].overall.frac(); r < 0.90 {
		t.Errorf("recall of dated pairs %v, below 90%%", all[0][0].overall)
	}
	if f := all[1][0].overall.frac(); f > 0.005 {
		t.Errorf("false matches of dated pairs %v, above 0.5%%", all[1][0].overall)
	}
}

func lookupRule(kind string) (Rule, bool) {
	k, err := indicator.Lookup(kind)
	if err != nil {
		return Rule{}, false
	}
	return RuleOf(k)
}

// meetRules returns the rules on which q (querier) meets p (publisher),
// strongest first, and the numbers of keys each made.
func meetRules(t *testing.T, q, p Record) ([]string, [2]int) {
	t.Helper()
	qk, _, err := Keys(q, Querier)
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	pk, _, err := Keys(p, Publisher)
	if err != nil {
		t.Fatalf("%+v: %v", p, err)
	}
	pub := map[indicator.Indicator]bool{}
	for _, k := range pk {
		pub[k.Indicator] = true
	}
	var out []string
	for _, k := range qk {
		if pub[k.Indicator] && !slices.Contains(out, k.Rule.Kind.Name()) {
			out = append(out, k.Rule.Kind.Name())
		}
	}
	return out, [2]int{len(qk), len(pk)}
}
