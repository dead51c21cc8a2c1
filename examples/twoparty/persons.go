package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
	"github.com/fedmatch/fedmatch/match/person"
)

// matchPersons publishes the person records of A's file, queries them
// with B's, and writes one line per hit: B's reference, a label A
// released, and the rules whose keys matched.
func matchPersons(c *fileConfig, out, log io.Writer) error {
	a, err := readPersons(c.pathA)
	if err != nil {
		return err
	}
	b, err := readPersons(c.pathB)
	if err != nil {
		return err
	}
	entries, sumA := person.Entries(a.records)
	q, sumB := person.NewQuery(b.records)
	a.summary(log, "publisher (-a)", sumA, c.maxRejects)
	b.summary(log, "querier (-b)", sumB, c.maxRejects)
	if len(entries) == 0 && len(q.Indicators()) == 0 {
		return errors.New("neither file holds a person record")
	}
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		return err
	}
	pub, err := match.Publish(key, slices.Values(entries), &match.PublishOptions{FalsePositiveRate: c.fpr, SizeHint: len(entries)})
	if err != nil {
		return err
	}
	var t traffic
	mq, err := receiveFilter(pub, querierBound(c.fpr), &t)
	if err != nil {
		return err
	}
	hits, candidates, err := queryKinds(pub, mq, q.Indicators(), &t)
	if err != nil {
		return err
	}
	matched := q.Hits(hits)
	for _, h := range matched {
		var kinds []string
		for _, r := range h.Rules {
			kinds = append(kinds, r.Kind.Name())
		}
		labels := h.Labels
		if len(labels) == 0 {
			labels = []string{""}
		}
		for _, l := range labels {
			if _, err := fmt.Fprintf(out, "%s\t%s\t%s\n", printable(h.Ref), printable(l), strings.Join(kinds, ",")); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(log, "matched: %d of B's %d records (%d keys hit, %d filter candidates)\n",
		len(matched), len(b.records), len(hits), candidates)
	fmt.Fprintf(log, "bytes: querier -> publisher %d, publisher -> querier %d (filter included)\n", t.toPublisher, t.toQuerier)
	return nil
}

// queryKinds queries inds kind by kind and returns the hits.
func queryKinds(pub *match.Publisher, q *match.Querier, inds []indicator.Indicator, t *traffic) ([]match.Hit, int, error) {
	byKind := map[*indicator.Kind][]indicator.Indicator{}
	var kinds []*indicator.Kind
	for _, ind := range inds {
		if byKind[ind.Kind()] == nil {
			kinds = append(kinds, ind.Kind())
		}
		byKind[ind.Kind()] = append(byKind[ind.Kind()], ind)
	}
	var hits []match.Hit
	candidates := 0
	for _, k := range kinds {
		for batch := range slices.Chunk(byKind[k], queryBatch) {
			h, _, n, err := exchange(pub, q, batch, t)
			if err != nil {
				return nil, 0, err
			}
			hits = append(hits, h...)
			candidates += n
		}
	}
	return hits, candidates, nil
}

// personFile is one agency's person records.
type personFile struct {
	path    string
	records []person.Record
	r       *person.Reader
}

func readPersons(path string) (*personFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := &personFile{path: path, r: person.NewReader(f, nil)}
	for rec := range p.r.Records() {
		p.records = append(p.records, rec)
	}
	if err := p.r.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func (p *personFile) summary(w io.Writer, who string, s person.KeyStats, maxRejects int) {
	rs := p.r.Summary()
	fmt.Fprintf(w, "%s: %s, %d records read, %d rejected and %d partly imported on reading, %d without a key; %d distinct keys (at most %d per record)\n",
		who, rs.Format, rs.Records, rs.Rejected, rs.Partial, len(s.Rejected), s.Keys, s.MaxKeys)
	if len(rs.UnknownColumns) > 0 {
		fmt.Fprintf(w, "  unknown columns, not read: %s\n", strings.Join(rs.UnknownColumns, ", "))
	}
	n := 0
	for _, r := range p.r.Rejects() {
		if maxRejects > 0 && n == maxRejects {
			break
		}
		fmt.Fprintf(w, "  %s: %s\n", p.path, r)
		n++
	}
	for _, r := range s.Rejected {
		if maxRejects > 0 && n == maxRejects {
			break
		}
		fmt.Fprintf(w, "  %s: record %d: %v\n", p.path, r.Index+1, r.Err)
		n++
	}
	if s.DroppedKeys > 0 || s.DroppedRepeats > 0 {
		fmt.Fprintf(w, "  %d keys left out past person.MaxKeys, %d past match.MaxRepeats\n", s.DroppedKeys, s.DroppedRepeats)
	}
}

// The demonstration's persons: agency A, a counter-terrorism unit, keeps
// its subjects as its sources wrote them, in Cyrillic and Arabic script;
// agency B, a border police, has the travellers it flagged in Latin
// script. The people are invented.
var (
	personsA = []person.Record{
		{Name: "Мухаммед Абдуллаев", Birth: person.Birth{Year: 1991, Month: 3, Day: 14}, Ref: "CT-117", Label: "returnee from a conflict zone, CT-117"},
		{Surname: "Исмаилов", Given: "Юсуф", Patronymic: "Магомедович", Birth: person.Birth{Year: 1988}, Ref: "CT-121", Label: "facilitator, CT-121"},
		{Name: "أحمد الحسن", Birth: person.Birth{Year: 1979, Month: 11, Day: 2}, Ref: "CT-130", Label: "financier, CT-130"},
		{Name: "Hans-Peter Müller", Documents: []person.Document{{Number: "C01X00T47", Country: "DEU"}}, Ref: "CT-142", Label: "recruiter, CT-142"},
	}
	personsB = []person.Record{
		{Name: "ABDULLAYEV Muhammad", Birth: person.Birth{Year: 1991, Month: 3, Day: 14}, Ref: "flight 1"},
		{Name: "Yusuf Ismailov", Birth: person.Birth{Year: 1988, Month: 7, Day: 22}, Ref: "flight 2"},
		{Name: "Ahmed Al-Hassan", Birth: person.Birth{Year: 1979, Month: 11, Day: 2}, Ref: "flight 3"},
		{Name: "Mueller, Peter", Documents: []person.Document{{Number: "C01X00T47", Country: "DE"}}, Ref: "flight 4"},
		{Name: "Ahmed Hassan", Birth: person.Birth{Year: 1985, Month: 1, Day: 9}, Ref: "flight 5"},
	}
)

// demoPersons matches personsB against personsA.
func demoPersons(w io.Writer) error {
	fmt.Fprintln(w, "Persons: A (a counter-terrorism unit) publishes its subjects, written in")
	fmt.Fprintln(w, "Cyrillic and Arabic script; B (a border police) queries its travellers.")
	entries, sumA := person.Entries(personsA)
	q, sumB := person.NewQuery(personsB)
	if len(sumA.Rejected)+len(sumB.Rejected) > 0 {
		return fmt.Errorf("demo records rejected: %v %v", sumA.Rejected, sumB.Rejected)
	}
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		return err
	}
	pub, err := match.Publish(key, slices.Values(entries), nil)
	if err != nil {
		return err
	}
	var t traffic
	mq, err := receiveFilter(pub, match.DefaultMaxFalsePositiveRate, &t)
	if err != nil {
		return err
	}
	hits, _, err := queryKinds(pub, mq, q.Indicators(), &t)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "A publishes %d records as %d keys; B queries %d records as %d keys.\n",
		len(personsA), sumA.Keys, len(personsB), sumB.Keys)
	for _, h := range q.Hits(hits) {
		var kinds []string
		for _, r := range h.Rules {
			kinds = append(kinds, strings.TrimPrefix(r.Kind.Name(), "person-v1-"))
		}
		fmt.Fprintf(w, "  %-9s %-22s %-6s on %s: %s\n", h.Ref, personsB[h.Index].Name, h.Strength, strings.Join(kinds, ", "), strings.Join(h.Labels, "; "))
	}
	fmt.Fprintf(w, "Bytes: B -> A %d, A -> B %d (filter included).\n", t.toPublisher, t.toQuerier)
	return nil
}
