package match

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bits-and-blooms/bloom/v3"

	"github.com/fedmatch/fedmatch/internal/wire"
	"github.com/fedmatch/fedmatch/match/indicator"
)

func TestPublishDeterministicAcrossWorkers(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	es := entriesOf(synthetic(t, 0, 1500), nil)
	var encs [][]byte
	for _, w := range []int{1, 2, 5} {
		p := mustPublish(t, key, es, &PublishOptions{Workers: w})
		b, _ := p.Filter().MarshalBinary()
		encs = append(encs, b)
	}
	if !bytes.Equal(encs[0], encs[1]) || !bytes.Equal(encs[0], encs[2]) {
		t.Fatal("filters built with 1, 2 and 5 workers differ")
	}
}

func TestPublishProgressAndCancel(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	es := entriesOf(synthetic(t, 0, 2000), nil)
	var seen []int
	p := mustPublish(t, key, es, &PublishOptions{Progress: func(n int) error {
		seen = append(seen, n)
		return nil
	}})
	if len(seen) < 2 || !slices.IsSorted(seen) || seen[len(seen)-1] != len(es) || p.Entries() != len(es) {
		t.Fatalf("progress reports %v for %d entries", seen, len(es))
	}

	stop := errors.New("operator cancelled")
	consumed := 0
	entries := func(yield func(Entry) bool) {
		for _, e := range es {
			consumed++
			if !yield(e) {
				return
			}
		}
	}
	_, err := Publish(key, entries, &PublishOptions{Workers: 1, Progress: func(n int) error {
		if n >= 512 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) {
		t.Fatalf("cancelled build returned %v", err)
	}
	if consumed >= len(es) {
		t.Errorf("cancelled build read all %d entries", consumed)
	}
}

func TestPublishRefusesBadEntries(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	good := entriesOf(synthetic(t, 0, 10), nil)
	for _, tc := range []struct {
		name string
		bad  Entry
		want string
	}{
		{"zero indicator", Entry{}, "entry 5: zero Indicator"},
		{"long label", Entry{Indicator: good[0].Indicator, Label: strings.Repeat("x", MaxLabelLen+1)}, "entry 5: label"},
		{"long ref", Entry{Indicator: good[0].Indicator, Ref: strings.Repeat("x", MaxLabelLen+1)}, "entry 5: label or reference"},
		{"label not UTF-8", Entry{Indicator: good[0].Indicator, Label: "\xff"}, "entry 5: label or reference is not valid UTF-8"},
		{"ref not UTF-8", Entry{Indicator: good[0].Indicator, Ref: "\xff"}, "entry 5: label or reference is not valid UTF-8"},
	} {
		es := slices.Concat(good[:5], []Entry{tc.bad}, good[5:])
		_, err := Publish(key, slices.Values(es), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	for _, opts := range []*PublishOptions{
		{FalsePositiveRate: -1}, {FalsePositiveRate: 0.7}, {FalsePositiveRate: math.NaN()},
		{Mode: Mode(9)}, {NotBefore: time.Unix(100, 0), NotAfter: time.Unix(50, 0)},
	} {
		if _, err := Publish(key, slices.Values(good), opts); err == nil {
			t.Errorf("options %+v accepted", *opts)
		}
	}
	if _, err := Publish(nil, slices.Values(good), nil); err == nil {
		t.Error("nil key accepted")
	}
}

// Entries repeating an indicator keep their labels and references: a hit
// releases every label and confirms every entry. (Once a repeated
// indicator was merged into its first entry, and two cases sharing an IP
// address lost one case.)
func TestPublishRepeatedIndicators(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	a := indicator.MustNew(indicator.IPv4, "192.0.2.1")
	b := indicator.MustNew(indicator.Email, "bob@example.org")
	es := []Entry{
		{Indicator: a, Label: "first", Ref: "case-1"},
		{Indicator: b, Ref: "case-2"},
		{Indicator: indicator.MustNew(indicator.IPv4, "::ffff:192.0.2.1"), Label: "second", Ref: "case-3"},
		{Indicator: a, Ref: "case-4"},                 // no label
		{Indicator: a, Label: "first", Ref: "case-5"}, // a label already released
	}
	p := mustPublish(t, key, es, nil)
	if p.Entries() != 5 || p.Filter().Len() != 2 {
		t.Fatalf("entries %d, distinct %d; want 5, 2", p.Entries(), p.Filter().Len())
	}
	hits, confirmed, _ := roundTrip(t, p, nil, []indicator.Indicator{a, indicator.MustNew(indicator.IPv4, "192.0.2.2")})
	if len(hits) != 1 || hits[0].Indicator != a || !slices.Equal(hits[0].Labels, []string{"first", "second"}) {
		t.Fatalf("hits %+v", hits)
	}
	want := []ConfirmedEntry{{0, "first", "case-1"}, {2, "second", "case-3"}, {3, "", "case-4"}, {4, "first", "case-5"}}
	if !slices.Equal(confirmed, want) {
		t.Fatalf("confirmed %+v, want %+v", confirmed, want)
	}
	hits, confirmed, _ = roundTrip(t, p, nil, []indicator.Indicator{b, b})
	if len(hits) != 1 || hits[0].Labels != nil || len(confirmed) != 1 || confirmed[0].Ref != "case-2" {
		t.Fatalf("hits %+v, confirmed %+v", hits, confirmed)
	}
}

// At most MaxRepeats entries may hold one indicator; past that, Publish
// names the entries without quoting the indicator.
func TestPublishTooManyRepeats(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	ind := indicator.MustNew(indicator.Email, "shared@example.org")
	es := entriesOf(synthetic(t, 0, 3), nil)
	for i := range MaxRepeats {
		es = append(es, Entry{Indicator: ind, Label: fmt.Sprint("case ", i)})
	}
	p := mustPublish(t, key, es, nil)
	hits, confirmed, _ := roundTrip(t, p, nil, []indicator.Indicator{ind})
	if len(hits) != 1 || len(hits[0].Labels) != MaxRepeats || len(confirmed) != MaxRepeats {
		t.Fatalf("%d hits, %d confirmed", len(hits), len(confirmed))
	}
	_, err := Publish(key, slices.Values(append(es, Entry{Indicator: ind})), nil)
	if err == nil || !strings.Contains(err.Error(), "entries 3, 4, ...") || strings.Contains(err.Error(), "shared@") {
		t.Fatalf("%d repeats: %v", MaxRepeats+1, err)
	}
}

func TestPublishEmpty(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 7), nil, nil)
	if p.Filter().Len() != 0 || p.Filter().SetBits() != 0 {
		t.Fatalf("empty list: n %d, %d bits set", p.Filter().Len(), p.Filter().SetBits())
	}
	hits, _, cands := roundTrip(t, p, nil, synthetic(t, 0, 5))
	if len(hits) != 0 || cands != 0 {
		t.Fatalf("empty list gave %d hits, %d candidates", len(hits), cands)
	}
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

func TestQueryMisuse(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 7), entriesOf(synthetic(t, 0, 10), nil), nil)
	q, err := NewQuerier(p.Filter(), &QuerierOptions{ChunkSize: MinChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.Blind(nil); !errors.Is(err, ErrEmptyBatch) {
		t.Errorf("empty batch: %v", err)
	}
	mixed := []indicator.Indicator{indicator.MustNew(indicator.IPv4, "192.0.2.1"), indicator.MustNew(indicator.Email, "a@example.org")}
	if _, _, err := q.Blind(mixed); !errors.Is(err, ErrMixedKinds) {
		t.Errorf("mixed kinds: %v", err)
	}
	if _, _, err := q.Blind([]indicator.Indicator{mixed[0], {}}); !errors.Is(err, indicator.ErrInvalid) {
		t.Errorf("zero indicator: %v", err)
	}
	qu, req, err := q.Blind(slices.Concat(synthetic(t, 0, 4), synthetic(t, 0, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if qu.Len() != 4 || req.Len() != 4 || req.ChunkSize() != MinChunkSize || req.Kind() != "email" {
		t.Errorf("duplicates not merged: %d/%d, chunk %d, kind %s", qu.Len(), req.Len(), req.ChunkSize(), req.Kind())
	}
	if _, err := qu.Hits(&ConfirmResponse{hdr: p.hdr}); err == nil {
		t.Error("Hits before Finalize accepted")
	}
	resp, err := p.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	short := *resp
	short.count = 3
	if _, err := qu.Finalize(&short); !errors.Is(err, ErrResponseMismatch) {
		t.Errorf("response for another count: %v", err)
	}
	creq, err := qu.Finalize(resp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := qu.Finalize(resp); err == nil {
		t.Error("second Finalize accepted")
	}
	cresp, _, err := p.Confirm(creq)
	if err != nil {
		t.Fatal(err)
	}
	wrong := &ConfirmResponse{hdr: cresp.hdr, results: append(slices.Clone(cresp.results), confirmResult{})}
	if _, err := qu.Hits(wrong); !errors.Is(err, ErrResponseMismatch) {
		t.Errorf("confirm response of another length: %v", err)
	}
	hits, err := qu.Hits(cresp)
	if err != nil || len(hits) != 4 {
		t.Fatalf("hits %v, %v", hits, err)
	}
	if _, err := qu.Hits(cresp); err == nil {
		t.Error("second Hits accepted")
	}
	for _, opts := range []*QuerierOptions{
		{ChunkSize: MaxChunkSize + 1}, {ChunkSize: MinChunkSize - 1}, {ChunkSize: -1},
		{MaxFalsePositiveRate: math.NaN()}, {MaxFalsePositiveRate: -1}, {MaxFalsePositiveRate: 0.6},
	} {
		if _, err := NewQuerier(p.Filter(), opts); err == nil {
			t.Errorf("options %+v accepted", *opts)
		}
	}
}

func TestKeys(t *testing.T) {
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		k1, err := GenerateKey(s)
		if err != nil {
			t.Fatal(err)
		}
		k2, _ := GenerateKey(s)
		if k1.Equal(k2) || k1.KeyID() == k2.KeyID() {
			t.Fatal("two generated keys are equal")
		}
		b, _ := k1.MarshalBinary()
		k3, err := ParsePrivateKey(b)
		if err != nil || !k3.Equal(k1) || !k3.Public().Equal(k1.Public()) || k3.Suite() != s {
			t.Fatalf("private key round trip: %v", err)
		}
		pb, _ := k1.Public().MarshalBinary()
		pk, err := ParsePublicKey(pb)
		if err != nil || !pk.Equal(k1.Public()) || pk.KeyID() != k1.KeyID() {
			t.Fatalf("public key round trip: %v", err)
		}
		pk2, err := NewPublicKey(s, k1.Public().Bytes())
		if err != nil || !pk2.Equal(pk) {
			t.Fatalf("NewPublicKey: %v", err)
		}
		if _, err := NewPublicKey(s, append(k1.Public().Bytes(), 0)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("NewPublicKey with a trailing byte: %v", err)
		}
		// A zero scalar and a non-canonical one (the group order's
		// encoding is not reduced) are refused.
		zero := bytes.Clone(b)
		clear(zero[wire0(s):])
		if _, err := ParsePrivateKey(zero); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("zero scalar: %v", err)
		}
		ff := bytes.Clone(b)
		for i := wire0(s); i < len(ff); i++ {
			ff[i] = 0xff
		}
		if _, err := ParsePrivateKey(ff); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("unreduced scalar: %v", err)
		}
		// The identity is not a public key.
		if _, err := NewPublicKey(s, make([]byte, s.params().elemLen)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("identity public key: %v", err)
		}
	}
	if _, err := GenerateKey(Suite(7)); !errors.Is(err, ErrWrongSuite) {
		t.Errorf("invalid suite: %v", err)
	}
	if _, err := DeriveKey(SuiteRistretto255, ModePOPRF, make([]byte, 31), nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("short seed: %v", err)
	}
	// DeriveKey is deterministic and depends on seed, info and mode.
	seed := bytes.Repeat([]byte{9}, 32)
	a, _ := DeriveKey(SuiteRistretto255, ModePOPRF, seed, []byte("a"))
	a2, _ := DeriveKey(SuiteRistretto255, ModePOPRF, seed, []byte("a"))
	b, _ := DeriveKey(SuiteRistretto255, ModePOPRF, seed, []byte("b"))
	c, _ := DeriveKey(SuiteRistretto255, ModeVOPRF, seed, []byte("a"))
	if !a.Equal(a2) || a.Equal(b) || a.Equal(c) {
		t.Error("DeriveKey is not a function of (seed, info, mode)")
	}
	if got := fmt.Sprint(SuiteRistretto255, SuiteP256, ModePOPRF, ModeVOPRF, ModeOPRF); got != "ristretto255-SHA512 P256-SHA256 POPRF VOPRF OPRF" {
		t.Errorf("names: %s", got)
	}
}

// wire0 is the offset of the scalar in a private key encoding: the header
// and the suite code.
func wire0(Suite) int { return wire.HeaderLen + 1 }

func TestChunkSizes(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 7), nil, nil)
	for _, c := range []struct{ opt, workers, n, want int }{
		{0, 2, 1000, 500}, {0, 2, 10, MinAutoChunkSize}, {0, 2, 150, 75}, {0, 4, 100_000, DefaultChunkSize},
		{0, 1, 1000, 1000}, {17, 2, 1000, 17},
	} {
		q, err := NewQuerier(p.Filter(), &QuerierOptions{ChunkSize: c.opt, Workers: c.workers})
		if err != nil {
			t.Fatal(err)
		}
		if got := q.chunkFor(c.n); got != c.want {
			t.Errorf("chunk option %d, %d workers, %d elements: chunk %d, want %d", c.opt, c.workers, c.n, got, c.want)
		}
	}
	// The request carries the chunk the query used.
	q, _ := NewQuerier(p.Filter(), &QuerierOptions{Workers: 2})
	_, req, err := q.Blind(synthetic(t, 0, 150))
	if err != nil || req.ChunkSize() != 75 {
		t.Fatalf("request chunk %d, %v", req.ChunkSize(), err)
	}
}

func TestPublishZeroKey(t *testing.T) {
	if _, err := Publish(&PrivateKey{}, nil, nil); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("zero PrivateKey: %v", err)
	}
}

// TestPublishPanicsReachCaller: a panic in the caller's iterator or
// Progress callback reaches the caller, and Publish's goroutines end.
// Regression test: Progress ran on an internal goroutine, where a panic
// killed the process.
func TestPublishPanicsReachCaller(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	es := entriesOf(synthetic(t, 0, 2000), nil)
	before := runtime.NumGoroutine()
	for _, tc := range []struct {
		name    string
		entries func(func(Entry) bool)
		opts    *PublishOptions
	}{
		{"iterator", func(yield func(Entry) bool) {
			for i, e := range es {
				if i == 700 {
					panic("iterator failed")
				}
				if !yield(e) {
					return
				}
			}
		}, &PublishOptions{Workers: 2}},
		{"progress", slices.Values(es), &PublishOptions{Workers: 2, Progress: func(n int) error {
			if n > 0 {
				panic("progress failed")
			}
			return nil
		}}},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "failed") {
					t.Errorf("%s: recovered %v", tc.name, r)
				}
			}()
			Publish(key, tc.entries, tc.opts)
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left running, %d before", n, before)
	}
}
