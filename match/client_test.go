package match

import (
	"bytes"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"
	"github.com/cloudflare/circl/zk/dleq"
)

// The client's Finalize is fedmatch's own; circl's client is the
// reference it is tested against, on the same blinds: every output byte
// for byte, and every accept or reject decision on a tampered response.

// circlClient is circl's client of mode m, with its Blind and Finalize.
type circlClient struct {
	blind    func(inputs [][]byte, blinds []oprf.Blind) (*oprf.FinalizeData, *oprf.EvaluationRequest, error)
	finalize func(fd *oprf.FinalizeData, ev *oprf.Evaluation, info []byte) ([][]byte, error)
}

func newCirclClient(t testing.TB, pub *PublicKey, m Mode) circlClient {
	cs := pub.suite.params().circl
	pk := new(oprf.PublicKey)
	if err := pk.UnmarshalBinary(cs, pub.enc); err != nil {
		t.Fatal(err)
	}
	switch m {
	case ModePOPRF:
		c := oprf.NewPartialObliviousClient(cs, pk)
		return circlClient{c.DeterministicBlind, c.Finalize}
	case ModeVOPRF:
		c := oprf.NewVerifiableClient(cs, pk)
		return circlClient{c.DeterministicBlind, func(fd *oprf.FinalizeData, ev *oprf.Evaluation, _ []byte) ([][]byte, error) {
			return c.Finalize(fd, ev)
		}}
	default:
		c := oprf.NewClient(cs)
		return circlClient{c.DeterministicBlind, func(fd *oprf.FinalizeData, ev *oprf.Evaluation, _ []byte) ([][]byte, error) {
			return c.Finalize(fd, ev)
		}}
	}
}

