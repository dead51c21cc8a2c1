package match

import (
	"bytes"
	"errors"
	"slices"
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
	// Any repeated tag is refused, an entry's or not, so that the refusal
	// does not tell whether a tag is an entry. Regression: repeated tags
	// that were not entries were answered, repeated hits refused, which
	// told a querier whether a tag was a hit without a confirmation.
	zero := make([]byte, tagSize)
	for name, tags := range map[string][]byte{
		"repeated non-entry":         slices.Concat(zero, one, zero),
		"repeated hit":               slices.Concat(one, zero, one),
		"non-entry, repeated at end": slices.Concat(bytes.Repeat([]byte{7}, tagSize), zero, zero),
	} {
		creq.tags = tags
		if _, _, err := p.Confirm(creq); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	// Distinct tags, one a hit, are answered.
	creq.tags = slices.Concat(zero, one, bytes.Repeat([]byte{7}, tagSize))
	cresp, hits, err := p.Confirm(creq)
	if err != nil || cresp.Len() != 3 || len(hits) != 1 {
		t.Fatalf("%v, %d answers, %d hits", err, cresp.Len(), len(hits))
	}
}

func TestRepeatsTag(t *testing.T) {
	tag := func(b ...byte) []byte { return append(bytes.Repeat([]byte{0}, tagSize-len(b)), b...) }
	for _, c := range []struct {
		tags []byte
		want bool
	}{
		{nil, false},
		{tag(1), false},
		{slices.Concat(tag(1), tag(2), tag(1, 0)), false},
		{slices.Concat(tag(1), tag(1)), true},
		{slices.Concat(tag(3), tag(2), tag(1), tag(2)), true},
		// Equal in the last 8 bytes only (above: in the first 8 only).
		{slices.Concat(tag(1, 0, 0, 0, 0, 0, 0, 0, 0), tag(2, 0, 0, 0, 0, 0, 0, 0, 0)), false},
		{slices.Concat(tag(1, 0, 0, 0, 0, 0, 0, 0, 5), tag(2, 0, 0, 0, 0, 0, 0, 0, 5)), false},
	} {
		if got := repeatsTag(c.tags); got != c.want {
			t.Errorf("%x: %v, want %v", c.tags, got, c.want)
		}
	}
}

func TestSparseStrings(t *testing.T) {
	if MaxLabelLen >= 1<<spanLenBits {
		t.Fatalf("a span's %d length bits cannot hold MaxLabelLen %d", spanLenBits, MaxLabelLen)
	}
	var ss sparseStrings
	long := strings.Repeat("é", MaxLabelLen/2)
	set := map[int]string{2: "a", 3: "a", 5: "b", 6: long, 7: long, 9: "a", 10: ""}
	for _, i := range []int{2, 3, 5, 6, 7, 9, 10} {
		ss.set(i, set[i])
	}
	for i := range 12 {
		if got := ss.get(i); got != set[i] {
			t.Errorf("get(%d) = %q, want %q", i, got, set[i])
		}
		if !ss.is(i, set[i]) || ss.is(i, set[i]+"x") {
			t.Errorf("is(%d) wrong", i)
		}
	}
	// Runs of one string are stored once: "a", "b", long, "a".
	if want := 1 + 1 + len(long) + 1; len(ss.data) != want {
		t.Errorf("%d bytes of strings stored, want %d", len(ss.data), want)
	}
	if ss.len() != 6 {
		t.Errorf("len %d, want 6 (the empty string is not held)", ss.len())
	}
	for first, want := range map[int]int{0: 0, 2: 0, 3: 1, 4: 2, 8: 5, 10: 6, 11: 6} {
		if got := ss.from(first); got != want {
			t.Errorf("from(%d) = %d, want %d", first, got, want)
		}
	}
	// get returns a copy: the held bytes cannot be changed through it.
	g := []byte(ss.get(5))
	g[0] = 'z'
	if ss.get(5) != "b" {
		t.Error("get shares the held bytes")
	}
}
