package fedmatch_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/feed"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// A CERT publishes its watchlist, imported from CSV; a financial-
// intelligence unit matches the values it holds, written its own way.
// Each learns only the indicators they share.
func Example() {
	// The CERT imports its list: each line an indicator, its kind, the
	// CERT's own reference and the label a partner may receive.
	const certList = `value,kind,ref,label
broker@example.net,email,CERT-2304,ransomware negotiator
192.0.2.44,ipv4,CERT-2320,C2 server
192.0.2.44,ipv4,CERT-2331,botnet C2
not-an-address,email,CERT-2399,typo in the source
`
	r := feed.NewReader(strings.NewReader(certList), nil)
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		log.Fatal(err)
	}
	cert, err := match.Publish(key, r.Entries(), nil)
	if err != nil || r.Err() != nil {
		log.Fatal(err, r.Err())
	}
	for _, rej := range r.Rejects() {
		fmt.Println("CERT import:", rej)
	}

	// The FIU canonicalizes its own values and queries the CERT's filter
	// (sent over the network in practice), one kind per batch.
	fiu, err := match.NewQuerier(cert.Filter(), nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, batch := range [][]string{
		{"email:Broker@EXAMPLE.net", "email:treasurer@example.com"},
		{"ipv4:::ffff:192.0.2.44"},
	} {
		var mine []indicator.Indicator
		for _, s := range batch {
			mine = append(mine, must(indicator.Parse(s)))
		}
		query, evalReq := must2(fiu.Blind(mine))
		confirmReq := must(query.Finalize(must(cert.Evaluate(evalReq))))
		confirmResp, confirmed, err := cert.Confirm(confirmReq)
		if err != nil {
			log.Fatal(err)
		}
		for _, h := range must(query.Hits(confirmResp)) {
			fmt.Printf("FIU learns: %v (%s)\n", h.Indicator, strings.Join(h.Labels, "; "))
		}
		for _, c := range confirmed {
			fmt.Printf("CERT learns: the FIU holds %s\n", c.Ref)
		}
	}
	// Output:
	// CERT import: line 5: rejected: invalid email: missing '@'
	// FIU learns: email:broker@example.net (ransomware negotiator)
	// CERT learns: the FIU holds CERT-2304
	// FIU learns: ipv4:192.0.2.44 (C2 server; botnet C2)
	// CERT learns: the FIU holds CERT-2320
	// CERT learns: the FIU holds CERT-2331
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}

func must2[T, U any](v T, w U, err error) (T, U) {
	if err != nil {
		log.Fatal(err)
	}
	return v, w
}
