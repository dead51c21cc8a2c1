package match

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash"

	"github.com/cloudflare/circl/group"
)

// RFC 9497 labels of the client's Finalize and of the DLEQ proof
// (Sections 2.2 and 3.3).
const (
	labelRFCSeed      = "Seed-"
	labelRFCComposite = "Composite"
	labelRFCChallenge = "Challenge"
	labelRFCFinalize  = "Finalize"
	labelRFCInfo      = "Info"
)

// A client is the client side of RFC 9497 (Section 3.3: Blind, Finalize)
// for one filter's suite, mode and key, built on the suite's group
// (internal/r255 for ristretto255, circl for P-256): byte for byte what
// circl's oprf clients compute, accepting exactly the proofs they accept
// (client_test.go checks both), but cheaper per element. The verifier's
// composites M and Z (Section 2.2.1, ComputeComposites) are two
// multi-scalar multiplications over public values instead of one scalar
// multiplication per element each; the composites hash the element
// encodings the wire carries instead of re-encoding every element; and
// unblinding inverts a chunk's blinds with one inversion (Montgomery's
// trick) instead of one per element. The multiplications by the secret
// blinds and their inverses are the group's constant-time Mul.
//
// Group elements are not safe for concurrent use even when only encoded
// (circl's P-256 elements reduce their coordinates in place when
// marshalled), so every goroutine makes its own client.
type client struct {
	sp      *suiteParams
	mode    Mode
	pub     group.Element // pkS, this client's own copy; nil in ModeOPRF
	pubEnc  []byte        // SerializeElement(pkS)
	h2gDST  []byte        // "HashToGroup-" || contextString
	h2sDST  []byte        // "HashToScalar-" || contextString
	seedDST []byte        // "Seed-" || contextString
	h       hash.Hash
	buf     []byte // scratch for hash inputs
}

// newClient returns the client for suite s, mode m and the publisher key
// pub (unused in ModeOPRF).
func newClient(s Suite, m Mode, pub *PublicKey) (*client, error) {
	if !m.valid() {
		return nil, fmt.Errorf("%w: %v", ErrWrongMode, m)
	}
	sp := s.params()
	ctx := contextString(sp, m)
	c := &client{
		sp:      sp,
		mode:    m,
		h2gDST:  append([]byte("HashToGroup-"), ctx...),
		h2sDST:  append([]byte("HashToScalar-"), ctx...),
		seedDST: append([]byte(labelRFCSeed), ctx...),
		h:       sp.hash.New(),
	}
	if m.verifiable() {
		c.pub = sp.group.NewElement()
		if err := c.pub.UnmarshalBinary(pub.enc); err != nil || c.pub.IsIdentity() {
			return nil, fmt.Errorf("%w: public key does not decode", ErrInvalidKey)
		}
		c.pubEnc = pub.enc
	}
	return c, nil
}

// A blindedChunk is what the querier keeps of one chunk between Blind and
// Finalize.
type blindedChunk struct {
	inputs [][]byte
	blinds []group.Scalar  // secret
	elems  []group.Element // the blinded elements
	enc    []byte          // their encodings, as on the wire (len(inputs) × Ne)
}

// blind is Blind of RFC 9497 Section 3.3.1 over a batch of inputs:
// inputElement = G.HashToGroup(input), refused if it is the identity,
// then blindedElement = blind · inputElement. blinds fixes the blinds for
// known-answer tests; nil draws nonzero ones from crypto/rand.
func (c *client) blind(inputs [][]byte, blinds []group.Scalar) (*blindedChunk, error) {
	if blinds == nil {
		blinds = make([]group.Scalar, len(inputs))
		for i := range blinds {
			blinds[i] = c.sp.group.RandomNonZeroScalar(rand.Reader)
		}
	}
	if len(blinds) != len(inputs) {
		return nil, fmt.Errorf("match: blind: %d inputs, %d blinds", len(inputs), len(blinds))
	}
	elems := make([]group.Element, len(inputs))
	enc := make([]byte, 0, len(inputs)*c.sp.elemLen)
	for i, in := range inputs {
		var err error
		if elems[i], err = c.blindOne(in, blinds[i]); err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		b, err := elems[i].MarshalBinaryCompress()
		if err != nil {
			return nil, err
		}
		enc = append(enc, b...)
	}
	return &blindedChunk{inputs: inputs, blinds: blinds, elems: elems, enc: enc}, nil
}

// blindOne returns blind · G.HashToGroup(input), refusing an input that
// hashes to the identity (RFC 9497 Section 3.3.1, Blind).
func (c *client) blindOne(input []byte, blind group.Scalar) (group.Element, error) {
	p := c.sp.group.HashToElement(input, c.h2gDST)
	if p.IsIdentity() {
		// Probability about 2^-252 for an input no one chose to collide:
		// the RFC's InvalidInputError.
		return nil, fmt.Errorf("%w: input hashes to the identity", ErrInvalidElement)
	}
	return c.sp.group.NewElement().Mul(p, blind), nil
}