// circlEvaluate is circl's server's BlindEvaluate of req with key.
func circlEvaluate(t testing.TB, key *PrivateKey, m Mode, req *oprf.EvaluationRequest, info []byte) *oprf.Evaluation {
	sp := key.suite.params()
	sk := new(oprf.PrivateKey)
	raw, _ := key.k.MarshalBinary()
	if err := sk.UnmarshalBinary(sp.circl, raw); err != nil {
		t.Fatal(err)
	}
	var ev *oprf.Evaluation
	var err error
	switch m {
	case ModePOPRF:
		ev, err = oprf.NewPartialObliviousServer(sp.circl, sk).Evaluate(req, info)
	case ModeVOPRF:
		ev, err = oprf.NewVerifiableServer(sp.circl, sk).Evaluate(req)
	default:
		ev, err = oprf.NewServer(sp.circl, sk).Evaluate(req)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// wireResponse is an evaluation as the wire carries it.
type wireResponse struct {
	elems [][]byte // each Ne bytes
	proof []byte   // c || s; nil in ModeOPRF
}

func toWire(t testing.TB, ev *oprf.Evaluation) wireResponse {
	var w wireResponse
	for _, e := range ev.Elements {
		b, err := e.MarshalBinaryCompress()
		if err != nil {
			t.Fatal(err)
		}
		w.elems = append(w.elems, b)
	}
	if ev.Proof != nil {
		var err error
		if w.proof, err = ev.Proof.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// ours runs fedmatch's Finalize on w, as [Query.outputs] does: it
// decodes the elements and the proof, then finalizes. It returns the
// outputs, or nil and the error.
func ours(t testing.TB, c *client, bc *blindedChunk, w wireResponse, info []byte) ([][]byte, error) {
	sp := c.sp
	evals := make([]group.Element, len(w.elems))
	for i, b := range w.elems {
		e, err := decodeElement(sp, b)
		if err != nil {
			return nil, err
		}
		evals[i] = e
	}
	var pc, ps group.Scalar
	if c.mode.verifiable() {
		var err error
		if pc, ps, err = decodeProof(sp, w.proof); err != nil {
			return nil, err
		}
	}
	out := make([][]byte, len(w.elems))
	err := c.finalize(bc, evals, bytes.Join(w.elems, nil), pc, ps, info, func(i int, y []byte) {
		out[i] = bytes.Clone(y)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// theirs runs circl's Finalize on w, decoded by circl's own decoders.
func theirs(t testing.TB, cc circlClient, fd *oprf.FinalizeData, sp *suiteParams, w wireResponse, info []byte) ([][]byte, error) {
	ev := &oprf.Evaluation{}
	for _, b := range w.elems {
		e := sp.circl.Group().NewElement()
		if err := e.UnmarshalBinary(b); err != nil {
			return nil, err
		}
		ev.Elements = append(ev.Elements, e)
	}
	if w.proof != nil {
		ev.Proof = new(dleq.Proof)
		if err := ev.Proof.UnmarshalBinary(sp.circl.Group(), w.proof); err != nil {
			return nil, err
		}
	}
	return cc.finalize(fd, ev, info)
}

// clientCase blinds n random inputs with the same random blinds in both
// clients, checks the blinded elements agree, and has circl's server
// evaluate them.
type clientCase struct {
	sp     *suiteParams
	mode   Mode
	info   []byte
	c      *client
	cc     circlClient
	bc     *blindedChunk
	blinds []group.Scalar
	fd     *oprf.FinalizeData
	req    *oprf.EvaluationRequest
	resp   wireResponse
}

func newClientCase(t testing.TB, key *PrivateKey, m Mode, n int) *clientCase {
	sp := key.suite.params()
	k := &clientCase{sp: sp, mode: m, info: kindInfo("email")}
	var err error
	if k.c, err = newClient(key.suite, m, key.Public()); err != nil {
		t.Fatal(err)
	}
	k.cc = newCirclClient(t, key.Public(), m)
	inputs := make([][]byte, n)
	for i := range inputs {
		inputs[i] = make([]byte, 1+i%40)
		rand.Read(inputs[i])
		k.blinds = append(k.blinds, sp.group.RandomScalar(rand.Reader))
	}
	if k.bc, err = k.c.blind(inputs, k.blinds); err != nil {
		t.Fatal(err)
	}
	if k.fd, k.req, err = k.cc.blind(inputs, circlScalars(t, sp, k.blinds)); err != nil {
		t.Fatal(err)
	}
	if want := toWire(t, &oprf.Evaluation{Elements: k.req.Elements}); !bytes.Equal(k.bc.enc, bytes.Join(want.elems, nil)) {
		t.Fatal("blinded elements differ from circl's")
	}
	k.resp = toWire(t, circlEvaluate(t, key, m, k.req, k.info))
	return k
}

// check finalizes w with both clients and fails unless both accept with
// the same outputs or both refuse. It returns whether they accepted.
func (k *clientCase) check(t testing.TB, what string, w wireResponse, info []byte) bool {
	t.Helper()
	got, err := ours(t, k.c, k.bc, w, info)
	want, cerr := theirs(t, k.cc, k.fd, k.sp, w, info)
	switch {
	case (err == nil) != (cerr == nil):
		t.Errorf("%s: fedmatch says %v, circl says %v", what, err, cerr)
	case err == nil:
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%s: output %d\n got %x\nwant %x", what, i, got[i], want[i])
			}
		}
	case k.mode.verifiable() && cerr == oprf.ErrInvalidProof && !errors.Is(err, ErrInvalidProof):
		t.Errorf("%s: fedmatch says %v, want ErrInvalidProof", what, err)
	}
	return err == nil
}

var clientSuites = []Suite{SuiteRistretto255, SuiteP256}

func TestClientFinalizeMatchesCircl(t *testing.T) {
	sizes := []int{1, 2, 3, 64, 1000}
	if testing.Short() {
		sizes = sizes[:4]
	}
	for _, s := range clientSuites {
		key := testKey(t, s, 7)
		for _, m := range []Mode{ModePOPRF, ModeVOPRF, ModeOPRF} {
			for _, n := range sizes {
				t.Run(fmt.Sprintf("%v/%v/n=%d", s, m, n), func(t *testing.T) {
					k := newClientCase(t, key, m, n)
					if !k.check(t, "honest response", k.resp, k.info) {
						t.Fatal("honest response refused")
					}
				})
			}
		}
	}
}

// TestClientFinalizeTampered changes an honest response in every way a
// publisher could and checks that fedmatch refuses exactly what circl
// refuses (all of it, in the verifiable modes).
func TestClientFinalizeTampered(t *testing.T) {
	for _, s := range clientSuites {
		key, other := testKey(t, s, 7), testKey(t, s, 8)
		for _, m := range []Mode{ModePOPRF, ModeVOPRF} {
			for _, n := range []int{1, 2, 3, 64} {
				t.Run(fmt.Sprintf("%v/%v/n=%d", s, m, n), func(t *testing.T) {
					testClientTampered(t, key, other, m, n)
				})
			}
		}
	}
}

func testClientTampered(t *testing.T, key, other *PrivateKey, m Mode, n int) {
	k := newClientCase(t, key, m, n)
	sp, g := k.sp, k.sp.group
	ns := sp.scalarLen
	scalarAt := func(b []byte) group.Scalar {
		x := g.NewScalar()
		if err := x.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		return x
	}
	enc := func(x interface{ MarshalBinary() ([]byte, error) }) []byte {
		b, err := x.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	encElem := func(e group.Element) []byte {
		b, err := e.MarshalBinaryCompress()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	one := g.NewScalar().SetUint64(1)
	// Each tamper returns a changed copy of the honest response.
	type tamper struct {
		name string
		f    func(w wireResponse) wireResponse
		info []byte // nil: k.info
	}
	clone := func(w wireResponse) wireResponse {
		c := wireResponse{proof: bytes.Clone(w.proof)}
		for _, e := range w.elems {
			c.elems = append(c.elems, bytes.Clone(e))
		}
		return c
	}
	tampers := []tamper{
		{"c+1", func(w wireResponse) wireResponse {
			copy(w.proof[:ns], enc(g.NewScalar().Add(scalarAt(w.proof[:ns]), one)))
			return w
		}, nil},
		{"s+1", func(w wireResponse) wireResponse {
			copy(w.proof[ns:], enc(g.NewScalar().Add(scalarAt(w.proof[ns:]), one)))
			return w
		}, nil},
		{"c and s swapped", func(w wireResponse) wireResponse {
			w.proof = append(w.proof[ns:], w.proof[:ns]...)
			return w
		}, nil},
		{"c zero", func(w wireResponse) wireResponse {
			clear(w.proof[:ns])
			return w
		}, nil},
		{"last proof byte flipped", func(w wireResponse) wireResponse {
			w.proof[len(w.proof)-1] ^= 1
			return w
		}, nil},
		{"first proof byte flipped", func(w wireResponse) wireResponse {
			w.proof[0] ^= 0x80
			return w
		}, nil},
		{"element 0 plus G", func(w wireResponse) wireResponse {
			e := g.NewElement()
			if err := e.UnmarshalBinary(w.elems[0]); err != nil {
				t.Fatal(err)
			}
			w.elems[0] = encElem(e.Add(e, g.Generator()))
			return w
		}, nil},
		{"last element doubled", func(w wireResponse) wireResponse {
			e := g.NewElement()
			if err := e.UnmarshalBinary(w.elems[n-1]); err != nil {
				t.Fatal(err)
			}
			w.elems[n-1] = encElem(e.Dbl(e))
			return w
		}, nil},
		{"element 0 identity", func(w wireResponse) wireResponse {
			w.elems[0] = encElem(g.Identity())
			return w
		}, nil},
		{"wrong info", nil, kindInfo("phone")},
		{"wrong key", func(wireResponse) wireResponse {
			return toWire(t, circlEvaluate(t, other, m, k.req, k.info))
		}, nil},
		{"elements of the right key, proof of the wrong one", func(w wireResponse) wireResponse {
			w.proof = toWire(t, circlEvaluate(t, other, m, k.req, k.info)).proof
			return w
		}, nil},
		{"evaluated for another info", func(wireResponse) wireResponse {
			return toWire(t, circlEvaluate(t, key, m, k.req, kindInfo("phone")))
		}, nil},
		{"proof of another batch", func(w wireResponse) wireResponse {
			w.proof = newClientCase(t, key, m, n).resp.proof
			return w
		}, nil},
	}
	if n >= 2 {
		tampers = append(tampers, tamper{"elements 0 and 1 swapped", func(w wireResponse) wireResponse {
			w.elems[0], w.elems[1] = w.elems[1], w.elems[0]
			return w
		}, nil})
		tampers = append(tampers, tamper{"elements reversed", func(w wireResponse) wireResponse {
			for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
				w.elems[i], w.elems[j] = w.elems[j], w.elems[i]
			}
			return w
		}, nil})
	}
	for _, tc := range tampers {
		w, info := clone(k.resp), k.info
		if tc.f != nil {
			w = tc.f(w)
		}
		if tc.info != nil {
			info = tc.info
		}
		accepted := k.check(t, tc.name, w, info)
		// In VOPRF the info is no input: evaluating or finalizing with
		// another changes nothing.
		infoOnly := tc.name == "wrong info" || tc.name == "evaluated for another info"
		if accepted && !(m == ModeVOPRF && infoOnly) {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	// The honest response, checked last, is still accepted: the tampers
	// changed copies.
	if !k.check(t, "honest response", k.resp, k.info) {
		t.Error("honest response refused")
	}
}

// TestClientWireEncodingsAreCanonical: the composites hash the element
// encodings the wire carried, where circl re-encodes the decoded
// elements; the two agree only if decodeElement accepts nothing but the
// canonical encoding of an element.
func TestClientWireEncodingsAreCanonical(t *testing.T) {
	for _, s := range clientSuites {
		sp := s.params()
		var encs [][]byte
		for range 100 {
			b, err := sp.group.RandomElement(rand.Reader).MarshalBinaryCompress()
			if err != nil {
				t.Fatal(err)
			}
			encs = append(encs, b)
		}
		var variants [][]byte
		switch s {
		case SuiteRistretto255:
			// For the encoding s of an element: p - s (negative: RFC 9496
			// takes the non-negative root) and s + p (not reduced).
			p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
			for _, b := range encs {
				x := new(big.Int).SetBytes(reversed(b))
				variants = append(variants,
					reversed(new(big.Int).Sub(p, x).FillBytes(make([]byte, 32))),
					reversed(new(big.Int).Add(p, x).FillBytes(make([]byte, 32))))
			}
		case SuiteP256:
			// x + p for the points of small x (x + p < 2^256).
			p := elliptic.P256().Params().P
			for x := int64(0); x < 64; x++ {
				b := append([]byte{2}, big.NewInt(x).FillBytes(make([]byte, 32))...)
				if _, err := decodeElement(sp, b); err != nil {
					continue
				}
				encs = append(encs, b)
				v := append([]byte{2}, new(big.Int).Add(p, big.NewInt(x)).FillBytes(make([]byte, 32))...)
				variants = append(variants, v)
			}
			if len(variants) == 0 {
				t.Fatal("no P-256 point of small x")
			}
		}
		for _, b := range encs {
			d, err := decodeElement(sp, b)
			if err != nil {
				t.Fatalf("%v: %x: %v", s, b, err)
			}
			if b2, _ := d.MarshalBinaryCompress(); !bytes.Equal(b, b2) {
				t.Fatalf("%v: %x re-encodes as %x", s, b, b2)
			}
		}
		for _, v := range variants {
			if _, err := decodeElement(sp, v); err == nil {
				t.Errorf("%v: non-canonical encoding %x accepted", s, v)
			}
		}
	}
}

func reversed(b []byte) []byte {
	r := bytes.Clone(b)
	slices.Reverse(r)
	return r
}

// BenchmarkClientFinalize is the querier's Finalize of one chunk of n
// elements (decode the evaluated elements and the proof, verify, unblind,
// hash), against circl's client Finalize of the same response with the
// same blinds, timed in the same iterations (x-circl).
func BenchmarkClientFinalize(b *testing.B) {
	const n = 1000
	for _, s := range clientSuites {
		key := testKey(b, s, 7)
		for _, m := range []Mode{ModePOPRF, ModeVOPRF} {
			b.Run(fmt.Sprintf("%v/%v/n=%d", s, m, n), func(b *testing.B) {
				k := newClientCase(b, key, m, n)
				var ourT, rawT time.Duration
				for b.Loop() {
					start := time.Now()
					if _, err := ours(b, k.c, k.bc, k.resp, k.info); err != nil {
						b.Fatal(err)
					}
					ourT += time.Since(start)
					b.StopTimer()
					start = time.Now()
					if _, err := theirs(b, k.cc, k.fd, k.sp, k.resp, k.info); err != nil {
						b.Fatal(err)
					}
					rawT += time.Since(start)
					b.StartTimer()
				}
				report(b, ourT, rawT, n)
			})
		}
	}
}
