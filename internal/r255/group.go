package r255

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	"github.com/cloudflare/circl/group"
	"golang.org/x/crypto/cryptobyte"
)

// Group is ristretto255 behind circl's [group.Group] interface, computed by
// this package: a drop-in for circl's group.Ristretto255 wherever code is
// written against that interface. Its elements and scalars encode, decode
// and compute exactly as circl's do (group_test.go compares every method),
// with these differences:
//
//   - RandomScalar, RandomNonZeroScalar and RandomElement read from the
//     reader they are given (circl's ristretto255 ignores it and reads
//     crypto/rand); they panic if it fails, as there is no error to return.
//   - Mixing its values with another group's panics with a message naming
//     the types (circl's panics with a failed type assertion).
//
// Elements and scalars are not safe for concurrent use while one goroutine
// writes them; reading (Mul, MarshalBinary, IsEqual) is.
var Group group.Group = ristretto{}

// order is ℓ, the group order.
var order, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

type ristretto struct{}

// A groupElement is an Element behind group.Element.
type groupElement struct{ e Element }

// A groupScalar is a Scalar behind group.Scalar.
type groupScalar struct{ s Scalar }

func (ristretto) String() string { return "ristretto255" }

func (ristretto) Params() *group.Params {
	return &group.Params{ElementLength: 32, CompressedElementLength: 32, ScalarLength: 32}
}

func (g ristretto) NewElement() group.Element { return g.Identity() }
func (ristretto) NewScalar() group.Scalar     { return new(groupScalar) }

func (ristretto) Identity() group.Element {
	e := new(groupElement)
	e.e.p.Set(edwards25519.NewIdentityPoint())
	return e
}

func (ristretto) Generator() group.Element {
	e := new(groupElement)
	e.e.p.Set(edwards25519.NewGeneratorPoint())
	return e
}

func (ristretto) RandomElement(r io.Reader) group.Element {
	var b [64]byte
	readRandom(r, b[:])
	e := new(groupElement)
	e.e.setUniformBytes(&b)
	return e
}

func (ristretto) RandomScalar(r io.Reader) group.Scalar {
	var b [64]byte
	readRandom(r, b[:])
	s := new(groupScalar)
	if _, err := s.s.s.SetUniformBytes(b[:]); err != nil {
		panic("r255: internal error: " + err.Error())
	}
	return s
}

func (g ristretto) RandomNonZeroScalar(r io.Reader) group.Scalar {
	for {
		// A zero from 64 uniform bytes has probability about 2^-252.
		if s := g.RandomScalar(r); !s.IsZero() {
			return s
		}
	}
}

func readRandom(r io.Reader, b []byte) {
	if _, err := io.ReadFull(r, b); err != nil {
		panic("r255: reading randomness: " + err.Error())
	}
}

func (ristretto) HashToElement(msg, dst []byte) group.Element {
	e := new(groupElement)
	e.e.HashToElement(msg, dst)
	return e
}

// HashToElementNonUniform is HashToElement, as in circl: ristretto255 has
// no non-uniform encoding (RFC 9380 Appendix B).
func (g ristretto) HashToElementNonUniform(msg, dst []byte) group.Element {
	return g.HashToElement(msg, dst)
}

// HashToScalar is RFC 9497 Section 4.1's HashToScalar: expand_message_xmd
// with SHA-512 to 64 bytes, read as a little-endian integer mod ℓ.
func (ristretto) HashToScalar(msg, dst []byte) group.Scalar {
	var uniform [64]byte
	expandMessageXMD64(&uniform, msg, dst)
	s := new(groupScalar)
	if _, err := s.s.s.SetUniformBytes(uniform[:]); err != nil {
		panic("r255: internal error: " + err.Error())
	}
	return s
}

func elementOf(x group.Element) *Element {
	e, ok := x.(*groupElement)
	if !ok {
		panic(fmt.Sprintf("r255: %T is not an r255.Group element", x))
	}
	return &e.e
}

func scalarOf(x group.Scalar) *Scalar {
	s, ok := x.(*groupScalar)
	if !ok {
		panic(fmt.Sprintf("r255: %T is not an r255.Group scalar", x))
	}
	return &s.s
}

