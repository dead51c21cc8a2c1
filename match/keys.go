package match

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"
	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
)

// KeyIDSize is the length of a [KeyID].
const KeyIDSize = 16

// A KeyID names a publisher key: the first 16 bytes of
// SHA-256("fedmatch-v1 key id" || suite code || SerializeElement(pkS)).
// It is public.
type KeyID [KeyIDSize]byte

func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// A PrivateKey is a publisher's OPRF key for one suite. It can be used with
// every [Mode]. It must be kept secret; its String and Format methods print
// only the suite and key id.
type PrivateKey struct {
	suite Suite
	k     group.Scalar
	pub   *PublicKey
}

// A PublicKey is the public half of a [PrivateKey]. Filters carry it so
// that queriers can verify evaluation proofs.
type PublicKey struct {
	suite Suite
	e     group.Element
	enc   []byte // SerializeElement(e)
	id    KeyID
}

// GenerateKey returns a new random key for suite s, using crypto/rand.
func GenerateKey(s Suite) (*PrivateKey, error) {
	if !s.valid() {
		return nil, fmt.Errorf("%w: %v", ErrWrongSuite, s)
	}
	k := s.params().group.RandomNonZeroScalar(rand.Reader)
	return newPrivateKey(s, k)
}

// DeriveKey derives a key deterministically from a 32-byte seed and an
// optional info string, as DeriveKeyPair of RFC 9497 Section 3.2.1. Most
// publishers use [GenerateKey] instead. The
// derivation depends on the mode, as the RFC specifies. Use it for
// reproducible tests and for keys held in an HSM-backed seed; anyone who
// knows the seed knows the key.
func DeriveKey(s Suite, m Mode, seed, info []byte) (*PrivateKey, error) {
	if !s.valid() {
		return nil, fmt.Errorf("%w: %v", ErrWrongSuite, s)
	}
	if !m.valid() {
		return nil, fmt.Errorf("%w: %v", ErrWrongMode, m)
	}
	if len(info) > maxUint16 {
		return nil, fmt.Errorf("%w: key info longer than %d bytes", ErrInvalidKey, maxUint16)
	}
	sk, err := oprf.DeriveKey(s.params().circl, rfcMode[m], seed, info)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	b, err := sk.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	k := s.params().group.NewScalar()
	if err := k.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return newPrivateKey(s, k)
}

func newPrivateKey(s Suite, k group.Scalar) (*PrivateKey, error) {
	if k.IsZero() {
		return nil, fmt.Errorf("%w: zero scalar", ErrInvalidKey)
	}
	e := s.params().group.NewElement().MulGen(k)
	pub, err := newPublicKey(s, e)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{suite: s, k: k, pub: pub}, nil
}

func newPublicKey(s Suite, e group.Element) (*PublicKey, error) {
	if e.IsIdentity() {
		return nil, fmt.Errorf("%w: identity element", ErrInvalidKey)
	}
	enc, err := e.MarshalBinaryCompress()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	pk := &PublicKey{suite: s, e: e, enc: enc}
	h := sha256.New()
	h.Write([]byte(labelKeyID))
	h.Write([]byte{s.params().code})
	h.Write(enc)
	copy(pk.id[:], h.Sum(nil))
	return pk, nil
}

// countKey derives the key of the publisher's count filter from k: the
// suite's HashToScalar of SerializeScalar(skS) under the DST
// "fedmatch-v1 count key" (PROTOCOL.md 1.3). A count filter under k
// itself would let a querier holding k's filter pair the unblinded
// elements of a count response with its inputs (count² Finalize hashes,
// tested against the filter) and learn which are shared; under a key
// derived one way from k, its elements are worthless for k's filter, and
// k's evaluations for the count filter.
func (k *PrivateKey) countKey() (*PrivateKey, error) {
	b, err := k.k.MarshalBinary()
	if err != nil {
		return nil, err
	}
	defer clear(b)
	s := k.suite.params().group.HashToScalar(b, []byte(labelCountK))
	return newPrivateKey(k.suite, s)
}

// CountPublicKey returns the public key of k's count key: the key of the
// count filters a publisher with k makes ([PublishOptions.Count]), which
// partners pin ([QuerierOptions.PublicKey]) for cardinality-only queries
// as they pin k's public key for the others. The count key is derived one
// way from k (PROTOCOL.md 1.3): its public key does not reveal k's, nor k's
// its.
func (k *PrivateKey) CountPublicKey() (*PublicKey, error) {
	ck, err := k.countKey()
	if err != nil {
		return nil, err
	}
	return ck.pub, nil
}

// Public returns the public key.
func (k *PrivateKey) Public() *PublicKey { return k.pub }

// Suite returns the key's suite.
func (k *PrivateKey) Suite() Suite { return k.suite }

// KeyID returns the id of the key's public half.
func (k *PrivateKey) KeyID() KeyID { return k.pub.id }

// Equal reports whether k and x are the same key, in constant time in the
// scalar.
func (k *PrivateKey) Equal(x *PrivateKey) bool {
	return x != nil && k.suite == x.suite && k.k.IsEqual(x.k)
}

