package match_test

import (
	"fmt"
	"log"
	"slices"
	"strings"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// Two agencies find the indicators they share. In a deployment each step's
// message crosses the network as the bytes of its MarshalBinary method.
func Example() {
	// The publisher (agency A) builds a filter from its watchlist.
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		log.Fatal(err)
	}
	watchlist := []match.Entry{
		{Indicator: indicator.MustNew(indicator.Email, "courier@example.org"), Label: "case 4711", Ref: "A-1"},
		{Indicator: indicator.MustNew(indicator.Email, "broker@example.net"), Label: "case 4712", Ref: "A-2"},
		{Indicator: indicator.MustNew(indicator.Email, "mule@example.com"), Label: "case 4713", Ref: "A-3"},
	}
	pub, err := match.Publish(key, slices.Values(watchlist), nil)
	if err != nil {
		log.Fatal(err)
	}

	// The querier (agency B) checks the filter and blinds its indicators.
	q, err := match.NewQuerier(pub.Filter(), nil)
	if err != nil {
		log.Fatal(err)
	}
	mine := []indicator.Indicator{
		indicator.MustNew(indicator.Email, "Broker@Example.NET"),
		indicator.MustNew(indicator.Email, "someone@example.com"),
	}
	query, evalReq, err := q.Blind(mine)
	if err != nil {
		log.Fatal(err)
	}

	// A evaluates the blinded batch: it learns the kind and the count.
	evalResp, err := pub.Evaluate(evalReq)
	if err != nil {
		log.Fatal(err)
	}

	// B verifies the proof, tests the filter and asks A to confirm.
	confirmReq, err := query.Finalize(evalResp)
	if err != nil {
		log.Fatal(err)
	}
	confirmResp, confirmed, err := pub.Confirm(confirmReq)
	if err != nil {
		log.Fatal(err)
	}
	hits, err := query.Hits(confirmResp)
	if err != nil {
		log.Fatal(err)
	}

	for _, h := range hits {
		fmt.Printf("B learns: %v is on A's list (%s)\n", h.Indicator, strings.Join(h.Labels, "; "))
	}
	for _, c := range confirmed {
		fmt.Printf("A learns: B also holds its entry %s\n", c.Ref)
	}
	// Output:
	// B learns: email:broker@example.net is on A's list (case 4712)
	// A learns: B also holds its entry A-2
}