// Elem returns the Element behind x, which must be an element of [Group]:
// the way from circl's interface to this package's own faster calls (no
// interface conversions, multi-scalar multiplication). Writing to the result
// writes to x.
func Elem(x group.Element) *Element { return elementOf(x) }

// Scal returns the Scalar behind x, which must be a scalar of [Group].
// Writing to the result writes to x.
func Scal(x group.Scalar) *Scalar { return scalarOf(x) }

func (e *groupElement) Group() group.Group { return Group }

func (e *groupElement) String() string { return fmt.Sprintf("%x", e.e.Bytes()) }

func (e *groupElement) Set(x group.Element) group.Element {
	e.e.Set(elementOf(x))
	return e
}

func (e *groupElement) Copy() group.Element {
	c := new(groupElement)
	c.e.Set(&e.e)
	return c
}

func (e *groupElement) IsIdentity() bool             { return e.e.IsIdentity() == 1 }
func (e *groupElement) IsEqual(x group.Element) bool { return e.e.Equal(elementOf(x)) == 1 }

// CMov sets e to x if b is 1 and leaves it if b is 0, in constant time.
func (e *groupElement) CMov(b int, x group.Element) group.Element {
	if b != 0 && b != 1 {
		panic(group.ErrSelector)
	}
	e.e.selectPoint(elementOf(x), &e.e, b)
	return e
}

// CSelect sets e to x if b is 1 and to y if b is 0, in constant time.
func (e *groupElement) CSelect(b int, x, y group.Element) group.Element {
	if b != 0 && b != 1 {
		panic(group.ErrSelector)
	}
	e.e.selectPoint(elementOf(x), elementOf(y), b)
	return e
}

// selectPoint sets e to a if b is 1 and to c if b is 0, in constant time.
func (e *Element) selectPoint(a, c *Element, b int) {
	ax, ay, az, at := a.p.ExtendedCoordinates()
	cx, cy, cz, ct := c.p.ExtendedCoordinates()
	var x, y, z, t field.Element
	x.Select(ax, cx, b)
	y.Select(ay, cy, b)
	z.Select(az, cz, b)
	t.Select(at, ct, b)
	if _, err := e.p.SetExtendedCoordinates(&x, &y, &z, &t); err != nil {
		panic("r255: internal error: " + err.Error())
	}
}

func (e *groupElement) Add(x, y group.Element) group.Element {
	e.e.Add(elementOf(x), elementOf(y))
	return e
}

func (e *groupElement) Dbl(x group.Element) group.Element {
	p := elementOf(x)
	e.e.Add(p, p)
	return e
}

func (e *groupElement) Neg(x group.Element) group.Element {
	e.e.p.Negate(&elementOf(x).p)
	return e
}

// Mul sets e = s·x in constant time.
func (e *groupElement) Mul(x group.Element, s group.Scalar) group.Element {
	e.e.ScalarMult(scalarOf(s), elementOf(x))
	return e
}

// MulGen sets e = s·G in constant time.
func (e *groupElement) MulGen(s group.Scalar) group.Element {
	e.e.ScalarBaseMult(scalarOf(s))
	return e
}

func (e *groupElement) MarshalBinary() ([]byte, error)         { return e.e.Bytes(), nil }
func (e *groupElement) MarshalBinaryCompress() ([]byte, error) { return e.e.Bytes(), nil }

// UnmarshalBinary decodes as RFC 9496 Section 4.3.1 (SetCanonicalBytes),
// accepting the identity as circl does.
func (e *groupElement) UnmarshalBinary(b []byte) error {
	if _, err := e.e.SetCanonicalBytes(b); err != nil {
		return err
	}
	return nil
}

func (s *groupScalar) Group() group.Group { return Group }

func (s *groupScalar) String() string {
	b := s.s.Bytes()
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return fmt.Sprintf("0x%x", b)
}

func (s *groupScalar) Set(x group.Scalar) group.Scalar {
	s.s.s.Set(&scalarOf(x).s)
	return s
}

