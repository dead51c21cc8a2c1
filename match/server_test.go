package match

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// TestKindIsBound: in POPRF mode an element blinded as one kind and
// evaluated as another gives no match, so a publisher's per-kind policy
// cannot be dodged by mislabelling a batch.
func TestKindIsBound(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 4)
	email := indicator.MustNew(indicator.Email, "alice@example.org")
	p := mustPublish(t, key, []Entry{{Indicator: email}}, nil)
	q, err := NewQuerier(p.Filter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	qu, req, err := q.Blind([]indicator.Indicator{email})
	if err != nil {
		t.Fatal(err)
	}
	req.kind = "ipv4" // the batch claims another kind
	resp, err := p.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	// The proof is for the ipv4 tweak, so the querier (who blinded as
	// email) refuses it.
	if _, err := qu.Finalize(resp); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("got %v, want ErrInvalidProof", err)
	}
	// And even unverified, the output would not match: the email's input
	// under the ipv4 info is another PRF value, whose tag is not in the
	// index, while under its own info it is.
	sc := newScratch(SuiteRistretto255.params())
	for _, c := range []struct {
		kind string
		want bool
	}{{"ipv4", false}, {"email", true}} {
		ev, err := newEvaluator(key, ModePOPRF, kindInfo(c.kind))
		if err != nil {
			t.Fatal(err)
		}
		y, err := ev.evaluate(sc, appendInput(nil, email))
		if err != nil {
			t.Fatal(err)
		}
		tg := deriveTag(y)
		_, found := slices.BinarySearchFunc(p.st.index, tg, func(e indexEntry, t tag) int { return bytes.Compare(e.tag[:], t[:]) })
		if found != c.want {
			t.Errorf("email evaluated as %s: in the index = %v", c.kind, found)
		}
	}
}
