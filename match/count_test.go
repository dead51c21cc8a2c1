package match

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"testing"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// countExchange runs a cardinality-only exchange of query against p.
func countExchange(t testing.TB, p *Publisher, opts *QuerierOptions, query []indicator.Indicator) (CountResult, error) {
	t.Helper()
	q, err := NewQuerier(p.CountFilter(), opts)
	if err != nil {
		t.Fatal(err)
	}
	cq, req, err := q.BlindCount(query)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.EvaluateCount(wireCopy(t, req, new(CountRequest)))
	if err != nil {
		t.Fatal(err)
	}
	return cq.Count(wireCopy(t, resp, new(CountResponse)))
}

// wireCopy sends m through its encoding, as between two agencies.
func wireCopy[T binaryDecoder](t testing.TB, m binaryCodec, into T) T {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := into.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return into
}

func TestCountExact(t *testing.T) {
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		for _, m := range []Mode{ModePOPRF, ModeVOPRF, ModeOPRF} {
			if s == SuiteP256 && m != ModePOPRF && testing.Short() {
				continue
			}
			t.Run(fmt.Sprintf("%v/%v", s, m), func(t *testing.T) {
				key := testKey(t, s, 21)
				p := mustPublish(t, key, entriesOf(synthetic(t, 0, 700), nil), &PublishOptions{Mode: m, Count: true})
				// 300 of the publisher's, 400 not, and repeats, which
				// count once.
				query := append(synthetic(t, 400, 700), synthetic(t, 650, 20)...)
				res, err := countExchange(t, p, &QuerierOptions{InsecureAllowOPRF: true}, query)
				if err != nil {
					t.Fatal(err)
				}
				// At the default false-positive rate, 1e-9, the 400 others
				// give a false positive with probability 4e-7.
				if res.Queried != 700 || res.Shared != 300 {
					t.Fatalf("counted %d shared of %d, want 300 of 700", res.Shared, res.Queried)
				}
				if res.ExpectedFalsePositives <= 0 || res.ExpectedFalsePositives > 400*4*DefaultFalsePositiveRate {
					t.Errorf("expected false positives %g", res.ExpectedFalsePositives)
				}
			})
		}
	}
}

// At a high false-positive rate the count is the shared indicators plus
// false positives, within a bound the result's own estimate gives.
func TestCountFalsePositiveBound(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 22)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 500), nil), &PublishOptions{Count: true, FalsePositiveRate: 0.02})
	query := synthetic(t, 400, 3100) // 100 shared, 3000 not
	res, err := countExchange(t, p, &QuerierOptions{MaxFalsePositiveRate: 0.05}, query)
	if err != nil {
		t.Fatal(err)
	}
	fp := float64(res.Shared - 100)
	mean := 3000 * p.CountFilter().EstimatedFalsePositiveRate()
	// Binomial(3000, about 0.02): six standard deviations either side.
	if sd := math.Sqrt(mean); fp < mean-6*sd || fp > mean+6*sd || res.Shared < 100 {
		t.Fatalf("counted %d: %v false positives, expected %.1f ± %.1f", res.Shared, fp, mean, 6*sd)
	}
	if math.Abs(res.ExpectedFalsePositives-float64(res.Queried-res.Shared)*p.CountFilter().EstimatedFalsePositiveRate()) > 1e-9 {
		t.Fatalf("ExpectedFalsePositives %g", res.ExpectedFalsePositives)
	}
}

