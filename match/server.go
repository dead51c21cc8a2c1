package match

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/zk/dleq"
)

// contextString is RFC 9497 Section 3.1's
// "OPRFV1-" || I2OSP(mode, 1) || "-" || identifier.
func contextString(sp *suiteParams, m Mode) []byte {
	b := []byte("OPRFV1-")
	b = append(b, rfcMode[m], '-')
	return append(b, sp.id...)
}

// An evaluator is the server side of RFC 9497 for one key, mode and (for
// POPRF) info. circl's oprf package implements the client side, which
// verifies every evaluation this code produces; the server side is built
// here on circl's group and dleq packages so that the POPRF key tweak is
// computed once per kind rather than once per element, and so that
// known-answer tests can fix the proof randomness.
type evaluator struct {
	sp       *suiteParams
	mode     Mode
	info     []byte        // POPRF info; nil otherwise
	evalKey  group.Scalar  // skS, or t^-1 with t = skS + m (POPRF)
	proofKey group.Scalar  // skS, or t
	proofPub group.Element // pkS, or t*G
	h2gDST   []byte
	dleq     dleq.Params
}

func newEvaluator(sk *PrivateKey, m Mode, info []byte) (*evaluator, error) {
	sp := sk.suite.params()
	ctx := contextString(sp, m)
	ev := &evaluator{
		sp:     sp,
		mode:   m,
		h2gDST: append([]byte("HashToGroup-"), ctx...),
		dleq:   dleq.Params{G: sp.group, H: sp.hash, DST: ctx},
	}
	if m != ModePOPRF {
		ev.evalKey, ev.proofKey, ev.proofPub = sk.k, sk.k, sk.pub.e
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
	tweak := sp.group.HashToScalar(framed, append([]byte("HashToScalar-"), ctx...))
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
	return ev, nil
}

// clone returns an evaluator with its own copies of the circl values.
// circl's group elements are not safe for concurrent use even when only
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
// batch: it multiplies every blinded element by the evaluation key and, in
// the verifiable modes, proves with one batched DLEQ proof (Section 2.2.1)
// that it did. r is the proof randomness; nil draws it from crypto/rand.
func (ev *evaluator) blindEvaluate(blinded []group.Element, r group.Scalar) ([]group.Element, *dleq.Proof, error) {
	evaluated := make([]group.Element, len(blinded))
	for i, b := range blinded {
		evaluated[i] = ev.sp.group.NewElement().Mul(b, ev.evalKey)
	}
	if !ev.mode.verifiable() {
		return evaluated, nil, nil
	}
	if r == nil {
		r = ev.sp.group.RandomScalar(rand.Reader)
	}
	prover := dleq.Prover{Params: ev.dleq}
	var proof *dleq.Proof
	var err error
	if ev.mode == ModePOPRF {
		// GenerateProof(t, G, tweakedKey, evaluatedElements, blindedElements)
		proof, err = prover.ProveBatchWithRandomnessRFC9497(ev.proofKey, ev.proofPub, evaluated, blinded, r)
	} else {
		// GenerateProof(skS, G, pkS, blindedElements, evaluatedElements)
		proof, err = prover.ProveBatchWithRandomnessRFC9497(ev.proofKey, ev.proofPub, blinded, evaluated, r)
	}
	if err != nil {
		return nil, nil, err
	}
	return evaluated, proof, nil
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
	return sc.finalize(input, ev.info, ev.mode == ModePOPRF, enc), nil
}

// scratch holds a hash and buffers for [scratch.finalize]; one per goroutine.
type scratch struct {
	h        hash.Hash
	buf, out []byte
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
