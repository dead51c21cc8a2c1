package match

import (
	"crypto/sha3"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
)

// A Filter is a publisher's watchlist as a Bloom filter over tags derived
// from the OPRF outputs of its entries (never over the values themselves),
// together with everything a querier needs to use it: suite, mode, the
// public key and its id, the epoch and validity window, and the filter
// parameters n (entries), m (bits) and k (hash functions).
//
// Without the publisher's key the filter reveals only its parameters: an
// entry's tag can only be computed through an evaluation by the publisher.
type Filter struct {
	hdr       msgHeader
	pub       *PublicKey
	epoch     uint64
	notBefore int64 // Unix seconds; 0 means unset
	notAfter  int64
	n         uint64
	bf        *bloom.BloomFilter
	setBits   uint64
	count     bool // a count filter (wire type 0x13): count tags, for BlindCount
}

// Suite returns the filter's suite.
func (f *Filter) Suite() Suite { return f.hdr.suite }

// IsCount reports whether f is a count filter ([Publisher.CountFilter]),
// which answers only cardinality-only queries ([Querier.BlindCount]).
func (f *Filter) IsCount() bool { return f.count }

// Mode returns the protocol mode queries against this filter use.
func (f *Filter) Mode() Mode { return f.hdr.mode }

// KeyID returns the id of the publisher key.
func (f *Filter) KeyID() KeyID { return f.hdr.keyID }

// PublicKey returns the publisher key the filter commits to.
func (f *Filter) PublicKey() *PublicKey { return f.pub }

// Epoch returns the publisher's epoch number.
func (f *Filter) Epoch() uint64 { return f.epoch }

// NotBefore returns the start of the validity window, or the zero Time if
// none was set.
func (f *Filter) NotBefore() time.Time { return unixTime(f.notBefore) }

// NotAfter returns the end of the validity window, or the zero Time if
// none was set.
func (f *Filter) NotAfter() time.Time { return unixTime(f.notAfter) }

// ValidAt reports whether t is inside the validity window. An unset bound
// does not restrict.
func (f *Filter) ValidAt(t time.Time) bool {
	if f.notBefore != 0 && t.Unix() < f.notBefore {
		return false
	}
	return f.notAfter == 0 || t.Unix() <= f.notAfter
}

// Len returns n, the number of distinct entries, and of the padding seeds
// a publisher added ([Publisher.AddPadded]), which a querier cannot tell
// apart.
func (f *Filter) Len() int { return int(f.n) }

// Bits returns m, the size of the filter in bits.
func (f *Filter) Bits() int { return int(f.bf.Cap()) }

// Hashes returns k, the number of hash functions.
func (f *Filter) Hashes() int { return int(f.bf.K()) }

// SetBits returns the number of bits set to one.
func (f *Filter) SetBits() int { return int(f.setBits) }

// Size returns the length of the filter's encoding in bytes.
func (f *Filter) Size() int { return filterFixedLen(f.hdr.suite) + 8*len(f.bf.BitSet().Words()) }

// EstimatedFalsePositiveRate returns (set bits / m)^k: the probability that
// an indicator not on the list passes the filter, computed from the bits
// actually set rather than from what the publisher declares. The bit
// positions of an indicator are independent and uniform (PROTOCOL.md,
// section 1.4), so this is exact for any m and k.
func (f *Filter) EstimatedFalsePositiveRate() float64 {
	return math.Pow(float64(f.setBits)/float64(f.bf.Cap()), float64(f.bf.K()))
}

// A positioner computes the k bit positions of a tag in a filter of m
// bits: SHAKE128("fedmatch-v1 filter bits" || seed), for the tag's seed
// (see [seed]), read as k big-endian
// 64-bit integers, each reduced mod m. The positions are independent and
// uniform whatever m and k are, which the querier's density check relies
// on: with bloom's own double hashing (two base hashes, position
// h1 + i·h2 mod m) a filter of small or composite m maps many items to
// fewer than k distinct bits, and a publisher choosing m can make (set
// bits/m)^k badly underestimate the real false-positive rate. The
// reduction's bias is below m/2^64 < 2^-28 per position. One positioner
// per goroutine.
type positioner struct {
	h    *sha3.SHAKE
	buf  []byte
	locs []uint64
}

func newPositioner() *positioner { return &positioner{h: sha3.NewSHAKE128()} }

func (p *positioner) positions(t tag, m uint64, k int) []uint64 {
	return p.seedPositions(deriveSeed(t), m, k)
}

func (p *positioner) seedPositions(s seed, m uint64, k int) []uint64 {
	p.h.Reset()
	p.h.Write([]byte(labelPos))
	p.h.Write(s[:])
	p.buf = slices.Grow(p.buf[:0], 8*k)[:8*k]
	p.h.Read(p.buf)
	p.locs = p.locs[:0]
	for i := range k {
		p.locs = append(p.locs, binary.BigEndian.Uint64(p.buf[8*i:])%m)
	}
	return p.locs
}

func (f *Filter) contains(p *positioner, t tag) bool {
	return f.bf.TestLocations(p.positions(t, uint64(f.bf.Cap()), int(f.bf.K())))
}

