package r255

import (
	"crypto/sha512"
	"errors"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// RFC 9380 Section 5.3.3: a DST longer than 255 bytes is replaced by
// H("H2C-OVERSIZE-DST-" || DST).
const (
	maxDSTLength    = 255
	oversizeDSTSalt = "H2C-OVERSIZE-DST-"
)

// HashToElement sets e to the ristretto255 hash-to-group of msg under the
// domain separation tag dst and returns e: RFC 9380 expand_message_xmd with
// SHA-512 to 64 uniform bytes, then RFC 9496 Section 4.3.4's one-way map.
// For RFC 9497 the caller passes dst = "HashToGroup-" || contextString
// (Section 4.1). The result equals circl's
// group.Ristretto255.HashToElement(msg, dst).
func (e *Element) HashToElement(msg, dst []byte) *Element {
	var uniform [64]byte
	expandMessageXMD64(&uniform, msg, dst)
	e.setUniformBytes(&uniform)
	return e
}

// SetUniformBytes sets e to RFC 9496 Section 4.3.4's one-way map of the 64
// bytes b and returns e. It returns nil and an error, leaving e unchanged, if
// b is not 64 bytes.
func (e *Element) SetUniformBytes(b []byte) (*Element, error) {
	if len(b) != 64 {
		return nil, errors.New("r255: SetUniformBytes input is not 64 bytes")
	}
	e.setUniformBytes((*[64]byte)(b))
	return e, nil
}

func (e *Element) setUniformBytes(b *[64]byte) {
	var p1, p2 edwards25519.Point
	elligatorMap(&p1, b[:32])
	elligatorMap(&p2, b[32:])
	e.p.Add(&p1, &p2)
}

// elligatorMap sets p to a representative of MAP(t) of RFC 9496 Section
// 4.3.4, t the low 255 bits of b taken mod p (field.Element.SetBytes does
// both).
func elligatorMap(p *edwards25519.Point, b []byte) {
	var t field.Element
	if _, err := t.SetBytes(b); err != nil {
		panic("r255: internal error: field element of wrong length")
	}
	var r, u, v, tmp, s, sPrime, c, n, w0, w1, w2, w3 field.Element
	// r = SQRT_M1 * t^2
	r.Square(&t)
	r.Multiply(&r, sqrtM1)
	// u = (r + 1) * ONE_MINUS_D_SQ
	u.Add(&r, feOne)
	u.Multiply(&u, oneMinusDSq)
	// v = (-1 - r*D) * (r + D)
	v.Multiply(&r, edwardsD)
	v.Subtract(feMinusOne, &v)
	tmp.Add(&r, edwardsD)
	v.Multiply(&v, &tmp)
	// (was_square, s) = SQRT_RATIO_M1(u, v)
	_, wasSquare := s.SqrtRatio(&u, &v)
	// s_prime = -CT_ABS(s*t)
	sPrime.Multiply(&s, &t)
	sPrime.Absolute(&sPrime)
	sPrime.Negate(&sPrime)
	s.Select(&s, &sPrime, wasSquare)
	c.Select(feMinusOne, &r, wasSquare)
	// N = c * (r - 1) * D_MINUS_ONE_SQ - v
	n.Subtract(&r, feOne)
	n.Multiply(&n, &c)
	n.Multiply(&n, dMinusOneSq)
	n.Subtract(&n, &v)
	// w0 = 2 * s * v; w1 = N * SQRT_AD_MINUS_ONE; w2 = 1 - s^2; w3 = 1 + s^2
	w0.Add(&s, &s)
	w0.Multiply(&w0, &v)
	w1.Multiply(&n, sqrtADMinusOne)
	tmp.Square(&s)
	w2.Subtract(feOne, &tmp)
	w3.Add(feOne, &tmp)
	// (w0*w3, w2*w1, w1*w3, w0*w2) in extended coordinates.
	var x, y, z, tt field.Element
	x.Multiply(&w0, &w3)
	y.Multiply(&w2, &w1)
	z.Multiply(&w1, &w3)
	tt.Multiply(&w0, &w2)
	if _, err := p.SetExtendedCoordinates(&x, &y, &z, &tt); err != nil {
		// RFC 9496 Section 4.3.4: the map is total, so this is unreachable.
		panic("r255: internal error: one-way map left the curve")
	}
}

// expandMessageXMD64 sets out to expand_message_xmd(msg, dst, 64) with
// SHA-512 (RFC 9380 Section 5.3.1). With b_in_bytes = 64 and len_in_bytes =
// 64, ell = 1 and the output is b_1.
func expandMessageXMD64(out *[64]byte, msg, dst []byte) {
	var dstPrimeBuf [maxDSTLength + 1]byte
	dstPrime := dstPrimeBuf[:0]
	if len(dst) > maxDSTLength {
		h := sha512.New()
		h.Write([]byte(oversizeDSTSalt))
		h.Write(dst)
		dstPrime = h.Sum(dstPrime)
	} else {
		dstPrime = append(dstPrime, dst...)
	}
	dstPrime = append(dstPrime, byte(len(dstPrime)))

	// b_0 = H(Z_pad || msg || l_i_b_str || I2OSP(0, 1) || DST_prime), with
	// Z_pad the 128-byte SHA-512 block of zeros and l_i_b_str = I2OSP(64, 2).
	// The buffer lives on the stack for the messages fedmatch hashes.
	var buf [sha512.BlockSize + 256 + 3 + maxDSTLength + 1]byte
	in := append(buf[:sha512.BlockSize], msg...)
	in = append(in, 0, 64, 0)
	in = append(in, dstPrime...)
	b0 := sha512.Sum512(in)

	// b_1 = H(b_0 || I2OSP(1, 1) || DST_prime)
	in = append(buf[:0], b0[:]...)
	in = append(in, 1)
	in = append(in, dstPrime...)
	*out = sha512.Sum512(in)
}
