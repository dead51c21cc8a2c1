package match

import (
	"bufio"
	"compress/gzip"
	"os"
	"testing"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// sharedData is the folder of real public indicator lists next to the
// project checkout (see ../shared/data/README.md); tests that read it skip
// when it is absent.
const sharedData = "../../shared/data/"

// readGz returns every stride-th line of a gzipped list.
func readGz(t *testing.T, name string, stride int) []string {
	t.Helper()
	f, err := os.Open(sharedData + name)
	if os.IsNotExist(err) {
		t.Skipf("%s absent", sharedData+name)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(zr)
	for i := 0; sc.Scan(); i++ {
		if i%stride == 0 {
			out = append(out, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRealLists matches samples of two real phishing-domain feeds and of
// two real IPv4 feeds, and checks the protocol's result against the plain
// intersection of the canonical values.
func TestRealLists(t *testing.T) {
	for _, tc := range []struct {
		kind          *indicator.Kind
		pub, query    string
		stride        int
		wantRejectMax int
	}{
		{indicator.Domain, "tweetfeed_domains.txt.gz", "romainmarcoux_phishing_domains.txt.gz", 25, 50},
		{indicator.IPv4, "maltrail_static_ipv4.txt.gz", "romainmarcoux_outgoing_ipv4.txt.gz", 30, 0},
	} {
		t.Run(tc.kind.Name(), func(t *testing.T) {
			canon := func(lines []string) ([]indicator.Indicator, int) {
				var inds []indicator.Indicator
				rejected := 0
				for _, l := range lines {
					ind, err := indicator.New(tc.kind, l)
					if err != nil {
						rejected++
						continue
					}
					inds = append(inds, ind)
				}
				return inds, rejected
			}
			pubInds, r1 := canon(readGz(t, tc.pub, tc.stride))
			qInds, r2 := canon(readGz(t, tc.query, tc.stride))
			// Make sure there is a real overlap to find.
			qInds = append(qInds, pubInds[:100]...)
			if r1+r2 > tc.wantRejectMax {
				t.Errorf("%d + %d real values rejected, want at most %d", r1, r2, tc.wantRejectMax)
			}
			inPub := map[indicator.Indicator]bool{}
			for _, ind := range pubInds {
				inPub[ind] = true
			}
			want := map[indicator.Indicator]bool{}
			for _, ind := range qInds {
				if inPub[ind] {
					want[ind] = true
				}
			}
			p := mustPublish(t, testKey(t, SuiteRistretto255, 8), entriesOf(pubInds, nil), nil)
			hits, confirmed, _ := roundTrip(t, p, nil, qInds)
			got := map[indicator.Indicator]bool{}
			for _, h := range hits {
				got[h.Indicator] = true
			}
			if len(got) != len(want) || len(hits) != len(want) || len(confirmed) != len(want) {
				t.Fatalf("%d hits (%d distinct), %d confirmed; plain intersection has %d", len(hits), len(got), len(confirmed), len(want))
			}
			for ind := range want {
				if !got[ind] {
					t.Fatalf("missed %v", ind)
				}
			}
			t.Logf("%d published, %d queried, %d shared; %d+%d rejected", len(pubInds), len(qInds), len(want), r1, r2)
		})
	}
}
