package person_test

import (
	"crypto/rand"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/cloudflare/circl/oprf"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
	"github.com/fedmatch/fedmatch/match/person"
)

// benchRecords returns n records of the corpus (its pairs' first
// records), as agencies write them.
func benchRecords(b *testing.B, n int) []person.Record {
	b.Helper()
	data, err := os.ReadFile("testdata/corpus.json")
	if err != nil {
		b.Fatal(err)
	}
	type rec struct {
		Name, Given, Surname, Patronymic, DOB string
		Document                              string
		DocumentCountry                       string `json:"document_country"`
	}
	var corpus struct{ Same, Different []struct{ A, B rec } }
	if err := json.Unmarshal(data, &corpus); err != nil {
		b.Fatal(err)
	}
	var out []person.Record
	for _, p := range append(corpus.Same, corpus.Different...) {
		for _, c := range []rec{p.A, p.B} {
			bd, err := person.ParseBirth(c.DOB)
			if err != nil {
				b.Fatal(err)
			}
			r := person.Record{Name: c.Name, Given: c.Given, Surname: c.Surname, Patronymic: c.Patronymic, Birth: bd}
			if c.Document != "" {
				r.Documents = []person.Document{{Number: c.Document, Country: c.DocumentCountry}}
			}
			if out = append(out, r); len(out) == n {
				return out
			}
		}
	}
	return out
}

// oprfEval is the time of one RFC 9497 POPRF evaluation by circl
// (ristretto255), the unit the figures are given in.
func oprfEval(b *testing.B) time.Duration {
	b.Helper()
	key, err := oprf.GenerateKey(oprf.SuiteRistretto255, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	srv := oprf.NewPartialObliviousServer(oprf.SuiteRistretto255, key)
	const n = 200
	start := time.Now()
	for i := range n {
		if _, err := srv.FullEvaluate([]byte{byte(i), byte(i >> 8)}, []byte("person-v1-name-dob")); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start) / n
}

// BenchmarkKeys is the cost of making a record's keys, per record, and
// the keys a record makes.
func BenchmarkKeys(b *testing.B) {
	recs := benchRecords(b, 2000)
	unit := oprfEval(b)
	keys, n := 0, 0
	b.ResetTimer()
	for b.Loop() {
		for _, r := range recs {
			k, _, err := person.Keys(r, person.Querier)
			if err != nil {
				b.Fatal(err)
			}
			keys += len(k)
			n++
		}
	}
	perRecord := b.Elapsed() / time.Duration(n)
	b.ReportMetric(float64(perRecord.Nanoseconds()), "ns/record")
	b.ReportMetric(float64(keys)/float64(n), "keys/record")
	b.ReportMetric(float64(perRecord)/float64(unit), "x-eval")
}

// BenchmarkPublish is the publisher's cost per record (keys, and
// match.Publish of them on one core), as a multiple of one OPRF
// evaluation.
func BenchmarkPublish(b *testing.B) {
	recs := benchRecords(b, 1000)
	unit := oprfEval(b)
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		b.Fatal(err)
	}
	var entries int
	for b.Loop() {
		e, _ := person.Entries(recs)
		entries = len(e)
		if _, err := match.Publish(key, slices.Values(e), &match.PublishOptions{Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
	perRecord := b.Elapsed() / time.Duration(b.N*len(recs))
	b.ReportMetric(float64(entries)/float64(len(recs)), "evals/record")
	b.ReportMetric(float64(perRecord)/float64(unit), "x-eval")
}

// BenchmarkQuery is the whole exchange per querier record (keys; blind,
// evaluate, verify, finalize and confirm of every key, kind by kind, on
// one core for each side), as a multiple of one OPRF evaluation.
func BenchmarkQuery(b *testing.B) {
	recs := benchRecords(b, 1000)
	unit := oprfEval(b)
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		b.Fatal(err)
	}
	e, _ := person.Entries(recs[:500])
	pub, err := match.Publish(key, slices.Values(e), &match.PublishOptions{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	mine := recs[250:750] // half of them on the list
	var evals int
	for b.Loop() {
		q, _ := person.NewQuery(mine)
		evals = len(q.Indicators())
		mq, err := match.NewQuerier(pub.Filter(), &match.QuerierOptions{Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		byKind := map[*indicator.Kind][]indicator.Indicator{}
		for _, ind := range q.Indicators() {
			byKind[ind.Kind()] = append(byKind[ind.Kind()], ind)
		}
		var hits []match.Hit
		for _, inds := range byKind {
			query, req, err := mq.Blind(inds)
			if err != nil {
				b.Fatal(err)
			}
			resp, err := pub.Evaluate(req)
			if err != nil {
				b.Fatal(err)
			}
			creq, err := query.Finalize(resp)
			if err != nil {
				b.Fatal(err)
			}
			cresp, _, err := pub.Confirm(creq)
			if err != nil {
				b.Fatal(err)
			}
			h, err := query.Hits(cresp)
			if err != nil {
				b.Fatal(err)
			}
			hits = append(hits, h...)
		}
		if len(q.Hits(hits)) < 250 {
			b.Fatalf("%d records matched, want at least 250", len(q.Hits(hits)))
		}
	}
	perRecord := b.Elapsed() / time.Duration(b.N*len(mine))
	b.ReportMetric(float64(evals)/float64(len(mine)), "evals/record")
	b.ReportMetric(float64(perRecord)/float64(unit), "x-eval")
}
