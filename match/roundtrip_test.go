package match

import (
	"fmt"
	"testing"
)

func TestRoundTripSmall(t *testing.T) {
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		for _, m := range []Mode{ModePOPRF, ModeVOPRF, ModeOPRF} {
			t.Run(fmt.Sprintf("%v/%v", s, m), func(t *testing.T) {
				key := testKey(t, s, 1)
				pubList := synthetic(t, 0, 50)
				p := mustPublish(t, key, entriesOf(pubList, func(i int) string { return fmt.Sprint("label", i) }), &PublishOptions{Mode: m})
				query := synthetic(t, 40, 30) // 10 shared: 40..49
				hits, confirmed, _ := roundTrip(t, p, &QuerierOptions{InsecureAllowOPRF: true, ChunkSize: 7}, query)
				if len(hits) != 10 || len(confirmed) != 10 {
					t.Fatalf("got %d hits, %d confirmed; want 10", len(hits), len(confirmed))
				}
				for i, h := range hits {
					want := query[i]
					if h.Indicator != want || h.Label != fmt.Sprint("label", 40+i) {
						t.Errorf("hit %d = %v %q, want %v label%d", i, h.Indicator, h.Label, want, 40+i)
					}
				}
			})
		}
	}
}
