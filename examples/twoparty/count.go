package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
	"github.com/fedmatch/fedmatch/match/person"
)

// countFiles publishes A's file with a count filter and runs the
// cardinality-only exchange with B's indicators, kind by kind: it writes
// how many of B's distinct indicators are on A's list, and never which.
func countFiles(c *fileConfig, out, log io.Writer) error {
	start := time.Now()
	a, b, pub, closeAll, err := c.openAndPublish(true)
	if err != nil {
		return err
	}
	defer closeAll()
	var t traffic
	var cf match.Filter
	if err := send(pub.CountFilter(), &cf, &t.toQuerier); err != nil {
		return err
	}
	q, err := match.NewQuerier(&cf, &match.QuerierOptions{PublicKey: pub.CountPublicKey(), MaxFalsePositiveRate: querierBound(c.fpr)})
	if err != nil {
		return err
	}
	inds := distinct(b.r.Entries())
	if err := b.err(); err != nil {
		return err
	}
	if a.r.Summary().Imported == 0 && b.r.Summary().Imported == 0 {
		a.summary(log, c.maxRejects)
		b.summary(log, c.maxRejects)
		return errors.New("neither file holds an indicator")
	}
	total, perKind, err := countKinds(pub, q, inds, &t)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(out, "%d\nof %d queried; expected false positives %.2g\n",
		total.Shared, total.Queried, total.ExpectedFalsePositives); err != nil {
		return err
	}
	a.summary(log, c.maxRejects)
	b.summary(log, c.maxRejects)
	fmt.Fprintf(log, "count filter: %d distinct entries, %d bits, %d hashes, %d bytes, estimated false-positive rate %.2g\n",
		cf.Len(), cf.Bits(), cf.Hashes(), cf.Size(), cf.EstimatedFalsePositiveRate())
	for _, k := range perKind {
		fmt.Fprintf(log, "count: %s: %d of %d\n", k.kind, k.res.Shared, k.res.Queried)
		if k.res.Shared == k.res.Queried {
			// A count is per batch: all of a batch says which.
			fmt.Fprintf(log, "  every %s queried is on the list: a count of a whole batch (or of a batch of one) tells which\n", k.kind)
		}
	}
	fmt.Fprintf(log, "count: %d of %d distinct indicators on the publisher's list\n", total.Shared, total.Queried)
	fmt.Fprintf(log, "bytes: querier -> publisher %d, publisher -> querier %d (count filter included)\n", t.toPublisher, t.toQuerier)
	fmt.Fprintf(log, "time: %v\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// kindCount is the count of one kind's indicators.
type kindCount struct {
	kind string
	res  match.CountResult
}

// countKinds counts inds kind by kind, in batches of at most queryBatch
// (each batch one count request), and returns the sum and each kind's.
func countKinds(pub *match.Publisher, q *match.Querier, inds []indicator.Indicator, t *traffic) (match.CountResult, []kindCount, error) {
	byKind := map[*indicator.Kind][]indicator.Indicator{}
	var kinds []*indicator.Kind
	for _, ind := range inds {
		if byKind[ind.Kind()] == nil {
			kinds = append(kinds, ind.Kind())
		}
		byKind[ind.Kind()] = append(byKind[ind.Kind()], ind)
	}
	var total match.CountResult
	var perKind []kindCount
	for _, k := range kinds {
		kc := kindCount{kind: k.Name()}
		for batch := range slices.Chunk(byKind[k], queryBatch) {
			res, err := countExchange(pub, q, batch, t)
			if err != nil {
				return total, nil, fmt.Errorf("count of %s: %w", k.Name(), err)
			}
			kc.res.Queried += res.Queried
			kc.res.Shared += res.Shared
			kc.res.ExpectedFalsePositives += res.ExpectedFalsePositives
		}
		total.Queried += kc.res.Queried
		total.Shared += kc.res.Shared
		total.ExpectedFalsePositives += kc.res.ExpectedFalsePositives
		perKind = append(perKind, kc)
	}
	return total, perKind, nil
}

// countExchange runs one cardinality-only query of inds (all of one kind)
// against pub, passing every message through its encoding.
func countExchange(pub *match.Publisher, q *match.Querier, inds []indicator.Indicator, t *traffic) (match.CountResult, error) {
	query, req, err := q.BlindCount(inds)
	if err != nil {
		return match.CountResult{}, err
	}
	var req2 match.CountRequest
	if err := send(req, &req2, &t.toPublisher); err != nil {
		return match.CountResult{}, err
	}
	// The publisher sees the kind and the number of indicators
	// (req2.Kind(), req2.Len()), which its policy may authorise.
	resp, err := pub.EvaluateCount(&req2)
	if err != nil {
		return match.CountResult{}, err
	}
	var resp2 match.CountResponse
	if err := send(resp, &resp2, &t.toQuerier); err != nil {
		return match.CountResult{}, err
	}
	return query.Count(&resp2)
}

// countPersons publishes the person records of A's file, with a count
// filter, and counts B's records on it by one designated key each: the
// record's first person-v1-name-dob key (its first name form and its full
// date of birth). Counting every key would count one shared person once
// per key it matches on, and count the partial keys (a pair of names, a
// name and a year) that different people share; see package match/person.
// B's records without a full date of birth have no such key and are not
// counted; records with the same designated key count once.
func countPersons(c *fileConfig, out, log io.Writer) error {
	a, err := readPersons(c.pathA)
	if err != nil {
		return err
	}
	b, err := readPersons(c.pathB)
	if err != nil {
		return err
	}
	entries, sumA := person.Entries(a.records)
	_, sumB := person.NewQuery(b.records) // for the summary: what was rejected
	a.summary(log, "publisher (-a)", sumA, c.maxRejects)
	b.summary(log, "querier (-b)", sumB, c.maxRejects)
	var inds []indicator.Indicator
	seen := map[indicator.Indicator]bool{}
	undated := 0
	for _, rec := range b.records {
		keys, _, err := person.Keys(rec, person.Querier)
		if err != nil {
			continue // in the summary above
		}
		j := slices.IndexFunc(keys, func(k person.Key) bool { return k.Rule == person.RuleNameDOB })
		if j < 0 {
			undated++
			continue
		}
		if k := keys[j].Indicator; !seen[k] {
			seen[k] = true
			inds = append(inds, k)
		}
	}
	fmt.Fprintf(log, "querier (-b): %d records without a full date of birth, not counted; %d distinct %s keys counted, one a record\n",
		undated, len(inds), person.RuleNameDOB.Kind.Name())
	if len(entries) == 0 && len(inds) == 0 {
		return errors.New("neither file holds a person record to count")
	}
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		return err
	}
	pub, err := match.Publish(key, slices.Values(entries), &match.PublishOptions{FalsePositiveRate: c.fpr, SizeHint: len(entries), Count: true})
	if err != nil {
		return err
	}
	var t traffic
	var cf match.Filter
	if err := send(pub.CountFilter(), &cf, &t.toQuerier); err != nil {
		return err
	}
	q, err := match.NewQuerier(&cf, &match.QuerierOptions{PublicKey: pub.CountPublicKey(), MaxFalsePositiveRate: querierBound(c.fpr)})
	if err != nil {
		return err
	}
	var total match.CountResult
	if len(inds) > 0 {
		if total, _, err = countKinds(pub, q, inds, &t); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(out, "%d\nof %d queried; expected false positives %.2g\n",
		total.Shared, total.Queried, total.ExpectedFalsePositives); err != nil {
		return err
	}
	fmt.Fprintf(log, "count: %d of %d distinct %s keys (one a record of B; records sharing one count once) are on A's list\n",
		total.Shared, total.Queried, person.RuleNameDOB.Kind.Name())
	if total.Queried > 0 && total.Shared == total.Queried {
		fmt.Fprintln(log, "  every record counted is on the list: a count of a whole batch (or of a batch of one) tells which")
	}
	fmt.Fprintf(log, "bytes: querier -> publisher %d, publisher -> querier %d (count filter included)\n", t.toPublisher, t.toQuerier)
	return nil
}
