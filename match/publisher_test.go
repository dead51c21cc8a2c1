package match

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestConfirmRefusesRepeatedHits: a querier that knows one tag cannot make
// the publisher repeat the entry's label. Regression test: a 16 MiB
// request of one tag repeated produced a 1 GiB response.
func TestConfirmRefusesRepeatedHits(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 4), entriesOf(synthetic(t, 0, 5), func(int) string { return strings.Repeat("L", MaxLabelLen) }), nil)
	q, err := NewQuerier(p.Filter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	qu, req, err := q.Blind(synthetic(t, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	creq, err := qu.Finalize(resp)
	if err != nil || creq.Len() != 1 {
		t.Fatalf("%d candidates, %v", creq.Len(), err)
	}
	one := creq.tags
	creq.tags = bytes.Repeat(one, 1000)
	if _, _, err := p.Confirm(creq); !errors.Is(err, ErrMalformed) {
		t.Fatalf("repeated tag: got %v, want ErrMalformed", err)
	}
	// Repeated tags that are not entries cost one byte each and are
	// answered.
	creq.tags = append(bytes.Repeat(make([]byte, tagSize), 10), one...)
	cresp, hits, err := p.Confirm(creq)
	if err != nil || cresp.Len() != 11 || len(hits) != 1 {
		t.Fatalf("%v, %d answers, %d hits", err, cresp.Len(), len(hits))
	}
}
