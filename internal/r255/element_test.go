package r255

import (
	"bytes"
	"encoding/hex"
	"math/big"
	"math/rand/v2"
	"testing"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	"github.com/cloudflare/circl/group"
)

var g = group.Ristretto255

func newRand(t testing.TB) *rand.ChaCha8 {
	var seed [32]byte
	copy(seed[:], t.Name())
	return rand.NewChaCha8(seed)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func circlDecode(b []byte) (group.Element, bool) {
	e := g.NewElement()
	return e, e.UnmarshalBinary(b) == nil
}

func circlBytes(t testing.TB, e group.Element) []byte {
	t.Helper()
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// randomCirclElement returns k·G for a random k, and k.
func randomCirclElement(r *rand.ChaCha8) (group.Element, group.Scalar) {
	k := randomCirclScalar(r)
	return g.NewElement().MulGen(k), k
}

func randomCirclScalar(r *rand.ChaCha8) group.Scalar {
	var wide [64]byte
	r.Read(wide[:])
	return g.HashToScalar(wide[:], []byte("r255 test"))
}

// checkDecode decodes b with both implementations and fails unless they
// agree on acceptance and, when accepted, on the element.
func checkDecode(t testing.TB, b []byte) (accepted bool) {
	t.Helper()
	ours, err := new(Element).SetCanonicalBytes(b)
	theirs, ok := circlDecode(b)
	if (err == nil) != ok {
		t.Fatalf("decode %x: ours err=%v, circl ok=%v", b, err, ok)
	}
	if !ok {
		if ours != nil {
			t.Fatalf("decode %x: error with a non-nil element", b)
		}
		return false
	}
	if got, want := ours.Bytes(), circlBytes(t, theirs); !bytes.Equal(got, want) || !bytes.Equal(got, b) {
		t.Fatalf("decode %x: re-encodes as %x, circl %x", b, got, want)
	}
	if ours.IsIdentity() == 1 != theirs.IsIdentity() {
		t.Fatalf("decode %x: IsIdentity %d, circl %v", b, ours.IsIdentity(), theirs.IsIdentity())
	}
	return true
}

func TestConstants(t *testing.T) {
	var a, b field.Element
	// SQRT_M1² = -1.
	if a.Square(sqrtM1).Equal(feMinusOne) != 1 {
		t.Error("SQRT_M1")
	}
	// d = -121665/121666.
	n := feFromDecimal("121665")
	a.Multiply(edwardsD, feFromDecimal("121666"))
	if a.Add(&a, n).Equal(new(field.Element)) != 1 {
		t.Error("D")
	}
	// SQRT_AD_MINUS_ONE² = a·d - 1 = -d - 1.
	b.Negate(edwardsD)
	b.Subtract(&b, feOne)
	if a.Square(sqrtADMinusOne).Equal(&b) != 1 {
		t.Error("SQRT_AD_MINUS_ONE")
	}
	// INVSQRT_A_MINUS_D² · (a - d) = 1, a = -1.
	a.Square(invSqrtAMinusD)
	b.Subtract(feMinusOne, edwardsD)
	if a.Multiply(&a, &b).Equal(feOne) != 1 {
		t.Error("INVSQRT_A_MINUS_D")
	}
	// ONE_MINUS_D_SQ = 1 - d², D_MINUS_ONE_SQ = (d - 1)².
	a.Square(edwardsD)
	if b.Subtract(feOne, &a).Equal(oneMinusDSq) != 1 {
		t.Error("ONE_MINUS_D_SQ")
	}
	b.Subtract(edwardsD, feOne)
	if b.Square(&b).Equal(dMinusOneSq) != 1 {
		t.Error("D_MINUS_ONE_SQ")
	}
}

func TestSmallMultiples(t *testing.T) {
	acc := NewIdentityElement()
	gen := NewGeneratorElement()
	for i, h := range smallMultiples {
		b := mustHex(t, h)
		if !checkDecode(t, b) {
			t.Fatalf("%d·G refused", i)
		}
		if got := acc.Bytes(); !bytes.Equal(got, b) {
			t.Errorf("%d·G by addition encodes as %x, want %s", i, got, h)
		}
		var le [32]byte
		le[0] = byte(i)
		k, err := new(Scalar).SetCanonicalBytes(le[:])
		if err != nil {
			t.Fatal(err)
		}
		if got := new(Element).ScalarBaseMult(k).Bytes(); !bytes.Equal(got, b) {
			t.Errorf("ScalarBaseMult(%d) = %x, want %s", i, got, h)
		}
		if got := NewIdentityElement().ScalarMult(k, gen).Bytes(); !bytes.Equal(got, b) {
			t.Errorf("ScalarMult(%d, G) = %x, want %s", i, got, h)
		}
		dec, _ := new(Element).SetCanonicalBytes(b)
		if dec.Equal(acc) != 1 || (dec.IsIdentity() == 1) != (i == 0) {
			t.Errorf("%d·G: Equal %d, IsIdentity %d", i, dec.Equal(acc), dec.IsIdentity())
		}
		acc.Add(acc, gen)
	}
}

func TestInvalidEncodings(t *testing.T) {
	for _, h := range invalidEncodings {
		b := mustHex(t, h)
		if checkDecode(t, b) {
			t.Errorf("%s accepted", h)
		}
	}
}

// TestDecodeEdges covers the identity's encodings and the non-canonical
// variants of valid encodings: s + p, and the top bit set.
func TestDecodeEdges(t *testing.T) {
	zero := make([]byte, 32)
	if !checkDecode(t, zero) {
		t.Error("the identity's encoding refused")
	}
	for _, h := range []string{
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p, a non-canonical 0
		"0000000000000000000000000000000000000000000000000000000000000080", // 0 with the top bit
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p + 1
	} {
		if checkDecode(t, mustHex(t, h)) {
			t.Errorf("%s accepted", h)
		}
	}
	for _, b := range [][]byte{nil, make([]byte, 31), make([]byte, 33)} {
		if _, err := new(Element).SetCanonicalBytes(b); err == nil {
			t.Errorf("%d-byte input accepted", len(b))
		}
	}

	r := newRand(t)
	pBig := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	for i := 0; i < 1000; i++ {
		e, _ := randomCirclElement(r)
		b := circlBytes(t, e)
		if !checkDecode(t, b) {
			t.Fatalf("valid %x refused", b)
		}
		top := bytes.Clone(b)
		top[31] |= 0x80
		if checkDecode(t, top) {
			t.Fatalf("%x with the top bit set accepted", b)
		}
		// s + p fits in 256 bits; it is non-canonical whenever it differs
		// from s mod 2^255 in the low 255 bits or sets the top bit.
		s := new(big.Int).SetBytes(reverse(b))
		s.Add(s, pBig)
		if s.BitLen() <= 256 {
			var buf [32]byte
			if checkDecode(t, reverse(s.FillBytes(buf[:]))) {
				t.Fatalf("%x + p accepted", b)
			}
		}
	}
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}

func TestDecodeRandomBytes(t *testing.T) {
	r := newRand(t)
	var b [32]byte
	accepted := 0
	for i := 0; i < 20000; i++ {
		r.Read(b[:])
		// Half the inputs get the top bit cleared and s made even-ish so
		// that some decode; the rest are raw.
		if i%2 == 0 {
			b[31] &= 0x7f
			b[0] &^= 1
		}
		if checkDecode(t, b[:]) {
			accepted++
		}
	}
	if accepted == 0 {
		t.Error("no random input decoded: the test checks nothing")
	}
	t.Logf("%d of 20000 random inputs decoded", accepted)
}

// torsionRepresentatives returns the representatives of the identity that
// the ristretto255 quotient identifies: the 4-torsion points.
func torsionRepresentatives(t testing.TB) []*Element {
	var zero field.Element
	pts := []struct{ x, y *field.Element }{
		{&zero, feOne},
		{&zero, feMinusOne},
		{sqrtM1, &zero},
		{new(field.Element).Negate(sqrtM1), &zero},
	}
	var out []*Element
	for _, p := range pts {
		var e Element
		if _, err := e.p.SetExtendedCoordinates(p.x, p.y, feOne, new(field.Element).Multiply(p.x, p.y)); err != nil {
			t.Fatal(err)
		}
		out = append(out, &e)
	}
	return out
}

// TestEncodeEqualRepresentatives checks that the encoding and Equal ignore
// the choice of representative: P + T, T of order dividing 4, is P.
func TestEncodeEqualRepresentatives(t *testing.T) {
	r := newRand(t)
	torsion := torsionRepresentatives(t)
	for _, tp := range torsion {
		if tp.IsIdentity() != 1 || !bytes.Equal(tp.Bytes(), make([]byte, 32)) {
			t.Errorf("torsion point: IsIdentity %d, encoding %x", tp.IsIdentity(), tp.Bytes())
		}
	}
	for i := 0; i < 200; i++ {
		ce, _ := randomCirclElement(r)
		want := circlBytes(t, ce)
		p, err := new(Element).SetCanonicalBytes(want)
		if err != nil {
			t.Fatal(err)
		}
		if p.IsIdentity() != 0 {
			t.Fatal("random element is the identity")
		}
		for j, tp := range torsion {
			q := new(Element).Add(p, tp)
			if j > 0 && q.p.Equal(&p.p) == 1 {
				t.Fatal("torsion point did not change the representative")
			}
			if q.Equal(p) != 1 || !bytes.Equal(q.Bytes(), want) {
				t.Fatalf("P + T%d: Equal %d, encoding %x, want %x", j, q.Equal(p), q.Bytes(), want)
			}
		}
		other, _ := randomCirclElement(r)
		o, _ := new(Element).SetCanonicalBytes(circlBytes(t, other))
		if (o.Equal(p) == 1) != other.IsEqual(ce) {
			t.Fatal("Equal disagrees with circl")
		}
	}
}

func TestEncodeDifferential(t *testing.T) {
	r := newRand(t)
	for i := 0; i < 2000; i++ {
		// Elements in varied projective forms: sums, multiples, hashes.
		ca, ka := randomCirclElement(r)
		cb, _ := randomCirclElement(r)
		a, _ := new(Element).SetCanonicalBytes(circlBytes(t, ca))
		b, _ := new(Element).SetCanonicalBytes(circlBytes(t, cb))
		sum := new(Element).Add(a, b)
		if got, want := sum.Bytes(), circlBytes(t, g.NewElement().Add(ca, cb)); !bytes.Equal(got, want) {
			t.Fatalf("encode(a+b) = %x, circl %x", got, want)
		}
		k := scalarFromCircl(t, ka)
		if got, want := new(Element).ScalarBaseMult(k).AppendBytes(nil), circlBytes(t, ca); !bytes.Equal(got, want) {
			t.Fatalf("encode(k·G) = %x, circl %x", got, want)
		}
	}
}

func scalarFromCircl(t testing.TB, k group.Scalar) *Scalar {
	t.Helper()
	b, err := k.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	s, err := new(Scalar).SetCanonicalBytes(b)
	if err != nil {
		t.Fatalf("circl scalar %x refused: %v", b, err)
	}
	return s
}

// edgeScalars are 0, 1, 2, ℓ - 1 and ℓ - 2 as circl scalars.
func edgeScalars() []group.Scalar {
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	var out []group.Scalar
	for _, v := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), new(big.Int).Sub(l, big.NewInt(1)), new(big.Int).Sub(l, big.NewInt(2))} {
		out = append(out, g.NewScalar().SetBigInt(v))
	}
	return out
}

