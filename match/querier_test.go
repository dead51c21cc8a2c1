package match

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/fedmatch/fedmatch/match/indicator"
)

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

// TestChunkSizes: with ChunkSize unset, a small batch is split between the
// workers. Regression test: every batch used chunks of 1024, so a batch of
// 1000 indicators ran on one core on both sides.
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

// exchange publishes a small list under key and blinds a query against it.
func exchange(t *testing.T, key *PrivateKey, mode Mode) (*Publisher, *Query, *EvalRequest) {
	t.Helper()
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 30), nil), &PublishOptions{Mode: mode})
	q, err := NewQuerier(p.Filter(), &QuerierOptions{InsecureAllowOPRF: true, ChunkSize: MinChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	qu, req, err := q.Blind(synthetic(t, 20, 40))
	if err != nil {
		t.Fatal(err)
	}
	return p, qu, req
}

// TestProofFromAnotherKey has a publisher evaluate with a key other than
// the one its filter commits to, relabelling the response with the
// filter's key id: the proof must not verify.
func TestProofFromAnotherKey(t *testing.T) {
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		for _, m := range []Mode{ModePOPRF, ModeVOPRF} {
			t.Run(s.String()+"/"+m.String(), func(t *testing.T) {
				p, qu, req := exchange(t, testKey(t, s, 4), m)
				other := mustPublish(t, testKey(t, s, 5), nil, &PublishOptions{Mode: m})

				// Another key's publisher refuses the request outright.
				if _, err := other.Evaluate(req); !errors.Is(err, ErrWrongKey) {
					t.Fatalf("other publisher: got %v, want ErrWrongKey", err)
				}
				// Forced through, the evaluation is refused at Finalize.
				forged := *req
				forged.hdr.keyID = other.hdr.keyID
				resp, err := other.Evaluate(&forged)
				if err != nil {
					t.Fatal(err)
				}
				resp.hdr.keyID = p.hdr.keyID
				if _, err := qu.Finalize(resp); !errors.Is(err, ErrInvalidProof) {
					t.Fatalf("proof under another key: got %v, want ErrInvalidProof", err)
				}
				// The honest response still works after the refusal.
				good, err := p.Evaluate(req)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := qu.Finalize(good); err != nil {
					t.Fatalf("honest response after a forged one: %v", err)
				}
			})
		}
	}
}

// TestProofSwappedChunks moves elements between chunks: every chunk's
// proof covers exactly its own elements.
func TestProofSwappedChunks(t *testing.T) {
	p, qu, req := exchange(t, testKey(t, SuiteRistretto255, 4), ModePOPRF)
	resp, err := p.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	el := SuiteRistretto255.params().elemLen
	e := resp.elems
	tmp := bytes.Clone(e[:el])
	j := MinChunkSize // element 0 (chunk 0) <-> element j (chunk 1)
	copy(e[:el], e[j*el:(j+1)*el])
	copy(e[j*el:(j+1)*el], tmp)
	if _, err := qu.Finalize(resp); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("got %v, want ErrInvalidProof", err)
	}
}

func TestFilterFromAnotherKeyOrSuite(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 4)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 10), nil), nil)
	if _, err := NewQuerier(p.Filter(), &QuerierOptions{PublicKey: testKey(t, SuiteRistretto255, 5).Public()}); !errors.Is(err, ErrWrongKey) {
		t.Errorf("pinned another key: got %v, want ErrWrongKey", err)
	}
	if _, err := NewQuerier(p.Filter(), &QuerierOptions{PublicKey: testKey(t, SuiteP256, 4).Public()}); !errors.Is(err, ErrWrongSuite) {
		t.Errorf("pinned a P-256 key: got %v, want ErrWrongSuite", err)
	}
	if _, err := NewQuerier(p.Filter(), &QuerierOptions{PublicKey: key.Public()}); err != nil {
		t.Errorf("pinned the right key: %v", err)
	}

	// A publisher refuses requests and confirmations made for another
	// filter: another key, another suite, another mode.
	_, quOther, reqOther := exchange(t, testKey(t, SuiteRistretto255, 5), ModePOPRF)
	if _, err := p.Evaluate(reqOther); !errors.Is(err, ErrWrongKey) {
		t.Errorf("request for another key: got %v, want ErrWrongKey", err)
	}
	_, _, reqP256 := exchange(t, testKey(t, SuiteP256, 4), ModePOPRF)
	if _, err := p.Evaluate(reqP256); !errors.Is(err, ErrWrongSuite) {
		t.Errorf("request of another suite: got %v, want ErrWrongSuite", err)
	}
	_, _, reqV := exchange(t, key, ModeVOPRF)
	if _, err := p.Evaluate(reqV); !errors.Is(err, ErrWrongMode) {
		t.Errorf("request of another mode: got %v, want ErrWrongMode", err)
	}
	// A querier refuses a response from another publisher.
	resp, err := p.Evaluate(mustReq(t, p))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := quOther.Finalize(resp); !errors.Is(err, ErrWrongKey) {
		t.Errorf("response from another key: got %v, want ErrWrongKey", err)
	}
}

func mustReq(t *testing.T, p *Publisher) *EvalRequest {
	t.Helper()
	q, err := NewQuerier(p.Filter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, req, err := q.Blind(synthetic(t, 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestBaseModeNeedsOptIn(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 4), nil, &PublishOptions{Mode: ModeOPRF})
	if _, err := NewQuerier(p.Filter(), nil); !errors.Is(err, ErrInsecureMode) {
		t.Fatalf("got %v, want ErrInsecureMode", err)
	}
	if _, err := NewQuerier(p.Filter(), &QuerierOptions{InsecureAllowOPRF: true}); err != nil {
		t.Fatal(err)
	}
}