// check is the querier's sanity check (see [ErrUnsafeFilter]): the bits set
// must be consistent with n and k, and the estimated false-positive rate
// must not exceed maxFPR.
func (f *Filter) check(maxFPR float64) error {
	m, k, n := float64(f.bf.Cap()), float64(f.bf.K()), float64(f.n)
	x := float64(f.setBits)
	if x > k*n {
		return fmt.Errorf("%w: %d bits set, more than k·n = %d·%d allow", ErrUnsafeFilter, f.setBits, f.bf.K(), f.n)
	}
	// Expected fill of an honest filter, with a generous 8σ margin.
	q := -math.Expm1(k * n * math.Log1p(-1/m))
	if limit := m*q + 8*math.Sqrt(m*q*(1-q)) + 8; x > limit {
		return fmt.Errorf("%w: %d bits set, an honest filter of %d entries sets about %.0f", ErrUnsafeFilter, f.setBits, f.n, m*q)
	}
	if fpr := f.EstimatedFalsePositiveRate(); fpr > maxFPR {
		return fmt.Errorf("%w: estimated false-positive rate %.3g above the bound %.3g", ErrUnsafeFilter, fpr, maxFPR)
	}
	return nil
}

// checkFilterParams checks a filter's declared entries n, bits m and hash
// functions k against the limits, before anything is allocated for them.
// Every decoder of a filter or of a publisher's state calls it, so that
// both refuse the same values with the same errors.
func checkFilterParams(n, m uint64, k uint8) error {
	switch {
	case m == 0:
		return malformed("filter of zero bits")
	case m > MaxFilterBits:
		return fmt.Errorf("%w: filter of %d bits, limit %d", ErrOversized, m, MaxFilterBits)
	case k == 0 || k > MaxFilterHashes:
		return malformed("filter with %d hash functions (want 1 to %d)", k, MaxFilterHashes)
	case n > MaxEntries:
		return fmt.Errorf("%w: filter of %d entries, limit %d", ErrOversized, n, uint64(MaxEntries))
	}
	return nil
}

