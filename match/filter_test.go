package match

import (
	"bytes"
	"crypto/rand"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
)

func FuzzFilter(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var fl Filter
		if fl.UnmarshalBinary(b) != nil {
			return
		}
		checkReencode(t, b, &fl)
		if q, err := NewQuerier(&fl, &QuerierOptions{InsecureAllowOPRF: true, MaxFalsePositiveRate: 0.5}); err == nil {
			q.Blind(synthetic(t, 0, 2))
		}
	})
}

func TestFilterMetadata(t *testing.T) {
	nb, na := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	key := testKey(t, SuiteP256, 7)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 10), nil), &PublishOptions{Mode: ModeVOPRF, Epoch: 42, NotBefore: nb, NotAfter: na})
	var f Filter
	reencode(t, p.Filter(), &f)
	if f.Suite() != SuiteP256 || f.Mode() != ModeVOPRF || f.Epoch() != 42 || f.KeyID() != key.KeyID() ||
		!f.NotBefore().Equal(nb) || !f.NotAfter().Equal(na) || !f.PublicKey().Equal(key.Public()) || f.Len() != 10 {
		t.Fatalf("filter metadata did not survive encoding: %v %v %d %v %v %v", f.Suite(), f.Mode(), f.Epoch(), f.KeyID(), f.NotBefore(), f.NotAfter())
	}
	for _, c := range []struct {
		t    time.Time
		want bool
	}{{nb.Add(-time.Second), false}, {nb, true}, {na, true}, {na.Add(time.Second), false}} {
		if f.ValidAt(c.t) != c.want {
			t.Errorf("ValidAt(%v) = %v", c.t, !c.want)
		}
	}
	if b, _ := f.MarshalBinary(); f.Size() != len(b) {
		t.Errorf("Size() = %d, encoding is %d bytes", f.Size(), len(b))
	}
}

// TestFilterFalsePositiveRate measures the Bloom filter alone, over
// random tags, at a rate high enough to count: the measured rate must be
// within 5 sigma of the configured one.
func TestFilterFalsePositiveRate(t *testing.T) {
	const n, trials, fpr = 20_000, 400_000, 1e-3
	f, idx := randomFilter(t, n, fpr)
	pos := newPositioner()
	fp := 0
	for range trials {
		if f.contains(pos, randomTag()) {
			fp++
		}
	}
	for _, e := range idx {
		if !f.contains(pos, e.tag) {
			t.Fatal("false negative")
		}
	}
	mean := fpr * trials
	if sigma := math.Sqrt(mean); math.Abs(float64(fp)-mean) > 5*sigma {
		t.Errorf("%d false positives in %d trials, want %.0f ± %.0f", fp, trials, mean, 5*sigma)
	}
	if est := f.EstimatedFalsePositiveRate(); est < fpr/2 || est > 2*fpr {
		t.Errorf("estimated rate %g, configured %g", est, fpr)
	}
}

func randomTag() (t tag) {
	rand.Read(t[:])
	return t
}

func randomFilter(t *testing.T, n int, fpr float64) (*Filter, []indexEntry) {
	t.Helper()
	idx := make([]indexEntry, n)
	for i := range idx {
		idx[i].tag = randomTag()
	}
	idx, err := sortIndex(idx)
	if err != nil {
		t.Fatal(err)
	}
	f, err := buildFilter(idx, fpr)
	if err != nil {
		t.Fatal(err)
	}
	return f, idx
}

// TestSmallFiltersKeepTheirRate: small filters (few bits, many hashes)
// keep the false-positive rate their set bits give. Regression test: with
// bloom's double hashing, positions collapsed for small m, and a filter of
// one entry let through about 3 in 1000 random indicators against a
// configured 1e-9.
func TestSmallFiltersKeepTheirRate(t *testing.T) {
	const trials = 200_000
	pos := newPositioner()
	for _, n := range []int{1, 3, 10} {
		f, _ := randomFilter(t, n, DefaultFalsePositiveRate)
		fp := 0
		for range trials {
			if f.contains(pos, randomTag()) {
				fp++
			}
		}
		// Expected trials·(X/m)^k, far below one.
		if est := f.EstimatedFalsePositiveRate(); fp > 2 || est > 1e-6 {
			t.Errorf("n=%d (m=%d, k=%d): %d of %d random tags pass, estimate %g", n, f.Bits(), f.Hashes(), fp, trials, est)
		}
	}
}

// TestForgedTinyFilter is the attack the density check exists for: a
// publisher forges a filter of m = 2 bits, one set, k = 64. Its estimated
// rate (1/2)^64 must be the real one, so the querier may accept it.
// Regression test: with bloom's double hashing about 12% of a querier's
// indicators passed this filter and went to the publisher at confirm time.
func TestForgedTinyFilter(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 7), nil, nil)
	f := *p.Filter()
	f.bf = bloom.New(2, 64)
	f.bf.BitSet().Set(0)
	f.n, f.setBits = 1, 1
	if _, err := NewQuerier(&f, nil); err != nil {
		t.Fatalf("querier refused a harmless filter: %v", err)
	}
	pos := newPositioner()
	for i := range 100_000 {
		if f.contains(pos, randomTag()) {
			t.Fatalf("random tag %d passed a filter whose rate is 2^-64", i)
		}
	}
}

// TestDenseFilterRefused: a publisher that sets most bits would make every
// query a candidate and harvest the querier's list at confirm time.
func TestDenseFilterRefused(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 4), entriesOf(synthetic(t, 0, 100), nil), nil)
	honest := p.Filter()
	if _, err := NewQuerier(honest, nil); err != nil {
		t.Fatalf("honest filter refused: %v", err)
	}
	if fpr := honest.EstimatedFalsePositiveRate(); fpr > 1e-8 {
		t.Errorf("honest filter at the default rate estimates %g", fpr)
	}
	b, _ := honest.MarshalBinary()
	set := func(b []byte, frac float64) []byte {
		b = bytes.Clone(b)
		bitsOff := filterFixedLen(SuiteRistretto255)
		m := honest.Bits()
		for i := 0; i < int(float64(m)*frac); i++ {
			b[bitsOff+i/8] |= 1 << (i % 8)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		opts *QuerierOptions
		want string
	}{
		{"all ones", set(b, 1), nil, "more than k·n"},
		{"a third more ones", set(b, 0.3), nil, "honest filter"},
		{"declared n large", withN(t, set(b, 0.7), 1_000_000), nil, "false-positive rate"},
		{"bound tighter than rate", b, &QuerierOptions{MaxFalsePositiveRate: 1e-30}, "false-positive rate"},
	} {
		var f Filter
		if err := f.UnmarshalBinary(tc.data); err != nil {
			t.Fatal(err)
		}
		_, err := NewQuerier(&f, tc.opts)
		if !errors.Is(err, ErrUnsafeFilter) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrUnsafeFilter (%s)", tc.name, err, tc.want)
		}
	}
}

func withN(t *testing.T, b []byte, n uint64) []byte {
	t.Helper()
	off := msgHeaderLen + SuiteRistretto255.params().elemLen + 24
	b = bytes.Clone(b)
	for i := range 8 {
		b[off+i] = byte(n >> (56 - 8*i))
	}
	return b
}
