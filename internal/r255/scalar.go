package r255

import "filippo.io/edwards25519"

// A Scalar is an integer modulo the group order
// ℓ = 2^252 + 27742317777372353535851937790883648493.
// The zero value is zero.
type Scalar struct {
	s edwards25519.Scalar
}

// SetCanonicalBytes sets s to the 32-byte little-endian integer b and returns
// s. It returns nil and [ErrInvalidEncoding], leaving s unchanged, if b is not
// 32 bytes or encodes an integer ≥ ℓ (RFC 9496 Section 4.4: non-canonical
// scalars are refused, as circl does).
func (s *Scalar) SetCanonicalBytes(b []byte) (*Scalar, error) {
	if _, err := s.s.SetCanonicalBytes(b); err != nil {
		return nil, ErrInvalidEncoding
	}
	return s, nil
}

// Bytes returns the 32-byte canonical little-endian encoding of s.
func (s *Scalar) Bytes() []byte {
	return s.s.Bytes()
}