// The publisher returns its evaluations in a random order: the same batch
// evaluated twice comes back in different orders, and over many runs the
// evaluation of any one element lands in every position about equally
// often.
func TestCountShuffle(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 23)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 10), nil), &PublishOptions{Count: true})
	q, err := NewQuerier(p.CountFilter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	_, req, err := q.BlindCount(synthetic(t, 5, n))
	if err != nil {
		t.Fatal(err)
	}
	el := SuiteRistretto255.params().elemLen
	// The evaluation of each element, in request order: a response's
	// elements are these, permuted.
	first, err := p.evaluateCount(req, nil, zeroReader{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.evaluateCount(req, nil, zeroReader{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.elems, again.elems) {
		t.Fatal("the shuffle does not follow its seed")
	}
	position := func(resp *CountResponse, e []byte) int {
		for i := range n {
			if bytes.Equal(resp.elems[i*el:(i+1)*el], e) {
				return i
			}
		}
		t.Fatalf("element %x not in the response", e)
		return -1
	}
	runs := 2400
	if testing.Short() {
		runs = 800
	}
	var counts [n][n]int // counts[e][pos]: how often element e came back at pos
	orders := map[string]bool{}
	for range runs {
		resp, err := p.EvaluateCount(req)
		if err != nil {
			t.Fatal(err)
		}
		orders[string(resp.elems)] = true
		for e := range n {
			counts[e][position(resp, first.elems[e*el:(e+1)*el])]++
		}
	}
	// 8! orders: repeats are rare.
	if len(orders) < runs*9/10 {
		t.Fatalf("%d distinct orders in %d runs", len(orders), runs)
	}
	// Chi-square with 7 degrees of freedom, per element: above 30 has
	// probability about 1e-4 for a uniform shuffle.
	want := float64(runs) / n
	for e := range n {
		chi := 0.0
		for pos := range n {
			d := float64(counts[e][pos]) - want
			chi += d * d / want
		}
		if chi > 30 {
			t.Errorf("element %d: positions %v, chi-square %.1f", e, counts[e], chi)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// A response that changes, drops or repeats an element fails the sum
// proof in the verifiable modes; a repeated element is caught in every
// mode. What the proof cannot catch, a change that keeps the sum, can only
// lower the count.
func TestCountTampered(t *testing.T) {
	for _, m := range []Mode{ModePOPRF, ModeVOPRF, ModeOPRF} {
		t.Run(m.String(), func(t *testing.T) {
			key := testKey(t, SuiteRistretto255, 24)
			p := mustPublish(t, key, entriesOf(synthetic(t, 0, 50), nil), &PublishOptions{Mode: m, Count: true})
			q, err := NewQuerier(p.CountFilter(), &QuerierOptions{InsecureAllowOPRF: true})
			if err != nil {
				t.Fatal(err)
			}
			sp := SuiteRistretto255.params()
			el := sp.elemLen
			run := func(tamper func(r *CountResponse)) (CountResult, error) {
				cq, req, err := q.BlindCount(synthetic(t, 30, 40)) // 20 shared
				if err != nil {
					t.Fatal(err)
				}
				resp, err := p.EvaluateCount(req)
				if err != nil {
					t.Fatal(err)
				}
				tamper(resp)
				return cq.Count(resp)
			}
			if res, err := run(func(*CountResponse) {}); err != nil || res.Shared != 20 {
				t.Fatalf("honest response: %+v, %v", res, err)
			}
			random := sp.group.RandomElement(mrand.NewChaCha8([32]byte{5}))
			renc, _ := random.MarshalBinaryCompress()
			_, err = run(func(r *CountResponse) { copy(r.elems[3*el:], renc) })
			if m.verifiable() && !errors.Is(err, ErrInvalidProof) {
				t.Errorf("an element replaced: %v, want ErrInvalidProof", err)
			}
			_, err = run(func(r *CountResponse) { copy(r.elems[5*el:6*el], r.elems[2*el:3*el]) })
			if want := ErrCountResponse; m.verifiable() {
				if !errors.Is(err, ErrInvalidProof) {
					t.Errorf("an element repeated: %v, want ErrInvalidProof", err)
				}
			} else if !errors.Is(err, want) {
				t.Errorf("an element repeated: %v, want ErrCountResponse", err)
			}
			// D₁ + Δ and D₂ − Δ keep the sum: the proof holds, and the two
			// elements unblind to points on no list.
			res, err := run(func(r *CountResponse) {
				for i := range r.count {
					if i == 7 {
						continue
					}
					a, _ := decodeElement(sp, r.elems[7*el:8*el])
					b, _ := decodeElement(sp, r.elems[i*el:(i+1)*el])
					a.Add(a, random)
					b.Add(b, sp.group.NewElement().Neg(random))
					ae, _ := a.MarshalBinaryCompress()
					be, _ := b.MarshalBinaryCompress()
					copy(r.elems[7*el:], ae)
					copy(r.elems[i*el:], be)
					return
				}
			})
			if err != nil || res.Shared > 20 || res.Shared < 18 {
				t.Errorf("a change that keeps the sum: %+v, %v; want a count of 18 to 20", res, err)
			}
			// Another key: the proof fails.
			other := mustPublish(t, testKey(t, SuiteRistretto255, 25), nil, &PublishOptions{Mode: m, Count: true})
			cq, req, err := q.BlindCount(synthetic(t, 30, 40))
			if err != nil {
				t.Fatal(err)
			}
			req.hdr.keyID = other.countHdr.keyID
			resp, err := other.EvaluateCount(req)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cq.Count(resp); !errors.Is(err, ErrWrongKey) {
				t.Errorf("another key's response: %v, want ErrWrongKey", err)
			}
			resp.hdr.keyID = p.countHdr.keyID
			cq, _, _ = q.BlindCount(synthetic(t, 30, 40))
			_, err = cq.Count(resp)
			if m.verifiable() && !errors.Is(err, ErrInvalidProof) {
				t.Errorf("another key's evaluation relabelled: %v, want ErrInvalidProof", err)
			}
		})
	}
}

func TestCountMisuse(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 26)
	es := entriesOf(synthetic(t, 0, 30), nil)
	p := mustPublish(t, key, es, &PublishOptions{Count: true})
	if mustPublish(t, key, es, nil).CountFilter() != nil {
		t.Error("a count filter without PublishOptions.Count")
	}
	cf := p.CountFilter()
	if !cf.IsCount() || p.Filter().IsCount() || cf.Len() != 30 || cf.Epoch() != p.Filter().Epoch() || cf.KeyID() == p.Filter().KeyID() || cf.KeyID() != p.countKey.KeyID() {
		t.Fatalf("count filter: count %v, n %d", cf.IsCount(), cf.Len())
	}
	// The count filter encodes as type 0x13 and decodes as a count filter,
	// whole or streamed; a filter stays a filter.
	b, _ := cf.MarshalBinary()
	var back Filter
	if err := back.UnmarshalBinary(b); err != nil || !back.IsCount() {
		t.Fatalf("decoded count filter: count %v, %v", back.IsCount(), err)
	}
	if r, err := ReadFilter(bytes.NewReader(b), nil); err != nil || !r.IsCount() {
		t.Fatalf("read count filter: %v", err)
	}
	fb, _ := p.Filter().MarshalBinary()
	if bytes.Equal(fb[:msgHeaderLen], b[:msgHeaderLen]) {
		t.Fatal("a filter and a count filter share a header")
	}
	// The count key to pin is CountPublicKey's, not the key's.
	cpk, err := key.CountPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if !cpk.Equal(cf.PublicKey()) || !cpk.Equal(p.CountPublicKey()) || cpk.Equal(key.Public()) {
		t.Fatal("CountPublicKey is not the count filter's key")
	}
	if _, err := NewQuerier(cf, &QuerierOptions{PublicKey: key.Public()}); !errors.Is(err, ErrWrongKey) {
		t.Errorf("a count filter pinned to the key: %v, want ErrWrongKey", err)
	}
	cq, err := NewQuerier(cf, &QuerierOptions{PublicKey: cpk})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cq.Blind(synthetic(t, 0, 3)); !errors.Is(err, ErrFilterUse) {
		t.Errorf("Blind on a count filter: %v, want ErrFilterUse", err)
	}
	fq, err := NewQuerier(p.Filter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fq.BlindCount(synthetic(t, 0, 3)); !errors.Is(err, ErrFilterUse) {
		t.Errorf("BlindCount on a filter: %v, want ErrFilterUse", err)
	}
	if _, _, err := cq.BlindCount(nil); !errors.Is(err, ErrEmptyBatch) {
		t.Errorf("empty batch: %v", err)
	}
	mixed := []indicator.Indicator{synthetic(t, 0, 1)[0], indicator.MustNew(indicator.Domain, "example.org")}
	if _, _, err := cq.BlindCount(mixed); !errors.Is(err, ErrMixedKinds) {
		t.Errorf("mixed kinds: %v", err)
	}
	// A count, once; a response of another size.
	query, req, err := cq.BlindCount(synthetic(t, 20, 20))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.EvaluateCount(req)
	if err != nil {
		t.Fatal(err)
	}
	short := *resp
	short.count--
	short.elems = short.elems[:len(short.elems)-SuiteRistretto255.params().elemLen]
	if _, err := query.Count(&short); !errors.Is(err, ErrResponseMismatch) {
		t.Errorf("short response: %v, want ErrResponseMismatch", err)
	}
	if _, err := query.Count(resp); err == nil {
		t.Error("a second Count succeeded")
	}
	// A request for another key or with an invalid element.
	_, req, _ = cq.BlindCount(synthetic(t, 20, 20))
	other := mustPublish(t, testKey(t, SuiteRistretto255, 27), nil, nil)
	if _, err := other.EvaluateCount(req); !errors.Is(err, ErrWrongKey) {
		t.Errorf("request for another key: %v", err)
	}
	bad := *req
	bad.elems = bytes.Clone(req.elems)
	clear(bad.elems[32:64]) // the identity
	if _, err := p.EvaluateCount(&bad); !errors.Is(err, ErrInvalidElement) {
		t.Errorf("identity element: %v", err)
	}
	// Elements that sum to the identity: no proof over them.
	g := SuiteRistretto255.params().group
	e := g.HashToElement([]byte("x"), []byte("y"))
	ne := g.NewElement().Neg(e)
	be, _ := e.MarshalBinaryCompress()
	nb, _ := ne.MarshalBinaryCompress()
	zero := &CountRequest{hdr: p.countHdr, kind: "email", count: 2, elems: append(be, nb...)}
	if _, err := p.EvaluateCount(zero); !errors.Is(err, ErrMalformed) {
		t.Errorf("elements summing to the identity: %v", err)
	}
}

// The count filter is the list as published: an addition is counted from
// the next publication, and a restored publisher evaluates counts against
// the count filter kept beside its state.
func TestCountFilterLifetime(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 28)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 40), nil), &PublishOptions{Count: true, Headroom: 1})
	if _, err := p.Add(entriesOf(synthetic(t, 40, 10), nil)); err != nil {
		t.Fatal(err)
	}
	res, err := countExchange(t, p, nil, synthetic(t, 30, 30)) // 10 listed at publication, 10 added
	if err != nil || res.Shared != 10 {
		t.Fatalf("after Add: %+v, %v; want 10", res, err)
	}
	state, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r, err := RestorePublisher(key, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.CountFilter() != nil {
		t.Fatal("a restored publisher has a count filter")
	}
	cf, _ := p.CountFilter().MarshalBinary()
	var kept Filter
	if err := kept.UnmarshalBinary(cf); err != nil {
		t.Fatal(err)
	}
	q, err := NewQuerier(&kept, nil)
	if err != nil {
		t.Fatal(err)
	}
	cq, req, err := q.BlindCount(synthetic(t, 0, 25))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.EvaluateCount(req)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := cq.Count(resp); err != nil || res.Shared != 25 {
		t.Fatalf("restored publisher: %+v, %v; want 25", res, err)
	}
}

func FuzzCountRequest(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		var r CountRequest
		if r.UnmarshalBinary(in) == nil {
			checkReencode(t, in, &r)
			h, err := ParseCountRequestHeader(in)
			if err != nil || h.Size() != len(in) || h.Len() != r.Len() || h.Kind() != r.Kind() {
				t.Fatalf("the header of an accepted request: %v", err)
			}
		}
	})
}

func FuzzCountResponse(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		var r CountResponse
		if r.UnmarshalBinary(in) == nil {
			checkReencode(t, in, &r)
		}
	})
}