// MarshalBinary encodes the key: header, suite code, SerializeScalar(skS).
// The result contains the secret key and must be kept secret.
func (k *PrivateKey) MarshalBinary() ([]byte, error) {
	s, err := k.k.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := wire.AppendHeader(make([]byte, 0, wire.HeaderLen+1+len(s)), wire.TypePrivateKey)
	b = append(b, k.suite.params().code)
	return append(b, s...), nil
}

// ParsePrivateKey decodes a key encoded by [PrivateKey.MarshalBinary]. It
// refuses non-canonical and zero scalars.
func ParsePrivateKey(b []byte) (*PrivateKey, error) {
	s := cryptobyte.String(b)
	if err := readHeader(&s, wire.TypePrivateKey); err != nil {
		return nil, err
	}
	suite, err := readSuite(&s)
	if err != nil {
		return nil, err
	}
	var sb []byte
	if !s.ReadBytes(&sb, suite.params().scalarLen) {
		return nil, fmt.Errorf("%w: private key scalar", ErrTruncated)
	}
	if !s.Empty() {
		return nil, malformed("%d trailing bytes after private key", len(s))
	}
	k := suite.params().group.NewScalar()
	if err := k.UnmarshalBinary(sb); err != nil {
		return nil, fmt.Errorf("%w: scalar does not decode", ErrInvalidKey)
	}
	if re, err := k.MarshalBinary(); err != nil || !constantTimeEqual(re, sb) {
		return nil, fmt.Errorf("%w: non-canonical scalar", ErrInvalidKey)
	}
	return newPrivateKey(suite, k)
}

// Format prints the suite and key id, never the secret, whatever the verb.
func (k PrivateKey) Format(f fmt.State, verb rune) {
	if k.pub == nil {
		fmt.Fprint(f, "match.PrivateKey{}")
		return
	}
	fmt.Fprintf(f, "match.PrivateKey{%v %v}", k.suite, k.pub.id)
}

// String returns the suite and key id.
func (k PrivateKey) String() string { return fmt.Sprint(k) }

// GoString returns the suite and key id.
func (k PrivateKey) GoString() string { return fmt.Sprint(k) }

// Suite returns the key's suite.
func (pk *PublicKey) Suite() Suite { return pk.suite }

// KeyID returns the key id.
func (pk *PublicKey) KeyID() KeyID { return pk.id }

// Bytes returns SerializeElement(pkS) (RFC 9497 Section 2.1), as other
// RFC 9497 implementations expect it.
func (pk *PublicKey) Bytes() []byte { return append([]byte(nil), pk.enc...) }

// Equal reports whether pk and x are the same key.
func (pk *PublicKey) Equal(x *PublicKey) bool {
	return x != nil && pk.suite == x.suite && pk.id == x.id && string(pk.enc) == string(x.enc)
}

// String returns the suite and key id.
func (pk *PublicKey) String() string {
	return fmt.Sprintf("match.PublicKey{%v %v}", pk.suite, pk.id)
}

// MarshalBinary encodes the key: header, suite code, SerializeElement(pkS).
func (pk *PublicKey) MarshalBinary() ([]byte, error) {
	b := wire.AppendHeader(make([]byte, 0, wire.HeaderLen+1+len(pk.enc)), wire.TypePublicKey)
	b = append(b, pk.suite.params().code)
	return append(b, pk.enc...), nil
}

// ParsePublicKey decodes a key encoded by [PublicKey.MarshalBinary].
func ParsePublicKey(b []byte) (*PublicKey, error) {
	s := cryptobyte.String(b)
	if err := readHeader(&s, wire.TypePublicKey); err != nil {
		return nil, err
	}
	suite, err := readSuite(&s)
	if err != nil {
		return nil, err
	}
	pk, err := readPublicKey(&s, suite)
	if err != nil {
		return nil, err
	}
	if !s.Empty() {
		return nil, malformed("%d trailing bytes after public key", len(s))
	}
	return pk, nil
}

// NewPublicKey returns the public key of suite s whose SerializeElement
// encoding is b, as another RFC 9497 implementation prints it. Most
// queriers get the key inside a [Filter] and pin it with
// [QuerierOptions.PublicKey]; this is for keys exchanged out of band.
func NewPublicKey(s Suite, b []byte) (*PublicKey, error) {
	if !s.valid() {
		return nil, fmt.Errorf("%w: %v", ErrWrongSuite, s)
	}
	str := cryptobyte.String(b)
	pk, err := readPublicKey(&str, s)
	if err != nil {
		return nil, err
	}
	if !str.Empty() {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidKey, len(b), s.params().elemLen)
	}
	return pk, nil
}

func readPublicKey(s *cryptobyte.String, suite Suite) (*PublicKey, error) {
	var eb []byte
	if !s.ReadBytes(&eb, suite.params().elemLen) {
		return nil, fmt.Errorf("%w: public key", ErrTruncated)
	}
	e, err := decodeElement(suite.params(), eb)
	if err != nil {
		return nil, fmt.Errorf("%w: public key: %v", ErrInvalidKey, err)
	}
	return newPublicKey(suite, e)
}
