package match_test

import (
	"fmt"
	"log"
	"slices"

	"github.com/fedmatch/fedmatch/match"
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
		{Indicator: match.MustIndicator(match.KindEmail, "courier@example.org"), Label: "case 4711", Ref: "A-1"},
		{Indicator: match.MustIndicator(match.KindEmail, "broker@example.net"), Label: "case 4712", Ref: "A-2"},
		{Indicator: match.MustIndicator(match.KindEmail, "mule@example.com"), Label: "case 4713", Ref: "A-3"},
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
	mine := []match.Indicator{
		match.MustIndicator(match.KindEmail, "Broker@Example.NET"),
		match.MustIndicator(match.KindEmail, "someone@example.com"),
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
		fmt.Printf("B learns: %v is on A's list (%s)\n", h.Indicator, h.Label)
	}
	for _, c := range confirmed {
		fmt.Printf("A learns: B also holds its entry %s\n", c.Ref)
	}
	// Output:
	// B learns: email:broker@example.net is on A's list (case 4712)
	// A learns: B also holds its entry A-2
}

func ExampleNewIndicator() {
	for _, in := range []struct {
		kind  *match.Kind
		value string
	}{
		{match.KindDomain, "WWW.Bücher.Example."},
		{match.KindEmail, " Alice@EXAMPLE.org"},
		{match.KindIPv4, "::ffff:192.0.2.1"},
		{match.KindIPv6, "2001:0DB8:0:0::1"},
		{match.KindSHA256, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"},
		{match.KindIPv4, "192.0.2.010"},
	} {
		ind, err := match.NewIndicator(in.kind, in.value)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(ind)
	}
	// Output:
	// domain:www.xn--bcher-kva.example
	// email:alice@example.org
	// ipv4:192.0.2.1
	// ipv6:2001:db8::1
	// sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
	// match: invalid ipv4: has a leading zero in a field (ambiguous: octal or decimal)
}

func ExamplePublish() {
	key, err := match.DeriveKey(match.SuiteRistretto255, match.ModePOPRF, make([]byte, 32), []byte("example"))
	if err != nil {
		log.Fatal(err)
	}
	entries := func(yield func(match.Entry) bool) {
		for i := range 1000 {
			ind := match.MustIndicator(match.KindIPv4, fmt.Sprintf("198.51.100.%d", i%256))
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
	// estimated false-positive rate: 1.1e-07
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

func ExampleParsePhone() {
	for _, in := range []struct{ number, region string }{
		{"020 7946 0018", "GB"},
		{"+44 (0)20 7946 0018", "DE"},
		{"0044 20 7946 0018", ""},
		{"(201) 555-0123", "US"},
	} {
		ind, err := match.ParsePhone(in.number, in.region)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(ind)
	}
	// Output:
	// phone:+442079460018
	// phone:+442079460018
	// phone:+442079460018
	// phone:+12015550123
}

func ExampleKindURL() {
	for _, u := range []string{
		"HTTP://Login.Example.COM:80/%7eadmin/../index.html#top",
		"example.com/a//b/./c?q=1",
		"http://3221225985/",
	} {
		fmt.Println(match.MustIndicator(match.KindURL, u).Value())
	}
	// Output:
	// http://login.example.com/index.html
	// http://example.com/a/b/c?q=1
	// http://192.0.2.1/
}