func (s *groupScalar) Copy() group.Scalar {
	c := new(groupScalar)
	c.s.s.Set(&s.s.s)
	return c
}

func (s *groupScalar) IsZero() bool {
	var zero edwards25519.Scalar
	return s.s.s.Equal(&zero) == 1
}

func (s *groupScalar) IsEqual(x group.Scalar) bool { return s.s.s.Equal(&scalarOf(x).s) == 1 }

func (s *groupScalar) SetUint64(x uint64) group.Scalar {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[:], x)
	if _, err := s.s.s.SetCanonicalBytes(b[:]); err != nil {
		panic("r255: internal error: " + err.Error())
	}
	return s
}

// SetBigInt sets s = x mod ℓ (for a negative x, the residue in [0, ℓ)).
func (s *groupScalar) SetBigInt(x *big.Int) group.Scalar {
	var b [32]byte
	new(big.Int).Mod(x, order).FillBytes(b[:])
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	if _, err := s.s.s.SetCanonicalBytes(b[:]); err != nil {
		panic("r255: internal error: " + err.Error())
	}
	return s
}

// CMov sets s to x if b is 1 and leaves it if b is 0, in constant time.
func (s *groupScalar) CMov(b int, x group.Scalar) group.Scalar {
	if b != 0 && b != 1 {
		panic(group.ErrSelector)
	}
	s.s.selectScalar(scalarOf(x), &s.s, b)
	return s
}

// CSelect sets s to x if b is 1 and to y if b is 0, in constant time.
func (s *groupScalar) CSelect(b int, x, y group.Scalar) group.Scalar {
	if b != 0 && b != 1 {
		panic(group.ErrSelector)
	}
	s.s.selectScalar(scalarOf(x), scalarOf(y), b)
	return s
}

// selectScalar sets s to a if b is 1 and to c if b is 0, in constant time.
func (s *Scalar) selectScalar(a, c *Scalar, b int) {
	out := c.s.Bytes()
	subtle.ConstantTimeCopy(b, out, a.s.Bytes())
	if _, err := s.s.SetCanonicalBytes(out); err != nil {
		panic("r255: internal error: " + err.Error())
	}
}

func (s *groupScalar) Add(x, y group.Scalar) group.Scalar {
	s.s.s.Add(&scalarOf(x).s, &scalarOf(y).s)
	return s
}

func (s *groupScalar) Sub(x, y group.Scalar) group.Scalar {
	s.s.s.Subtract(&scalarOf(x).s, &scalarOf(y).s)
	return s
}

func (s *groupScalar) Mul(x, y group.Scalar) group.Scalar {
	s.s.s.Multiply(&scalarOf(x).s, &scalarOf(y).s)
	return s
}

func (s *groupScalar) Neg(x group.Scalar) group.Scalar {
	s.s.s.Negate(&scalarOf(x).s)
	return s
}

// Inv sets s = x^-1 mod ℓ, in constant time; the inverse of zero is zero,
// as in circl.
func (s *groupScalar) Inv(x group.Scalar) group.Scalar {
	s.s.s.Invert(&scalarOf(x).s)
	return s
}

func (s *groupScalar) MarshalBinary() ([]byte, error) { return s.s.Bytes(), nil }

// UnmarshalBinary decodes a 32-byte canonical little-endian scalar,
// refusing one ≥ ℓ (RFC 9496 Section 4.4), as circl does.
func (s *groupScalar) UnmarshalBinary(b []byte) error {
	if _, err := s.s.SetCanonicalBytes(b); err != nil {
		return err
	}
	return nil
}

// Marshal appends the scalar's encoding to b.
func (s *groupScalar) Marshal(b *cryptobyte.Builder) error {
	b.AddBytes(s.s.Bytes())
	return nil
}

// Unmarshal reads a canonical scalar from str and reports whether it could.
func (s *groupScalar) Unmarshal(str *cryptobyte.String) bool {
	var b []byte
	if !str.ReadBytes(&b, 32) {
		return false
	}
	return s.UnmarshalBinary(b) == nil
}
