package match

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash"

	"github.com/cloudflare/circl/group"
)

// contextString is RFC 9497 Section 3.1's
// "OPRFV1-" || I2OSP(mode, 1) || "-" || identifier.
func contextString(sp *suiteParams, m Mode) []byte {
	b := []byte("OPRFV1-")
	b = append(b, rfcMode[m], '-')
	return append(b, sp.id...)
}

// An evaluator is the server side of RFC 9497 for one key, mode and (for
// POPRF) info, built on the suite's group (internal/r255 for
// ristretto255, circl for P-256) rather than on circl's oprf server, so
// that the POPRF key tweak is computed once per kind rather than once per
// element, the proof's composites cost one multi-scalar multiplication,
// and known-answer tests can fix the proof randomness. circl's oprf
// clients verify what it produces (server_test.go, client_test.go).
type evaluator struct {
	sp       *suiteParams
	mode     Mode
	info     []byte        // POPRF info; nil otherwise
	evalKey  group.Scalar  // skS, or t^-1 with t = skS + m (POPRF)
	proofKey group.Scalar  // skS, or t
	proofPub group.Element // pkS, or t*G
	h2gDST   []byte
	h2sDST   []byte // "HashToScalar-" || contextString
	// proofPubEnc and seed are fixed for the key, mode and info: the
	// encoding of proofPub and the composites' seed of RFC 9497 Section
	// 2.2.1, Hash(I2OSP(len(Bm), 2) || Bm || I2OSP(len(seedDST), 2) ||
	// seedDST) with seedDST = "Seed-" || contextString.
	proofPubEnc []byte
	seed        []byte
}

func newEvaluator(sk *PrivateKey, m Mode, info []byte) (*evaluator, error) {
	sp := sk.suite.params()
	ctx := contextString(sp, m)
	ev := &evaluator{
		sp:     sp,
		mode:   m,
		h2gDST: append([]byte("HashToGroup-"), ctx...),
		h2sDST: append([]byte("HashToScalar-"), ctx...),
	}
	if m != ModePOPRF {
		ev.evalKey, ev.proofKey, ev.proofPub = sk.k, sk.k, sk.pub.e
		ev.proofPubEnc = sk.pub.enc
		ev.seed = ev.compositeSeed(ctx)
		return ev, nil
	}
	// RFC 9497 Section 3.3.3, BlindEvaluate:
	// framedInfo = "Info" || I2OSP(len(info), 2) || info
	// m = G.HashToScalar(framedInfo); t = skS + m; if t == 0: InverseError.
	if len(info) > maxUint16 {
		return nil, malformed("info longer than %d bytes", maxUint16)
	}
	framed := make([]byte, 0, 6+len(info))
	framed = append(framed, "Info"...)
	framed = binary.BigEndian.AppendUint16(framed, uint16(len(info)))
	framed = append(framed, info...)
	tweak := sp.group.HashToScalar(framed, ev.h2sDST)
	t := sp.group.NewScalar().Add(sk.k, tweak)
	if t.IsZero() {
		// Probability 2^-252 for a random key: the key and this kind
		// cannot be used together.
		return nil, fmt.Errorf("%w: key tweak for this info is zero", ErrInvalidKey)
	}
	ev.info = info
	ev.proofKey = t
	ev.proofPub = sp.group.NewElement().MulGen(t)
	ev.evalKey = sp.group.NewScalar().Inv(t)
	// proofPub is this evaluator's own element, so encoding it (which
	// reduces a P-256 element's coordinates in place) races with nothing.
	enc, err := ev.proofPub.MarshalBinaryCompress()
	if err != nil {
		return nil, err
	}
	ev.proofPubEnc = enc
	ev.seed = ev.compositeSeed(ctx)
	return ev, nil
}

// compositeSeed is the seed of RFC 9497 Section 2.2.1
// (ComputeCompositesFast), which every proof under this evaluator shares:
// Hash(I2OSP(len(Bm), 2) || Bm || I2OSP(len(seedDST), 2) || seedDST).
func (ev *evaluator) compositeSeed(ctx []byte) []byte {
	seedDST := append([]byte("Seed-"), ctx...)
	h := ev.sp.hash.New()
	var l [2]byte
	binary.BigEndian.PutUint16(l[:], uint16(len(ev.proofPubEnc)))
	h.Write(l[:])
	h.Write(ev.proofPubEnc)
	binary.BigEndian.PutUint16(l[:], uint16(len(seedDST)))
	h.Write(l[:])
	h.Write(seedDST)
	return h.Sum(nil)
}