// decodeProof decodes a DLEQ proof c || s (RFC 9497 Section 2.2.1) as
// circl's dleq.Proof.UnmarshalBinary does: each scalar canonical.
func decodeProof(sp *suiteParams, b []byte) (pc, ps group.Scalar, err error) {
	if len(b) != 2*sp.scalarLen {
		return nil, nil, ErrInvalidProof
	}
	pc, ps = sp.group.NewScalar(), sp.group.NewScalar()
	if pc.UnmarshalBinary(b[:sp.scalarLen]) != nil || ps.UnmarshalBinary(b[sp.scalarLen:]) != nil {
		return nil, nil, ErrInvalidProof
	}
	return pc, ps, nil
}

// finalize is Finalize of RFC 9497 Section 3.3 for one chunk: in the
// verifiable modes it verifies the proof (pc, ps) over the chunk's blinded
// elements and the evaluated elements evals, whose encodings evalEnc are
// those the wire carried (decoded canonically, by [decodeElement]); then
// it calls out with the index and the OPRF output of every element, in
// order. y is valid only during the call. info is the POPRF public input,
// ignored in the other modes. A proof that does not verify gives
// ErrInvalidProof.
func (c *client) finalize(bc *blindedChunk, evals []group.Element, evalEnc []byte, pc, ps group.Scalar, info []byte, out func(i int, y []byte)) error {
	n := len(bc.blinds)
	if n == 0 || len(bc.inputs) != n || len(bc.elems) != n || len(evals) != n || len(evalEnc) != n*c.sp.elemLen {
		return fmt.Errorf("match: finalize: %d blinds, %d evaluated elements", n, len(evals))
	}
	if n > maxUint16 {
		// ComputeComposites encodes the index in two bytes.
		return fmt.Errorf("match: finalize: %d elements under one proof", n)
	}
	switch c.mode {
	case ModeVOPRF:
		// Section 3.3.2: VerifyProof(G, pkS, blindedElements, evaluatedElements, proof).
		if !c.verify(c.pub, c.pubEnc, bc.elems, evals, bc.enc, evalEnc, pc, ps) {
			return ErrInvalidProof
		}
	case ModePOPRF:
		// Section 3.3.3: tweakedKey = G.ScalarBaseMult(m) + pkS, then
		// VerifyProof(G, tweakedKey, evaluatedElements, blindedElements, proof).
		key, keyEnc, err := c.tweakedKey(info)
		if err != nil {
			return err
		}
		if !c.verify(key, keyEnc, evals, bc.elems, evalEnc, bc.enc, pc, ps) {
			return ErrInvalidProof
		}
	}
	return c.unblind(bc, evals, info, out)
}

// tweakedKey returns the POPRF key G.ScalarBaseMult(m) + pkS for info
// and its encoding (RFC 9497 Section 3.3.3, Finalize).
func (c *client) tweakedKey(info []byte) (group.Element, []byte, error) {
	if len(info) > maxUint16 {
		return nil, nil, malformed("info longer than %d bytes", maxUint16)
	}
	g := c.sp.group
	framed := append(c.buf[:0], labelRFCInfo...)
	framed = binary.BigEndian.AppendUint16(framed, uint16(len(info)))
	framed = append(framed, info...)
	c.buf = framed
	m := g.HashToScalar(framed, c.h2sDST)
	key := g.NewElement().MulGen(m)
	key.Add(key, c.pub)
	if key.IsIdentity() {
		// skS = -m: the publisher's evaluator refuses the same key and
		// info (t = 0), and so does circl's client (ErrInvalidInfo).
		return nil, nil, fmt.Errorf("%w: key tweak for this info is zero", ErrInvalidKey)
	}
	enc, err := key.MarshalBinaryCompress()
	if err != nil {
		return nil, nil, err
	}
	return key, enc, nil
}

