package match

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cloudflare/circl/group"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// circlScalars re-decodes scalars of the suite's group (for
// ristretto255, internal/r255's) in circl's own group of the suite, so
// that tests can hand fedmatch's values to circl's oprf package.
func circlScalars(t testing.TB, sp *suiteParams, xs []group.Scalar) []group.Scalar {
	t.Helper()
	out := make([]group.Scalar, len(xs))
	for i, x := range xs {
		out[i] = sp.circl.Group().NewScalar()
		recode(t, x, out[i])
	}
	return out
}

func recode(t testing.TB, x interface{ MarshalBinary() ([]byte, error) }, y interface{ UnmarshalBinary([]byte) error }) {
	t.Helper()
	b, err := x.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := y.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
}

// testKey derives a fixed key so failures reproduce.
func testKey(t testing.TB, s Suite, seed byte) *PrivateKey {
	t.Helper()
	sd := make([]byte, 32)
	for i := range sd {
		sd[i] = seed
	}
	k, err := DeriveKey(s, ModePOPRF, sd, []byte("fedmatch test"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// synthetic returns n distinct email indicators numbered from start.
func synthetic(t testing.TB, start, n int) []indicator.Indicator {
	t.Helper()
	out := make([]indicator.Indicator, n)
	for i := range out {
		out[i] = indicator.MustNew(indicator.Email, fmt.Sprintf("user%d@example.org", start+i))
	}
	return out
}

func entriesOf(inds []indicator.Indicator, label func(i int) string) []Entry {
	es := make([]Entry, len(inds))
	for i, ind := range inds {
		es[i] = Entry{Indicator: ind}
		if label != nil {
			es[i].Label = label(i)
		}
	}
	return es
}

func mustPublish(t testing.TB, key *PrivateKey, es []Entry, opts *PublishOptions) *Publisher {
	t.Helper()
	p, err := Publish(key, slices.Values(es), opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// roundTrip runs the whole protocol in process, through the wire
// encodings, and returns the querier's hits, the publisher's confirmed
// entries and the number of candidates.
func roundTrip(t testing.TB, p *Publisher, qopts *QuerierOptions, inds []indicator.Indicator) ([]Hit, []ConfirmedEntry, int) {
	t.Helper()
	var f Filter
	reencode(t, p.Filter(), &f)
	q, err := NewQuerier(&f, qopts)
	if err != nil {
		t.Fatal(err)
	}
	qu, req, err := q.Blind(inds)
	if err != nil {
		t.Fatal(err)
	}
	var req2 EvalRequest
	reencode(t, req, &req2)
	resp, err := p.Evaluate(&req2)
	if err != nil {
		t.Fatal(err)
	}
	var resp2 EvalResponse
	reencode(t, resp, &resp2)
	creq, err := qu.Finalize(&resp2)
	if err != nil {
		t.Fatal(err)
	}
	var creq2 ConfirmRequest
	reencode(t, creq, &creq2)
	cresp, confirmed, err := p.Confirm(&creq2)
	if err != nil {
		t.Fatal(err)
	}
	var cresp2 ConfirmResponse
	reencode(t, cresp, &cresp2)
	hits, err := qu.Hits(&cresp2)
	if err != nil {
		t.Fatal(err)
	}
	if cresp2.Confirmed() != len(hits) {
		t.Fatalf("the response confirms %d tags, the querier has %d hits", cresp2.Confirmed(), len(hits))
	}
	return hits, confirmed, qu.Candidates()
}

type binaryCodec interface {
	MarshalBinary() ([]byte, error)
}

type binaryDecoder interface {
	UnmarshalBinary([]byte) error
}

func reencode(t testing.TB, src binaryCodec, dst binaryDecoder) []byte {
	t.Helper()
	b, err := src.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.UnmarshalBinary(b); err != nil {
		t.Fatalf("%T: decoding own encoding: %v", dst, err)
	}
	return b
}

// oneLabel returns the label of a hit where at most one is expected; a hit
// with several gives them all, joined, which no single label equals.
func oneLabel(h Hit) string { return strings.Join(h.Labels, " | ") }

func bytesAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// fuzzFixture is shared by the fuzz targets, one beside each decoder
// (FuzzFilter in filter_test.go, FuzzEvalRequest and the other messages in
// messages_test.go, the keys in keys_test.go, FuzzPublisherState in
// state_test.go). Each checks that the decoder does not panic and that
// whatever it accepts re-encodes to the same bytes; the protocol messages
// are then also handed to the code that would use them (Evaluate,
// Finalize, Confirm, Hits), which must not panic either.
var fuzzFixture struct {
	once sync.Once
	p    *Publisher
	q    *Querier
	data map[string][][]byte
}

// fixture builds, once, a publisher and querier in each suite and the
// seeds: valid encodings of every message from a real exchange.
func fixture(f *testing.F) {
	fuzzFixture.once.Do(func() {
		fuzzFixture.data = map[string][][]byte{}
		for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
			for _, sm := range samples(f, s) {
				fuzzFixture.data[sm.name] = append(fuzzFixture.data[sm.name], sm.data)
			}
		}
		key := testKey(f, SuiteRistretto255, 3)
		fuzzFixture.p = mustPublish(f, key, entriesOf(synthetic(f, 0, 20), nil), &PublishOptions{Epoch: 7})
		q, err := NewQuerier(fuzzFixture.p.Filter(), &QuerierOptions{ChunkSize: MinChunkSize})
		if err != nil {
			f.Fatal(err)
		}
		fuzzFixture.q = q
	})
	for _, seeds := range fuzzFixture.data {
		for _, b := range seeds {
			f.Add(bytes.Clone(b))
		}
	}
}

func checkReencode(t *testing.T, in []byte, m binaryCodec) {
	out, err := m.MarshalBinary()
	if err != nil {
		t.Fatalf("accepted, but does not re-encode: %v", err)
	}
	if !bytes.Equal(in, out) {
		t.Fatalf("accepted, but re-encodes differently:\n in %x\nout %x", in, out)
	}
}