// clone returns an evaluator with its own copies of the group values.
// Group elements are not safe for concurrent use even when only
// encoded (P-256 elements reduce their coordinates in place when
// marshalled), so every goroutine works on its own evaluator.
func (ev *evaluator) clone() *evaluator {
	c := *ev
	c.evalKey = ev.evalKey.Copy()
	c.proofKey = ev.proofKey.Copy()
	c.proofPub = ev.proofPub.Copy()
	return &c
}

// blindEvaluate is BlindEvaluate of RFC 9497 Sections 3.3.1-3.3.3 over a
// batch: it multiplies every blinded element by the evaluation key, writes
// the encodings of the results to out (len(blinded)·elemLen bytes) and, in
// the verifiable modes, writes to proof (2·scalarLen bytes) one batched
// DLEQ proof (Section 2.2.1) that it did. blindedEnc holds the encodings
// of the blinded elements as received: decodeElement accepts only the
// canonical encoding, so they are the bytes SerializeElement would give,
// and the proof hashes them rather than encoding every element again. r
// is the proof randomness; nil draws it from crypto/rand.
func (ev *evaluator) blindEvaluate(blinded []group.Element, blindedEnc, out, proof []byte, r group.Scalar) error {
	el := ev.sp.elemLen
	evaluated := make([]group.Element, len(blinded))
	for i, b := range blinded {
		// Constant time in the key (for P-256, see the package doc).
		evaluated[i] = ev.sp.group.NewElement().Mul(b, ev.evalKey)
		enc, err := evaluated[i].MarshalBinaryCompress()
		if err != nil {
			return err
		}
		if len(enc) != el {
			// The identity: impossible for a nonzero key and a
			// blinded element that is not the identity.
			return fmt.Errorf("%w: evaluated element %d", ErrInvalidElement, i)
		}
		copy(out[i*el:], enc)
	}
	if !ev.mode.verifiable() {
		return nil
	}
	if r == nil {
		r = ev.sp.group.RandomScalar(rand.Reader)
	}
	if ev.mode == ModePOPRF {
		// GenerateProof(t, G, tweakedKey, evaluatedElements, blindedElements)
		return ev.prove(evaluated, out[:len(blinded)*el], blindedEnc, r, proof)
	}
	// GenerateProof(skS, G, pkS, blindedElements, evaluatedElements)
	return ev.prove(blinded, blindedEnc, out[:len(blinded)*el], r, proof)
}

