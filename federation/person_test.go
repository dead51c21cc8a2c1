package federation

import (
	"strings"
	"testing"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/person"
)

// TestPersonKeys runs person records between two nodes: the keys are
// kinds like any other, and the partner policy is by key kind. Agency 0
// lets agency 1 query only the strong keys of persons with a date of
// birth, so a record that shares only a name and a year with its list is
// refused, not matched.
func TestPersonKeys(t *testing.T) {
	born := func(s string) person.Birth {
		b, err := person.ParseBirth(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	list, sum := person.Entries([]person.Record{
		{Name: "Hans-Peter Müller", Birth: born("1970-05-01"), Ref: "A-1", Label: "case 1"},
		{Given: "Anna", Surname: "Berg", Birth: born("1982"), Ref: "A-2", Label: "case 2"},
	})
	if len(sum.Rejected) != 0 {
		t.Fatal(sum.Rejected)
	}
	strong := []string{"person-v1-doc", "person-v1-name-dob", "person-v1-pair-dob"}
	tn := newTestNet(t, [][]match.Entry{list, nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Partners[0].Kinds = strong
		}
	})
	tn.publishAll()
	q, _ := person.NewQuery([]person.Record{
		{Name: "MUELLER, Hans Peter", Birth: born("1970-05-01"), Ref: "B-1"},
		{Name: "Anna Berg", Birth: born("1982-03-04"), Ref: "B-2"},
	})
	res := tn.nodes[1].Match(t.Context(), q.Indicators())
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	r := res[0]
	// The weak kinds were refused by policy; the strong ones answered.
	if r.Err == nil || !strings.Contains(r.Err.Error(), "kind") {
		t.Errorf("want the refusal of the weak kinds, got %v", r.Err)
	}
	hits := q.Hits(r.Hits)
	if len(hits) != 1 || hits[0].Ref != "B-1" || hits[0].Strength != person.Strong || strings.Join(hits[0].Labels, ",") != "case 1" {
		t.Fatalf("hits %+v, want B-1 (strong, case 1) alone", hits)
	}
	for _, rule := range hits[0].Rules {
		if rule.Strength != person.Strong {
			t.Errorf("matched on %v, which the policy refuses", rule.Kind)
		}
	}
}
