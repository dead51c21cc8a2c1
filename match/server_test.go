package match

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/zk/dleq"

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

// TestProveMatchesCircl: for the same proof randomness, blindEvaluate's
// proof (composites by msm, Z = k·M, encodings taken from the wire) is
// byte for byte the proof of circl's dleq prover, in both verifiable modes
// and both suites, and circl's verifier accepts it.
func TestProveMatchesCircl(t *testing.T) {
	sizes := []int{1, 2, 3, 17, 64, 1000}
	for i := 0; i < 3; i++ {
		sizes = append(sizes, 1+mrand.IntN(1000))
	}
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		sp := s.params()
		g := sp.group
		key := testKey(t, s, 7)
		for _, m := range []Mode{ModePOPRF, ModeVOPRF} {
			ev, err := newEvaluator(key, m, kindInfo("email"))
			if err != nil {
				t.Fatal(err)
			}
			params := dleq.Params{G: g, H: sp.hash, DST: contextString(sp, m)}
			for _, n := range sizes {
				if testing.Short() && n > 64 {
					continue
				}
				blinded := make([]group.Element, n)
				var enc []byte
				for i := range blinded {
					blinded[i] = g.RandomElement(rand.Reader)
					b, err := blinded[i].MarshalBinaryCompress()
					if err != nil {
						t.Fatal(err)
					}
					enc = append(enc, b...)
				}
				r := g.RandomScalar(rand.Reader)
				out := make([]byte, n*sp.elemLen)
				proof := make([]byte, 2*sp.scalarLen)
				if err := ev.clone().blindEvaluate(blinded, enc, out, proof, r); err != nil {
					t.Fatal(err)
				}
				evaluated := make([]group.Element, n)
				for i := range evaluated {
					evaluated[i] = g.NewElement().Mul(blinded[i], ev.evalKey)
					want, _ := evaluated[i].MarshalBinaryCompress()
					if !bytes.Equal(out[i*sp.elemLen:(i+1)*sp.elemLen], want) {
						t.Fatalf("%v %v n=%d: evaluated element %d differs", s, m, n, i)
					}
				}
				c, d := blinded, evaluated
				if m == ModePOPRF {
					c, d = evaluated, blinded
				}
				want, err := dleq.Prover{Params: params}.ProveBatchWithRandomnessRFC9497(ev.proofKey, ev.proofPub, c, d, r)
				if err != nil {
					t.Fatal(err)
				}
				wantBytes, _ := want.MarshalBinary()
				if !bytes.Equal(proof, wantBytes) {
					t.Fatalf("%v %v n=%d: proof %x, circl's %x", s, m, n, proof, wantBytes)
				}
				var got dleq.Proof
				if err := got.UnmarshalBinary(g, proof); err != nil {
					t.Fatal(err)
				}
				if !(dleq.Verifier{Params: params}).VerifyBatchRFC9497(ev.proofPub, c, d, &got) {
					t.Fatalf("%v %v n=%d: circl refuses the proof", s, m, n)
				}
			}
		}
	}
}

// TestProveRefusesBadShapes: an empty batch or encodings of the wrong
// length are refused, never proved over.
func TestProveRefusesBadShapes(t *testing.T) {
	sp := SuiteRistretto255.params()
	ev, err := newEvaluator(testKey(t, SuiteRistretto255, 7), ModeVOPRF, nil)
	if err != nil {
		t.Fatal(err)
	}
	one := []group.Element{sp.group.Generator()}
	enc := make([]byte, sp.elemLen)
	proof := make([]byte, 2*sp.scalarLen)
	for _, c := range []struct {
		elems      []group.Element
		cEnc, dEnc []byte
		proof      []byte
	}{
		{nil, nil, nil, proof},
		{one, enc[:1], enc, proof},
		{one, enc, append(enc, 0), proof},
		{one, enc, enc, proof[:1]},
	} {
		if err := ev.prove(c.elems, c.cEnc, c.dEnc, sp.group.NewScalar().SetUint64(1), c.proof); !errors.Is(err, ErrMalformed) {
			t.Errorf("got %v, want ErrMalformed", err)
		}
	}
}

// BenchmarkProve is the publisher's batched DLEQ proof alone, per batch
// size, on elements already evaluated and encoded; the baseline is circl's
// dleq prover on the same elements, measured in the same run.
func BenchmarkProve(b *testing.B) {
	sp := SuiteRistretto255.params()
	g := sp.group
	ev, err := newEvaluator(testKey(b, SuiteRistretto255, 7), ModePOPRF, kindInfo("email"))
	if err != nil {
		b.Fatal(err)
	}
	params := dleq.Params{G: g, H: sp.hash, DST: contextString(sp, ModePOPRF)}
	for _, n := range []int{1, 16, 64, 1000} {
		b.Run(fmt.Sprintf("POPRF/n=%d", n), func(b *testing.B) {
			blinded := make([]group.Element, n)
			evaluated := make([]group.Element, n)
			var bEnc, eEnc []byte
			for i := range blinded {
				blinded[i] = g.RandomElement(rand.Reader)
				evaluated[i] = g.NewElement().Mul(blinded[i], ev.evalKey)
				x, _ := blinded[i].MarshalBinaryCompress()
				y, _ := evaluated[i].MarshalBinaryCompress()
				bEnc, eEnc = append(bEnc, x...), append(eEnc, y...)
			}
			r := g.RandomScalar(rand.Reader)
			proof := make([]byte, 2*sp.scalarLen)
			prover := dleq.Prover{Params: params}
			var ours, raw time.Duration
			for b.Loop() {
				start := time.Now()
				if err := ev.prove(evaluated, eEnc, bEnc, r, proof); err != nil {
					b.Fatal(err)
				}
				ours += time.Since(start)
				b.StopTimer()
				start = time.Now()
				if _, err := prover.ProveBatchWithRandomnessRFC9497(ev.proofKey, ev.proofPub, evaluated, blinded, r); err != nil {
					b.Fatal(err)
				}
				raw += time.Since(start)
				b.StartTimer()
			}
			report(b, ours, raw, n)
		})
	}
}
