package r255

import (
	"crypto/subtle"
	"errors"
	"math/big"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// ErrInvalidEncoding is returned for an encoding RFC 9496 Section 4.3.1 or
// Section 4.4 refuses.
var ErrInvalidEncoding = errors.New("r255: invalid encoding")

// Constants of RFC 9496 Section 4.1, in the decimal form the RFC gives them.
var (
	sqrtM1         = feFromDecimal("19681161376707505956807079304988542015446066515923890162744021073123829784752")
	sqrtADMinusOne = feFromDecimal("25063068953384623474111414158702152701244531502492656460079210482610430750235")
	invSqrtAMinusD = feFromDecimal("54469307008909316920995813868745141605393597292927456921205312896311721017578")
	oneMinusDSq    = feFromDecimal("1159843021668779879193775521855586647937357759715417654439879720876111806838")
	dMinusOneSq    = feFromDecimal("40440834346308536858101042469323190826248399146238708352240133220865137265952")
	edwardsD       = feFromDecimal("37095705934669439343138083508754565189542113879843219016388785533085940283555")
	feOne          = new(field.Element).One()
	feMinusOne     = new(field.Element).Negate(feOne)
)

// feFromDecimal parses a decimal constant below 2^255-19 into a field element.
func feFromDecimal(s string) *field.Element {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.BitLen() > 255 {
		panic("r255: bad constant " + s)
	}
	var le [32]byte
	n.FillBytes(le[:])
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		le[i], le[j] = le[j], le[i]
	}
	fe, err := new(field.Element).SetBytes(le[:])
	if err != nil {
		panic(err)
	}
	return fe
}

// An Element is an element of the ristretto255 group, held as one of its
// edwards25519 representatives.
type Element struct {
	p edwards25519.Point
}

// NewIdentityElement returns a new Element set to the identity.
func NewIdentityElement() *Element {
	e := new(Element)
	e.p.Set(edwards25519.NewIdentityPoint())
	return e
}

// NewGeneratorElement returns a new Element set to the RFC 9496 generator,
// whose representative is the edwards25519 base point.
func NewGeneratorElement() *Element {
	e := new(Element)
	e.p.Set(edwards25519.NewGeneratorPoint())
	return e
}

// Set sets e = x and returns e.
func (e *Element) Set(x *Element) *Element {
	e.p.Set(&x.p)
	return e
}

// SetCanonicalBytes sets e to the element encoded by b, following RFC 9496
// Section 4.3.1, and returns e. It returns nil and [ErrInvalidEncoding],
// leaving e unchanged, if b is not 32 bytes, is a non-canonical or negative
// field element, or does not decode to an element. The identity's encoding
// (32 zero bytes) is accepted. It runs in constant time in the value of b.
func (e *Element) SetCanonicalBytes(b []byte) (*Element, error) {
	if len(b) != 32 {
		return nil, ErrInvalidEncoding
	}
	// Step 1: s must be a canonical, non-negative field element. SetBytes
	// ignores the top bit and reduces mod p, so a re-encoding that differs
	// from b means b was non-canonical.
	var s field.Element
	if _, err := s.SetBytes(b); err != nil {
		return nil, ErrInvalidEncoding
	}
	var sb [32]byte
	copy(sb[:], s.Bytes())
	canonical := subtle.ConstantTimeCompare(sb[:], b)

	// Step 2.
	var ss, u1, u2, u2Sqr, v, tmp, invSqrt, denX, denY, x, y, t field.Element
	ss.Square(&s)
	u1.Subtract(feOne, &ss)
	u2.Add(feOne, &ss)
	u2Sqr.Square(&u2)
	// v = -(D * u1^2) - u2_sqr
	v.Square(&u1)
	v.Multiply(&v, edwardsD)
	v.Negate(&v)
	v.Subtract(&v, &u2Sqr)
	// (was_square, invsqrt) = SQRT_RATIO_M1(1, v * u2_sqr)
	tmp.Multiply(&v, &u2Sqr)
	_, wasSquare := invSqrt.SqrtRatio(feOne, &tmp)
	denX.Multiply(&invSqrt, &u2)
	denY.Multiply(&invSqrt, &denX)
	denY.Multiply(&denY, &v)
	// x = CT_ABS(2 * s * den_x)
	x.Add(&s, &s)
	x.Multiply(&x, &denX)
	x.Absolute(&x)
	y.Multiply(&u1, &denY)
	t.Multiply(&x, &y)

	// Step 3.
	var zero field.Element
	ok := canonical & (1 ^ s.IsNegative()) & wasSquare & (1 ^ t.IsNegative()) & (1 ^ y.Equal(&zero))
	if ok != 1 {
		return nil, ErrInvalidEncoding
	}
	var p edwards25519.Point
	// SetExtendedCoordinates checks the curve equation again. That check
	// alone refuses the non-square case too (mutation testing shows the
	// was_square term above is redundant with it); both stay, step 3 as
	// RFC 9496 writes it.
	if _, err := p.SetExtendedCoordinates(&x, &y, feOne, &t); err != nil {
		return nil, ErrInvalidEncoding
	}
	e.p.Set(&p)
	return e, nil
}

