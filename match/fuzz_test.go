package match

import (
	"bytes"
	"sync"
	"testing"
)

// Every decoder of outside bytes has a fuzz target. Each checks that the
// decoder does not panic, and that whatever it accepts re-encodes to the
// same bytes; the protocol messages are then also handed to the code that
// would use them (Evaluate, Finalize, Confirm, Hits), which must not panic
// either.

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

func FuzzEvalRequest(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r EvalRequest
		if r.UnmarshalBinary(b) != nil {
			return
		}
		checkReencode(t, b, &r)
		if r.Len() <= 64 { // keep each run fast
			fuzzFixture.p.Evaluate(&r)
		}
	})
}

func FuzzEvalResponse(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r EvalResponse
		if r.UnmarshalBinary(b) != nil {
			return
		}
		checkReencode(t, b, &r)
		if r.Len() <= 64 {
			qu, _, err := fuzzFixture.q.Blind(synthetic(t, 15, r.Len()))
			if err != nil {
				t.Fatal(err)
			}
			qu.Finalize(&r)
		}
	})
}

func FuzzConfirmRequest(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r ConfirmRequest
		if r.UnmarshalBinary(b) != nil {
			return
		}
		checkReencode(t, b, &r)
		fuzzFixture.p.Confirm(&r)
	})
}

func FuzzConfirmResponse(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r ConfirmResponse
		if r.UnmarshalBinary(b) != nil {
			return
		}
		checkReencode(t, b, &r)
	})
}

func FuzzPrivateKey(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePrivateKey(b)
		if err != nil {
			return
		}
		checkReencode(t, b, k)
		if k.Public() == nil {
			t.Fatal("key without public half")
		}
	})
}

func FuzzPublicKey(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePublicKey(b)
		if err != nil {
			return
		}
		checkReencode(t, b, k)
	})
}