func TestScalarMultDifferential(t *testing.T) {
	r := newRand(t)
	scalars := edgeScalars()
	for range 500 {
		scalars = append(scalars, randomCirclScalar(r))
	}
	points := []group.Element{g.Identity(), g.Generator()}
	for range 20 {
		p, _ := randomCirclElement(r)
		points = append(points, p)
	}
	n := 0
	for i, ck := range scalars {
		k := scalarFromCircl(t, ck)
		want := circlBytes(t, g.NewElement().MulGen(ck))
		if got := new(Element).ScalarBaseMult(k).Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("ScalarBaseMult(%x) = %x, circl %x", k.Bytes(), got, want)
		}
		// Every scalar against a few points, every edge scalar against
		// every point.
		for j, cp := range points {
			if i >= 5 && j%7 != i%7 && j >= 2 {
				continue
			}
			p, err := new(Element).SetCanonicalBytes(circlBytes(t, cp))
			if err != nil {
				t.Fatal(err)
			}
			want := circlBytes(t, g.NewElement().Mul(cp, ck))
			if got := new(Element).ScalarMult(k, p).Bytes(); !bytes.Equal(got, want) {
				t.Fatalf("ScalarMult(%x, %x) = %x, circl %x", k.Bytes(), circlBytes(t, cp), got, want)
			}
			n++
		}
	}
	if n < 1000 {
		t.Fatalf("only %d products compared", n)
	}
}