// verify is VerifyProof of RFC 9497 Section 2.2.2 with A = G and B = key:
// it computes the composites M and Z of cs and ds (ComputeComposites of
// Section 2.2.1, the verifier's version: the verifier has no key) and
// accepts the proof (pc, ps) if pc equals the challenge of
// (B, M, Z, ps·G + pc·B, ps·M + pc·Z). cEnc and dEnc are the encodings of
// cs and ds, in order, each Ne bytes. Every value here is public, so the
// multi-scalar multiplications run in variable time.
func (c *client) verify(key group.Element, keyEnc []byte, cs, ds []group.Element, cEnc, dEnc []byte, pc, ps group.Scalar) bool {
	g, el := c.sp.group, c.sp.elemLen
	// seed = Hash(I2OSP(len(Bm), 2) || Bm || I2OSP(len(seedDST), 2) || seedDST)
	b := binary.BigEndian.AppendUint16(c.buf[:0], uint16(len(keyEnc)))
	b = append(b, keyEnc...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.seedDST)))
	b = append(b, c.seedDST...)
	c.h.Reset()
	c.h.Write(b)
	seedLen := c.h.Size()
	// compositeTranscript = I2OSP(len(seed), 2) || seed || I2OSP(i, 2) ||
	//   I2OSP(len(Ci), 2) || Ci || I2OSP(len(Di), 2) || Di || "Composite"
	b = binary.BigEndian.AppendUint16(b[:0], uint16(seedLen))
	b = c.h.Sum(b)
	iOff := len(b)
	b = append(b, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(el))
	cOff := len(b)
	b = append(b, make([]byte, el)...)
	b = binary.BigEndian.AppendUint16(b, uint16(el))
	dOff := len(b)
	b = append(b, make([]byte, el)...)
	b = append(b, labelRFCComposite...)
	c.buf = b
	d := make([]group.Scalar, len(cs))
	for i := range d {
		binary.BigEndian.PutUint16(b[iOff:], uint16(i))
		copy(b[cOff:cOff+el], cEnc[i*el:])
		copy(b[dOff:dOff+el], dEnc[i*el:])
		d[i] = g.HashToScalar(b, c.h2sDST)
	}
	m := msm(g, d, cs)
	z := msm(g, d, ds)
	sc := []group.Scalar{ps, pc}
	t2 := msm(g, sc, []group.Element{g.Generator(), key})
	t3 := msm(g, sc, []group.Element{m, z})
	// challengeTranscript = I2OSP(len(Bm), 2) || Bm || I2OSP(len(a0), 2) || a0 ||
	//   ... || I2OSP(len(a3), 2) || a3 || "Challenge"
	b = binary.BigEndian.AppendUint16(b[:0], uint16(len(keyEnc)))
	b = append(b, keyEnc...)
	for _, e := range [...]group.Element{m, z, t2, t3} {
		enc, err := e.MarshalBinaryCompress()
		if err != nil {
			return false
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(enc)))
		b = append(b, enc...)
	}
	b = append(b, labelRFCChallenge...)
	c.buf = b
	return g.HashToScalar(b, c.h2sDST).IsEqual(pc)
}

// unblind computes the OPRF outputs of a chunk (RFC 9497 Section 3.3,
// Finalize): N = blind^-1 · evaluatedElement, then
// Hash(I2OSP(len(input), 2) || input || [I2OSP(len(info), 2) || info,
// POPRF only] || I2OSP(len(N), 2) || N || "Finalize").
//
// The blinds are inverted together with Montgomery's trick (one inversion
// and 3(n-1) multiplications); the blinds, their products and their
// inverses are secret and go only through the group's constant-time
// scalar operations (for ristretto255, filippo.io/edwards25519's), and the
// unblinding through its constant-time scalar multiplication.
func (c *client) unblind(bc *blindedChunk, evals []group.Element, info []byte, out func(i int, y []byte)) error {
	g, n := c.sp.group, len(bc.blinds)
	// inv[i] = blinds[0]·…·blinds[i], then, from the last, inv[i] = blinds[i]^-1.
	inv := make([]group.Scalar, n)
	inv[0] = g.NewScalar().Set(bc.blinds[0])
	for i := 1; i < n; i++ {
		inv[i] = g.NewScalar().Mul(inv[i-1], bc.blinds[i])
	}
	acc := g.NewScalar().Inv(inv[n-1]) // (blinds[0]·…·blinds[i])^-1, for i from n-1 down
	for i := n - 1; i > 0; i-- {
		inv[i].Mul(acc, inv[i-1])
		acc.Mul(acc, bc.blinds[i])
	}
	inv[0].Set(acc)
	defer func() {
		acc.SetUint64(0)
		for _, s := range inv {
			s.SetUint64(0)
		}
	}()

	var framedInfo []byte
	if c.mode == ModePOPRF {
		if len(info) > maxUint16 {
			return malformed("info longer than %d bytes", maxUint16)
		}
		framedInfo = binary.BigEndian.AppendUint16(nil, uint16(len(info)))
		framedInfo = append(framedInfo, info...)
	}
	u := g.NewElement()
	y := make([]byte, 0, c.h.Size())
	b := c.buf[:0]
	for i := range n {
		u.Mul(evals[i], inv[i])
		enc, err := u.MarshalBinaryCompress()
		if err != nil {
			return err
		}
		in := bc.inputs[i]
		// circl writes uint16(len(input)) without a check; inputs here
		// are far shorter than 2^16 bytes, and the cast keeps the two
		// byte for byte identical if one were not.
		b = binary.BigEndian.AppendUint16(b[:0], uint16(len(in)))
		b = append(b, in...)
		b = append(b, framedInfo...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(enc)))
		b = append(b, enc...)
		b = append(b, labelRFCFinalize...)
		c.h.Reset()
		c.h.Write(b)
		y = c.h.Sum(y[:0])
		out(i, y)
	}
	c.buf = b
	return nil
}