// The attack the count key prevents (PROTOCOL.md 2.9): a querier that
// also holds the publisher's filter pairs each of its inputs with each
// unblinded element of a count response, computes the RFC 9497 output and
// tests it against the filter. Were the count filter under the filter's
// key, that would find exactly the shared indicators (it did, before the
// count key); under the count key it finds nothing, and the count
// filter's key is not the filter's.
func TestCountUnlinkableWithFilter(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 29)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 50), nil), &PublishOptions{Count: true})
	q, err := NewQuerier(p.CountFilter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	query := synthetic(t, 40, 30) // the publisher's 40..49, and 20 others
	sp := SuiteRistretto255.params()
	blind := sp.group.NewScalar().SetUint64(777)
	_, req, err := q.blindCount(query, blind.Copy())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.EvaluateCount(req)
	if err != nil {
		t.Fatal(err)
	}
	inv := sp.group.NewScalar().Inv(blind)
	el := sp.elemLen
	var ns [][]byte
	for i := range resp.count {
		d, err := decodeElement(sp, resp.elems[i*el:(i+1)*el])
		if err != nil {
			t.Fatal(err)
		}
		n, _ := sp.group.NewElement().Mul(d, inv).MarshalBinaryCompress()
		ns = append(ns, n)
	}
	f, pos, sc := p.Filter(), newPositioner(), newScratch(sp)
	var found []indicator.Indicator
	for _, x := range query {
		in, info := appendInput(nil, x), kindInfo(x.Kind().Name())
		for _, n := range ns {
			if f.contains(pos, deriveTag(sc.finalize(in, info, true, n))) {
				found = append(found, x)
			}
		}
	}
	if len(found) != 0 {
		t.Fatalf("with the filter the querier identifies %v as shared", found)
	}
	if p.CountFilter().KeyID() == p.Filter().KeyID() || p.CountFilter().PublicKey().Equal(p.Filter().PublicKey()) {
		t.Fatal("the count filter is under the filter's key")
	}
	// The same pairing against the count filter, with count tags, is how
	// the count is made: it finds the 10 shared, so the search above was
	// able to find something.
	cf := p.CountFilter()
	hits := 0
	for _, n := range ns {
		if cf.contains(pos, deriveCountTag(n)) {
			hits++
		}
	}
	if hits != 10 {
		t.Fatalf("%d unblinded elements pass the count filter, want 10", hits)
	}
}