// prove is GenerateProof of RFC 9497 Section 2.2.1 for k = proofKey,
// A = G, B = proofPub = k·G and the lists C (elements c, encodings cEnc)
// and D (encodings dEnc), where every Dᵢ = k·Cᵢ; it writes the proof
// c || s to proof. The composites follow ComputeCompositesFast: M = Σ dᵢ·Cᵢ
// by a variable-time multi-scalar multiplication (the dᵢ and Cᵢ are
// public), then Z = k·M, one constant-time multiplication, instead of the
// per-element multiplications of circl's dleq package, whose output this
// matches byte for byte (TestProveMatchesCircl).
func (ev *evaluator) prove(c []group.Element, cEnc, dEnc []byte, r group.Scalar, proof []byte) error {
	g, el := ev.sp.group, ev.sp.elemLen
	if len(c) == 0 || len(c) > MaxChunkSize || len(cEnc) != len(c)*el || len(dEnc) != len(c)*el {
		return fmt.Errorf("%w: proof over %d elements", ErrMalformed, len(c))
	}
	// di = G.HashToScalar(I2OSP(len(seed), 2) || seed || I2OSP(i, 2) ||
	//   I2OSP(len(Ci), 2) || Ci || I2OSP(len(Di), 2) || Di ||
	//   "Composite", "HashToScalar-" || contextString)
	buf := make([]byte, 0, 2+len(ev.seed)+2+2*(2+el)+len("Composite"))
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(ev.seed)))
	buf = append(buf, ev.seed...)
	prefix := len(buf)
	ds := make([]group.Scalar, len(c))
	for i := range c {
		b := binary.BigEndian.AppendUint16(buf[:prefix], uint16(i))
		b = binary.BigEndian.AppendUint16(b, uint16(el))
		b = append(b, cEnc[i*el:(i+1)*el]...)
		b = binary.BigEndian.AppendUint16(b, uint16(el))
		b = append(b, dEnc[i*el:(i+1)*el]...)
		b = append(b, "Composite"...)
		ds[i] = g.HashToScalar(b, ev.h2sDST)
	}
	m := msm(g, ds, c)
	z := g.NewElement().Mul(m, ev.proofKey)
	t2 := g.NewElement().MulGen(r) // r·A with A = G, constant time in r
	t3 := g.NewElement().Mul(m, r)
	// c = G.HashToScalar(I2OSP(len(Bm), 2) || Bm || I2OSP(len(a0), 2) ||
	//   a0 || … || I2OSP(len(a3), 2) || a3 || "Challenge",
	//   "HashToScalar-" || contextString)
	ch := binary.BigEndian.AppendUint16(buf[:0], uint16(len(ev.proofPubEnc)))
	ch = append(ch, ev.proofPubEnc...)
	for _, e := range []group.Element{m, z, t2, t3} {
		enc, err := e.MarshalBinaryCompress()
		if err != nil {
			return err
		}
		ch = binary.BigEndian.AppendUint16(ch, uint16(len(enc)))
		ch = append(ch, enc...)
	}
	ch = append(ch, "Challenge"...)
	cc := g.HashToScalar(ch, ev.h2sDST)
	// s = r - c·k
	ss := g.NewScalar().Mul(cc, ev.proofKey)
	ss.Sub(r, ss)
	cb, err := cc.MarshalBinary()
	if err != nil {
		return err
	}
	sb, err := ss.MarshalBinary()
	if err != nil {
		return err
	}
	if len(proof) != len(cb)+len(sb) {
		return fmt.Errorf("%w: proof buffer of %d bytes", ErrMalformed, len(proof))
	}
	copy(proof, cb)
	copy(proof[len(cb):], sb)
	return nil
}

// evaluate is Evaluate of RFC 9497 Sections 3.3.1-3.3.3: the PRF
// computed directly with the key, as a publisher does for its own list. sc
// is per-goroutine scratch state; the result is valid until its next use.
func (ev *evaluator) evaluate(sc *scratch, input []byte) ([]byte, error) {
	p := ev.sp.group.HashToElement(input, ev.h2gDST)
	if p.IsIdentity() {
		return nil, fmt.Errorf("%w: input hashes to the identity", ErrInvalidElement)
	}
	z := ev.sp.group.NewElement().Mul(p, ev.evalKey)
	enc, err := z.MarshalBinaryCompress()
	if err != nil {
		return nil, err
	}
	sc.point = p
	return sc.finalize(input, ev.info, ev.mode == ModePOPRF, enc), nil
}

// countElement returns SerializeElement of the input element of the last
// [evaluator.evaluate] on sc multiplied by this evaluator's key: the
// element a count tag hashes, when ev is the count key's evaluator of the
// kind. It is valid until the next call.
func (ev *evaluator) countElement(sc *scratch) ([]byte, error) {
	z := ev.sp.group.NewElement().Mul(sc.point, ev.evalKey)
	return z.MarshalBinaryCompress()
}

// scratch holds a hash and buffers for [scratch.finalize]; one per goroutine.
type scratch struct {
	h        hash.Hash
	buf, out []byte
	point    group.Element // the input element of the last evaluate, for countElement
}

func newScratch(sp *suiteParams) *scratch { return &scratch{h: sp.hash.New()} }

// finalize is the Finalize hash of RFC 9497 Section 3.3:
// Hash(I2OSP(len(input), 2) || input || [I2OSP(len(info), 2) || info] ||
// I2OSP(len(element), 2) || element || "Finalize").
// The result is valid until the next call.
func (sc *scratch) finalize(input, info []byte, withInfo bool, element []byte) []byte {
	b := sc.buf[:0]
	b = binary.BigEndian.AppendUint16(b, uint16(len(input)))
	b = append(b, input...)
	if withInfo {
		b = binary.BigEndian.AppendUint16(b, uint16(len(info)))
		b = append(b, info...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(element)))
	b = append(b, element...)
	b = append(b, "Finalize"...)
	sc.buf = b
	sc.h.Reset()
	sc.h.Write(b)
	sc.out = sc.h.Sum(sc.out[:0])
	return sc.out
}