func ExamplePublish() {
	key, err := match.DeriveKey(match.SuiteRistretto255, match.ModePOPRF, make([]byte, 32), []byte("example"))
	if err != nil {
		log.Fatal(err)
	}
	entries := func(yield func(match.Entry) bool) {
		for i := range 1000 {
			ind := indicator.MustNew(indicator.IPv4, fmt.Sprintf("198.51.100.%d", i%256))
			if !yield(match.Entry{Indicator: ind}) {
				return
			}
		}
	}
	pub, err := match.Publish(key, entries, &match.PublishOptions{
		FalsePositiveRate: 1e-7,
		Progress: func(done int) error {
			return nil // return ctx.Err() here to make the build cancellable
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	f := pub.Filter()
	fmt.Printf("%d entries, %d distinct\n", pub.Entries(), f.Len())
	fmt.Printf("filter: %d bits, %d hashes, %d bytes encoded\n", f.Bits(), f.Hashes(), f.Size())
	fmt.Printf("estimated false-positive rate: %.1e\n", f.EstimatedFalsePositiveRate())
	// Output:
	// 1000 entries, 256 distinct
	// filter: 8589 bits, 24 hashes, 1177 bytes encoded
	// estimated false-positive rate: 8.0e-08
}

func ExampleNewQuerier() {
	key, _ := match.GenerateKey(match.SuiteRistretto255)
	pub, _ := match.Publish(key, nil, &match.PublishOptions{Mode: match.ModeOPRF})

	// A base-mode filter gives the querier no way to check the publisher's
	// evaluations, so it is refused unless the querier opts in.
	_, err := match.NewQuerier(pub.Filter(), nil)
	fmt.Println(err)

	// A pinned key refuses a filter for any other key.
	other, _ := match.GenerateKey(match.SuiteRistretto255)
	pub2, _ := match.Publish(key, nil, nil)
	_, err = match.NewQuerier(pub2.Filter(), &match.QuerierOptions{PublicKey: other.Public()})
	fmt.Println(err != nil)
	// Output:
	// match: unverifiable (base mode) filter refused
	// true
}

// A querier stays matched against a publisher whose list grows: its
// indicators are evaluated once, and a new version of the filter, sent
// as a delta, is tested without any evaluation.
func ExampleWatch() {
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		log.Fatal(err)
	}
	email := func(s string) indicator.Indicator { return indicator.MustNew(indicator.Email, s) }
	pub, err := match.Publish(key, slices.Values([]match.Entry{{Indicator: email("courier@example.org"), Label: "case 4711"}}),
		&match.PublishOptions{Capacity: 1000}) // room for additions
	if err != nil {
		log.Fatal(err)
	}

	// The querier evaluates its indicators once and keeps the outputs.
	q, err := match.NewQuerier(pub.Filter(), nil)
	if err != nil {
		log.Fatal(err)
	}
	watch := match.NewWatch(q)
	mine := []indicator.Indicator{email("courier@example.org"), email("broker@example.net")}
	query, evalReq, _ := q.Blind(watch.Missing(mine))
	evalResp, _ := pub.Evaluate(evalReq)
	confirmReq, _ := query.Finalize(evalResp)
	confirmResp, _, _ := pub.Confirm(confirmReq)
	hits, _ := query.Hits(confirmResp)
	if err := watch.Keep(query); err != nil {
		log.Fatal(err)
	}
	fmt.Println("at version", pub.Filter().Version(), "hits:", hits[0].Indicator.Value())

	// The publisher adds an entry; the querier applies the delta.
	from := pub.Filter().Version()
	if _, err := pub.Add([]match.Entry{{Indicator: email("broker@example.net"), Label: "case 4712"}}); err != nil {
		log.Fatal(err)
	}
	delta, _ := pub.Delta(from)
	if err := watch.Apply(delta); err != nil {
		log.Fatal(err)
	}
	pending, confirmReq := watch.Pending()
	confirmResp, _, _ = pub.Confirm(confirmReq)
	newHits, _, err := pending.Hits(confirmResp)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("at version", watch.Filter().Version(), "new hit:", newHits[0].Indicator.Value(), newHits[0].Labels)
	fmt.Println("indicators still to evaluate:", len(watch.Missing(mine)))
	// Output:
	// at version 1 hits: courier@example.org
	// at version 2 new hit: broker@example.net [case 4712]
	// indicators still to evaluate: 0
}

// A publisher that keeps its own watchlist removes what left it by what
// the entries hold, without knowing how it numbered them. A querier
// asking about an indicator with no entry left is told it was withdrawn.
func ExamplePublisher_RemoveEntries() {
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		log.Fatal(err)
	}
	email := func(s string) indicator.Indicator { return indicator.MustNew(indicator.Email, s) }
	watchlist := []match.Entry{
		{Indicator: email("courier@example.org"), Label: "case 4711"},
		{Indicator: email("broker@example.net"), Label: "case 4712"},
		{Indicator: email("broker@example.net"), Label: "case 4790"},
	}
	pub, err := match.Publish(key, slices.Values(watchlist), nil)
	if err != nil {
		log.Fatal(err)
	}

	// Case 4711 is closed, and the broker left case 4712.
	removed, err := pub.RemoveEntries([]match.Entry{watchlist[0], watchlist[1]})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("removed entries", removed)

	q, err := match.NewQuerier(pub.Filter(), nil)
	if err != nil {
		log.Fatal(err)
	}
	query, evalReq, _ := q.Blind([]indicator.Indicator{email("courier@example.org"), email("broker@example.net")})
	evalResp, _ := pub.Evaluate(evalReq)
	confirmReq, _ := query.Finalize(evalResp)
	confirmResp, _, _ := pub.Confirm(confirmReq)
	hits, err := query.Hits(confirmResp)
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Println("hit:", h.Indicator.Value(), h.Labels)
	}
	for _, ind := range query.Withdrawn() {
		fmt.Println("withdrawn:", ind.Value())
	}
	// Output:
	// removed entries [0 1]
	// hit: broker@example.net [case 4790]
	// withdrawn: courier@example.org
}

// Cardinality-only matching: agency B learns how many of its indicators
// are on agency A's list, not which, and A learns nothing of B's but the
// kind and the number. In a deployment each message crosses the network as
// the bytes of its MarshalBinary method.
func ExampleQuerier_BlindCount() {
	// A publishes with a count filter beside its filter.
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		log.Fatal(err)
	}
	watchlist := []match.Entry{
		{Indicator: indicator.MustNew(indicator.Domain, "c2.example.org")},
		{Indicator: indicator.MustNew(indicator.Domain, "login-example-bank.com")},
		{Indicator: indicator.MustNew(indicator.Domain, "update-checker.example")},
		{Indicator: indicator.MustNew(indicator.Domain, "wallet-recovery.example")},
	}
	pub, err := match.Publish(key, slices.Values(watchlist), &match.PublishOptions{Count: true})
	if err != nil {
		log.Fatal(err)
	}

	// B checks the count filter and blinds its batch, of one kind, with
	// one secret scalar. Repeats count once.
	q, err := match.NewQuerier(pub.CountFilter(), nil)
	if err != nil {
		log.Fatal(err)
	}
	mine := []indicator.Indicator{
		indicator.MustNew(indicator.Domain, "C2.Example.ORG."),
		indicator.MustNew(indicator.Domain, "wallet-recovery.example"),
		indicator.MustNew(indicator.Domain, "wallet-recovery.example"),
		indicator.MustNew(indicator.Domain, "shop.example"),
		indicator.MustNew(indicator.Domain, "news.example"),
	}
	query, req, err := q.BlindCount(mine)
	if err != nil {
		log.Fatal(err)
	}

	// A evaluates the batch and returns it shuffled, with one proof.
	fmt.Printf("A sees: %d indicators of kind %s\n", req.Len(), req.Kind())
	resp, err := pub.EvaluateCount(req)
	if err != nil {
		log.Fatal(err)
	}

	// B verifies the proof and counts.
	res, err := query.Count(resp)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("B learns: %d of its %d indicators are on A's list\n", res.Shared, res.Queried)
	fmt.Println("expected false positives below 1e-6:", res.ExpectedFalsePositives < 1e-6)
	// Output:
	// A sees: 4 indicators of kind domain
	// B learns: 2 of its 4 indicators are on A's list
	// expected false positives below 1e-6: true
}
