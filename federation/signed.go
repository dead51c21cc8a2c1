package federation

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
	"github.com/fedmatch/fedmatch/match"
)

// A signed filter is what a node serves at GET /fedmatch/v1/filter: its
// current filter, signed with its identity key (PROTOCOL.md, "Signed
// filter"):
//
//	header(type 0x09) nodeIDLen:u8 nodeID epoch:u64 keyID[16]
//	filterLen:u32 filter signature[64]
//
// The signature is Ed25519 over "fedmatch-v1 signed filter" followed by
// everything before it. The epoch and key id repeat the filter's, so a
// node cannot present one key in its envelope and another in its filter.
const labelSignedFilter = "fedmatch-v1 signed filter"

// maxFilterBytes bounds a signed filter a partner accepts: the largest
// filter match allows.
const maxFilterBytes = match.MaxFilterBits/8 + 4096

// Errors of signed filters. A partner's filter that fails any check is
// refused before any indicator is blinded for it.
var (
	ErrFilterSignature = errors.New("federation: filter signature does not verify")
	ErrFilterSigner    = errors.New("federation: filter signed by another node")
	ErrFilterExpired   = errors.New("federation: filter outside its validity window")
	ErrFilterKey       = errors.New("federation: filter key does not match its envelope")
	ErrFilterRollback  = errors.New("federation: filter of an older epoch than one already seen")
	ErrFilterMalformed = errors.New("federation: malformed signed filter")
)

func signFilter(id string, key ed25519.PrivateKey, f *match.Filter) ([]byte, error) {
	fb, err := f.MarshalBinary()
	if err != nil {
		return nil, err
	}
	kid := f.KeyID()
	b := wire.AppendHeader(nil, wire.TypeSignedFilter)
	b = append(b, byte(len(id)))
	b = append(b, id...)
	b = binary.BigEndian.AppendUint64(b, f.Epoch())
	b = append(b, kid[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(fb)))
	b = append(b, fb...)
	return append(b, ed25519.Sign(key, append([]byte(labelSignedFilter), b...))...), nil
}

// verifyFilter checks a signed filter from partner p at time now and
// returns the filter.
func verifyFilter(data []byte, p *Partner, now time.Time) (*match.Filter, error) {
	if len(data) > maxFilterBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrFilterMalformed, len(data))
	}
	if len(data) < ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: truncated", ErrFilterMalformed)
	}
	body, sig := data[:len(data)-ed25519.SignatureSize], data[len(data)-ed25519.SignatureSize:]
	s := cryptobyte.String(body)
	if err := wire.ReadHeader(&s, wire.TypeSignedFilter); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFilterMalformed, err)
	}
	var id cryptobyte.String
	var epoch uint64
	var fbLen uint32
	var kid, fb []byte
	if !s.ReadUint8LengthPrefixed(&id) || !s.ReadUint64(&epoch) || !s.ReadBytes(&kid, match.KeyIDSize) ||
		!s.ReadUint32(&fbLen) || !s.ReadBytes(&fb, int(fbLen)) || !s.Empty() {
		return nil, fmt.Errorf("%w: truncated or trailing bytes", ErrFilterMalformed)
	}
	if !ed25519.Verify(p.Identity, append([]byte(labelSignedFilter), body...), sig) {
		return nil, ErrFilterSignature
	}
	if string(id) != p.ID {
		return nil, fmt.Errorf("%w: %q, want %q", ErrFilterSigner, string(id), p.ID)
	}
	var f match.Filter
	if err := f.UnmarshalBinary(fb); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFilterMalformed, err)
	}
	if k := f.KeyID(); f.Epoch() != epoch || string(k[:]) != string(kid) {
		return nil, ErrFilterKey
	}
	if f.NotBefore().IsZero() || f.NotAfter().IsZero() || !f.ValidAt(now) {
		return nil, fmt.Errorf("%w: valid %v to %v, now %v", ErrFilterExpired, f.NotBefore(), f.NotAfter(), now.UTC())
	}
	return &f, nil
}