// Bytes returns the 32-byte canonical encoding of e (RFC 9496 Section 4.3.2).
func (e *Element) Bytes() []byte {
	// Outlined so that the allocation can happen on the caller's stack, as
	// in filippo.io/edwards25519.
	var out [32]byte
	return e.bytes(&out)
}

// AppendBytes appends the 32-byte canonical encoding of e to b.
func (e *Element) AppendBytes(b []byte) []byte {
	var out [32]byte
	return append(b, e.bytes(&out)...)
}

func (e *Element) bytes(out *[32]byte) []byte {
	x0, y0, z0, t0 := e.p.ExtendedCoordinates()

	var u1, u2, tmp, invSqrt, den1, den2, zInv, ix0, iy0, enchanted field.Element
	// u1 = (z0 + y0) * (z0 - y0)
	u1.Add(z0, y0)
	tmp.Subtract(z0, y0)
	u1.Multiply(&u1, &tmp)
	u2.Multiply(x0, y0)
	// (_, invsqrt) = SQRT_RATIO_M1(1, u1 * u2^2)
	tmp.Square(&u2)
	tmp.Multiply(&tmp, &u1)
	invSqrt.SqrtRatio(feOne, &tmp)
	den1.Multiply(&invSqrt, &u1)
	den2.Multiply(&invSqrt, &u2)
	zInv.Multiply(&den1, &den2)
	zInv.Multiply(&zInv, t0)
	ix0.Multiply(x0, sqrtM1)
	iy0.Multiply(y0, sqrtM1)
	enchanted.Multiply(&den1, invSqrtAMinusD)
	tmp.Multiply(t0, &zInv)
	rotate := tmp.IsNegative()

	var x, y, denInv field.Element
	x.Select(&iy0, x0, rotate)
	y.Select(&ix0, y0, rotate)
	denInv.Select(&enchanted, &den2, rotate)
	// y = CT_NEG(y, IS_NEGATIVE(x * z_inv))
	tmp.Multiply(&x, &zInv)
	var negY field.Element
	negY.Negate(&y)
	y.Select(&negY, &y, tmp.IsNegative())
	// s = CT_ABS(den_inv * (z - y))
	var s field.Element
	s.Subtract(z0, &y)
	s.Multiply(&s, &denInv)
	s.Absolute(&s)
	copy(out[:], s.Bytes())
	return out[:]
}

// Equal returns 1 if e and x are the same element (RFC 9496 Section 4.3.3),
// and 0 otherwise, in constant time.
func (e *Element) Equal(x *Element) int {
	x1, y1, _, _ := e.p.ExtendedCoordinates()
	x2, y2, _, _ := x.p.ExtendedCoordinates()
	var a, b field.Element
	a.Multiply(x1, y2)
	b.Multiply(y1, x2)
	eq := a.Equal(&b)
	a.Multiply(y1, y2)
	b.Multiply(x1, x2)
	return eq | a.Equal(&b)
}

// IsIdentity returns 1 if e is the identity, and 0 otherwise, in constant
// time. By Section 4.3.3 with (0, 1), that is X = 0 or Y = 0.
func (e *Element) IsIdentity() int {
	x, y, _, _ := e.p.ExtendedCoordinates()
	var zero field.Element
	return x.Equal(&zero) | y.Equal(&zero)
}

// Add sets e = x + y and returns e.
func (e *Element) Add(x, y *Element) *Element {
	e.p.Add(&x.p, &y.p)
	return e
}

// ScalarMult sets e = s * x and returns e, in constant time.
func (e *Element) ScalarMult(s *Scalar, x *Element) *Element {
	e.p.ScalarMult(&s.s, &x.p)
	return e
}

// ScalarBaseMult sets e = s * G, G the generator, and returns e, in constant
// time.
func (e *Element) ScalarBaseMult(s *Scalar) *Element {
	e.p.ScalarBaseMult(&s.s)
	return e
}

// VarTimeMultiScalarMult sets e = Σ scalars[i] * elements[i] and returns e.
// It runs in variable time: use it only for public scalars and elements. It
// panics if the slices differ in length. The sum of no terms is the identity.
func (e *Element) VarTimeMultiScalarMult(scalars []*Scalar, elements []*Element) *Element {
	if len(scalars) != len(elements) {
		panic("r255: VarTimeMultiScalarMult with mismatched lengths")
	}
	ss := make([]*edwards25519.Scalar, len(scalars))
	ps := make([]*edwards25519.Point, len(elements))
	for i := range scalars {
		ss[i] = &scalars[i].s
		ps[i] = &elements[i].p
	}
	e.p.VarTimeMultiScalarMult(ss, ps)
	return e
}
