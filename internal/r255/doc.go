// Package r255 implements the ristretto255 group operations that fedmatch's
// hot loops need, as specified in RFC 9496, on top of
// filippo.io/edwards25519 (the edwards25519 implementation inside Go's
// standard library).
//
// It exists for speed only: github.com/cloudflare/circl's group.Ristretto255
// remains the reference for every operation here, and this package's tests
// compare each operation with circl's on random and edge inputs (the RFC 9496
// Appendix A vectors, non-canonical and identity encodings). An encoding one
// refuses the other refuses; an element one computes the other computes byte
// for byte.
//
// The operations are
//
//   - element decoding (RFC 9496 Section 4.3.1), which refuses non-canonical
//     and negative field encodings and every other invalid encoding, and
//     accepts the identity, as circl does (refusing the identity is the OPRF
//     layer's job, RFC 9497 Section 2.1);
//   - element encoding (Section 4.3.2), equality (Section 4.3.3) and an
//     identity check;
//   - hash-to-group (Section 4.3.4's one-way map, fed by RFC 9380
//     expand_message_xmd with SHA-512), identical to circl's
//     group.Ristretto255.HashToElement;
//   - canonical scalar decoding and encoding;
//   - constant-time variable-base and fixed-base scalar multiplication;
//   - variable-time multi-scalar multiplication, for public scalars and
//     points only (the RFC 9497 composites).
//
// The zero value of [Element] is not a valid element: obtain one from
// [NewIdentityElement] or [NewGeneratorElement], or by decoding. The zero
// value of [Scalar] is zero.
package r255