func unixTime(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// filterFixedLen is the length of a filter encoding without its bits.
func filterFixedLen(s Suite) int {
	return msgHeaderLen + s.params().elemLen + 8*5 + 1
}

// MarshalBinary encodes the filter (PROTOCOL.md, "Filter"):
//
//	header(type 0x01) suite mode keyID[16]
//	publicKey[Ne] epoch:u64 notBefore:i64 notAfter:i64 n:u64 m:u64 k:u8
//	bits: ceil(m/64) little-endian u64 words; bit i is bit i%64 of word i/64
func (f *Filter) MarshalBinary() ([]byte, error) {
	return f.AppendBinary(make([]byte, 0, f.Size()))
}

// AppendBinary appends the encoding of [Filter.MarshalBinary] to b: a
// caller that frames the filter (package federation signs it) writes it
// in place, without a second copy.
func (f *Filter) AppendBinary(b []byte) ([]byte, error) {
	words := f.bf.BitSet().Words()
	b = slices.Grow(b, f.Size())
	b = f.hdr.append(b, f.wireType())
	b = append(b, f.pub.enc...)
	b = binary.BigEndian.AppendUint64(b, f.epoch)
	b = binary.BigEndian.AppendUint64(b, uint64(f.notBefore))
	b = binary.BigEndian.AppendUint64(b, uint64(f.notAfter))
	b = binary.BigEndian.AppendUint64(b, f.n)
	b = binary.BigEndian.AppendUint64(b, uint64(f.bf.Cap()))
	b = append(b, byte(f.bf.K()))
	for _, w := range words {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b, nil
}

// UnmarshalBinary decodes a filter encoded by [Filter.MarshalBinary]. It
// checks every length against the limits before allocating and refuses
// any encoding that would not re-encode to the same bytes. It does not
// judge whether the filter is safe to query: [NewQuerier] does.
// [ReadFilter] decodes from a stream, without holding the encoding in
// memory.
func (f *Filter) UnmarshalBinary(data []byte) error {
	s := cryptobyte.String(data)
	g, m, k, err := readFilterFixed(&s)
	if err != nil {
		return err
	}
	nw := int((m + 63) / 64)
	if len(s) < 8*nw {
		return fmt.Errorf("%w: filter of %d bits needs %d bytes, have %d", ErrTruncated, m, 8*nw, len(s))
	}
	if len(s) > 8*nw {
		return malformed("%d trailing bytes after filter", len(s)-8*nw)
	}
	words := make([]uint64, nw)
	g.setBits = decodeWords(words, s)
	if err := g.setWords(words, m, k); err != nil {
		return err
	}
	*f = g
	return nil
}

func (f *Filter) wireType() wire.Type {
	if f.count {
		return wire.TypeCountFilter
	}
	return wire.TypeFilter
}

// filterType returns the type of the filter whose encoding s starts with:
// a count filter's, or otherwise a filter's (and the header's check names
// what is wrong).
func filterType(s []byte) wire.Type {
	if len(s) >= wire.HeaderLen && wire.Type(s[wire.HeaderLen-1]) == wire.TypeCountFilter {
		return wire.TypeCountFilter
	}
	return wire.TypeFilter
}

// readFilterFixed reads a filter's fields up to its bits and checks them
// against the limits; it returns the filter without its bits, and m and k.
// It reads a filter or a count filter.
func readFilterFixed(s *cryptobyte.String) (g Filter, m uint64, k uint8, err error) {
	t := filterType(*s)
	if err := g.hdr.read(s, t); err != nil {
		return g, 0, 0, err
	}
	g.count = t == wire.TypeCountFilter
	pub, err := readPublicKey(s, g.hdr.suite)
	if err != nil {
		return g, 0, 0, err
	}
	if pub.id != g.hdr.keyID {
		return g, 0, 0, fmt.Errorf("%w: filter key id %v does not match its public key (%v)", ErrWrongKey, g.hdr.keyID, pub.id)
	}
	g.pub = pub
	var nb, na uint64
	if !s.ReadUint64(&g.epoch) || !s.ReadUint64(&nb) || !s.ReadUint64(&na) ||
		!s.ReadUint64(&g.n) || !s.ReadUint64(&m) || !s.ReadUint8(&k) {
		return g, 0, 0, fmt.Errorf("%w: filter parameters", ErrTruncated)
	}
	g.notBefore, g.notAfter = int64(nb), int64(na)
	if err := checkFilterParams(g.n, m, k); err != nil {
		return g, 0, 0, err
	}
	if g.notBefore != 0 && g.notAfter != 0 && g.notAfter < g.notBefore {
		return g, 0, 0, malformed("validity window ends before it starts")
	}
	return g, m, k, nil
}

// decodeWords decodes len(words) little-endian words from b and returns
// the number of bits set in them.
func decodeWords(words []uint64, b []byte) uint64 {
	var set uint64
	for i := range words {
		words[i] = binary.LittleEndian.Uint64(b[8*i:])
		set += uint64(bits.OnesCount64(words[i]))
	}
	return set
}

// setWords makes words, of m bits, the filter's bits, refusing bits set
// at positions >= m (the encoding would not be canonical).
func (f *Filter) setWords(words []uint64, m uint64, k uint8) error {
	if r := m % 64; r != 0 && words[len(words)-1]>>r != 0 {
		return malformed("bits set beyond m")
	}
	f.bf = bloom.FromWithM(words, uint(m), uint(k))
	return nil
}

// filterReadChunk is how many bytes of bits ReadFilter reads at a time.
const filterReadChunk = 64 << 10

// ReadFilter reads one filter, encoded as by [Filter.MarshalBinary], from
// r without holding the encoding in memory, so that accepting a filter
// costs about its size: it reads the fields before the bits (under 100
// bytes), checks them against the package limits and against the maxima
// of opts, as [NewQuerier] would (a nil opts means the defaults;
// [ErrUnsafeFilter] for a filter above them), and only then allocates the
// bits and decodes them as they arrive. It reads exactly the filter's
// bytes and never past them: what follows in r is the caller's. A stream
// that ends early is [ErrTruncated]; an error of r is returned wrapped.
// Like UnmarshalBinary it refuses non-canonical encodings and does not
// judge whether the filter is safe to query.
func ReadFilter(r io.Reader, opts *QuerierOptions) (*Filter, error) {
	lim, err := opts.limits()
	if err != nil {
		return nil, err
	}
	// The header names the suite, which fixes the length of the rest.
	fixed := make([]byte, msgHeaderLen)
	if err := readFull(r, fixed, "filter header"); err != nil {
		return nil, err
	}
	var h msgHeader
	hs := cryptobyte.String(fixed)
	if err := h.read(&hs, filterType(fixed)); err != nil {
		return nil, err
	}
	fixed = append(fixed, make([]byte, filterFixedLen(h.suite)-msgHeaderLen)...)
	if err := readFull(r, fixed[msgHeaderLen:], "filter parameters"); err != nil {
		return nil, err
	}
	s := cryptobyte.String(fixed)
	g, m, k, err := readFilterFixed(&s)
	if err != nil {
		return nil, err
	}
	nw := (m + 63) / 64
	if err := lim.check(g.n, uint64(len(fixed))+8*nw); err != nil {
		return nil, err
	}
	words := make([]uint64, nw)
	buf := make([]byte, min(filterReadChunk, 8*nw))
	for done := 0; done < len(words); {
		w := words[done:min(done+len(buf)/8, len(words))]
		if err := readFull(r, buf[:8*len(w)], "filter bits"); err != nil {
			return nil, err
		}
		g.setBits += decodeWords(w, buf)
		done += len(w)
	}
	if err := g.setWords(words, m, k); err != nil {
		return nil, err
	}
	return &g, nil
}

// readFull fills b from r; a stream that ends first is ErrTruncated.
func readFull(r io.Reader, b []byte, what string) error {
	_, err := io.ReadFull(r, b)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: %s", ErrTruncated, what)
	case err != nil:
		return fmt.Errorf("match: reading %s: %w", what, err)
	}
	return nil
}