func TestVarTimeMultiScalarMultDifferential(t *testing.T) {
	r := newRand(t)
	for _, n := range []int{0, 1, 2, 3, 64, 1000} {
		cs := make([]group.Scalar, n)
		cp := make([]group.Element, n)
		ss := make([]*Scalar, n)
		ps := make([]*Element, n)
		edges := edgeScalars()
		want := g.Identity()
		for i := range n {
			switch {
			case i < len(edges) && n > len(edges):
				cs[i] = edges[i]
			default:
				cs[i] = randomCirclScalar(r)
			}
			if i == 1 {
				cp[i] = g.Identity()
			} else {
				cp[i], _ = randomCirclElement(r)
			}
			ss[i] = scalarFromCircl(t, cs[i])
			var err error
			if ps[i], err = new(Element).SetCanonicalBytes(circlBytes(t, cp[i])); err != nil {
				t.Fatal(err)
			}
			want.Add(want, g.NewElement().Mul(cp[i], cs[i]))
		}
		got := NewGeneratorElement().VarTimeMultiScalarMult(ss, ps)
		if !bytes.Equal(got.Bytes(), circlBytes(t, want)) {
			t.Errorf("n=%d: MSM = %x, circl Σ kᵢ·Pᵢ = %x", n, got.Bytes(), circlBytes(t, want))
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("mismatched lengths did not panic")
		}
	}()
	new(Element).VarTimeMultiScalarMult(make([]*Scalar, 1), nil)
}

// TestSetCanonicalBytesUnchanged checks that a refused encoding leaves the
// receiver as it was.
func TestSetCanonicalBytesUnchanged(t *testing.T) {
	e := NewGeneratorElement()
	if _, err := e.SetCanonicalBytes(mustHex(t, invalidEncodings[len(invalidEncodings)-1])); err == nil {
		t.Fatal("invalid encoding accepted")
	}
	if e.p.Equal(edwards25519.NewGeneratorPoint()) != 1 {
		t.Error("receiver changed by a refused decode")
	}
}

func FuzzSetCanonicalBytes(f *testing.F) {
	for _, h := range append(append([]string{}, smallMultiples...), invalidEncodings...) {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(make([]byte, 33))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
	})
}
