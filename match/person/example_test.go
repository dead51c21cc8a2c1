package person_test

import (
	"fmt"
	"log"
	"slices"
	"strings"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
	"github.com/fedmatch/fedmatch/match/person"
)

// Agency A publishes its persons of interest, written as its sources
// wrote them; agency B finds which of its travellers are among them,
// written differently, with which keys and how strongly.
func Example() {
	a := []person.Record{
		{Name: "Мухаммед Абдуллаев", Birth: person.Birth{Year: 1991, Month: 3, Day: 14}, Ref: "A-17", Label: "case 17"},
		{Given: "Hans-Peter", Surname: "Müller", Birth: person.Birth{Year: 1970}, Ref: "A-18", Label: "case 18"},
	}
	b := []person.Record{
		{Name: "ABDULLAYEV, Muhammad", Birth: person.Birth{Year: 1991, Month: 3, Day: 14}, Ref: "B-1"},
		{Name: "Hans Peter MUELLER", Birth: person.Birth{Year: 1970, Month: 5, Day: 1}, Ref: "B-2"},
		{Name: "Anna Berg", Birth: person.Birth{Year: 1991, Month: 3, Day: 14}, Ref: "B-3"},
	}

	entries, _ := person.Entries(a)
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		log.Fatal(err)
	}
	pub, err := match.Publish(key, slices.Values(entries), nil)
	if err != nil {
		log.Fatal(err)
	}

	q, _ := person.NewQuery(b)
	mq, err := match.NewQuerier(pub.Filter(), nil)
	if err != nil {
		log.Fatal(err)
	}
	// A batch is of one kind: each rule is a kind.
	byKind := map[*indicator.Kind][]indicator.Indicator{}
	for _, ind := range q.Indicators() {
		byKind[ind.Kind()] = append(byKind[ind.Kind()], ind)
	}
	var hits []match.Hit
	for _, inds := range byKind {
		query, req, err := mq.Blind(inds)
		if err != nil {
			log.Fatal(err)
		}
		resp, err := pub.Evaluate(req)
		if err != nil {
			log.Fatal(err)
		}
		creq, err := query.Finalize(resp)
		if err != nil {
			log.Fatal(err)
		}
		cresp, _, err := pub.Confirm(creq)
		if err != nil {
			log.Fatal(err)
		}
		h, err := query.Hits(cresp)
		if err != nil {
			log.Fatal(err)
		}
		hits = append(hits, h...)
	}
	for _, h := range q.Hits(hits) {
		var rules []string
		for _, r := range h.Rules {
			rules = append(rules, r.Kind.Name())
		}
		fmt.Printf("%s: %s (%v: %s)\n", h.Ref, strings.Join(h.Labels, "; "), h.Strength, strings.Join(rules, ", "))
	}
	// Output:
	// B-1: case 17 (strong: person-v1-name-dob, person-v1-pair-dob, person-v1-phon-dob)
	// B-2: case 18 (weak: person-v1-name-year, person-v1-phon-year)
}
