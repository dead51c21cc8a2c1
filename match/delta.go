package match

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
)

// A Delta is the change of a publisher's filter from one version to a
// later one of the same key and epoch ([Publisher.Delta]): the filter
// seeds of the indicators added in between, sorted. A querier that holds
// the filter at the older version applies it ([Filter.Apply]) instead of
// downloading the whole filter again: 16 bytes per added indicator,
// against the whole filter's 5 to 6 bytes per indicator held.
//
// The seeds are what the filter's bits are computed from (PROTOCOL.md
// section 1.4), so a delta tells a querier nothing the new filter would
// not: without the publisher's key a seed reveals nothing about its
// indicator, and a querier tests its own indicators' seeds against the
// delta as it would against the bits, only without the filter's false
// positives. A seed is a one-way hash of the indicator's confirm tag, so
// a delta does not let anyone confirm an indicator it does not hold.
type Delta struct {
	hdr   msgHeader
	epoch uint64
	from  uint64 // the version it applies to
	m     uint64
	k     uint8
	seeds []seed // strictly increasing
}

// From returns the version the delta applies to.
func (d *Delta) From() uint64 { return d.from }

// To returns the version the delta makes.
func (d *Delta) To() uint64 { return d.from + uint64(len(d.seeds)) }

// Len returns the number of indicators the delta adds.
func (d *Delta) Len() int { return len(d.seeds) }

// KeyID returns the id of the publisher key of the filter it changes.
func (d *Delta) KeyID() KeyID { return d.hdr.keyID }

// Epoch returns the epoch of the filter it changes.
func (d *Delta) Epoch() uint64 { return d.epoch }

// deltaFixedLen is the length of a delta's encoding without its seeds.
const deltaFixedLen = msgHeaderLen + 8 + 8 + 8 + 8 + 1

// Size returns the length of the delta's encoding.
func (d *Delta) Size() int { return deltaFixedLen + tagSize*len(d.seeds) }

// MarshalBinary encodes the delta (PROTOCOL.md section 2.8):
//
//	header(type 0x0B) suite mode keyID[16]
//	epoch:u64 from:u64 to:u64 m:u64 k:u8
//	(to - from) × seed[16]         strictly increasing
func (d *Delta) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, d.Size())
	b = d.hdr.append(b, wire.TypeFilterDelta)
	b = binary.BigEndian.AppendUint64(b, d.epoch)
	b = binary.BigEndian.AppendUint64(b, d.from)
	b = binary.BigEndian.AppendUint64(b, d.To())
	b = binary.BigEndian.AppendUint64(b, d.m)
	b = append(b, d.k)
	for _, sd := range d.seeds {
		b = append(b, sd[:]...)
	}
	return b, nil
}

// MaxDeltaLen is the largest number of indicators a delta may add:
// [MaxBatch]. A publisher whose list grew by more since the querier's
// version sends the whole filter.
const MaxDeltaLen = MaxBatch

// UnmarshalBinary decodes a delta encoded by [Delta.MarshalBinary]. It
// checks the counts against the limits before allocating, and refuses
// seeds out of order or repeated and any encoding that would not re-encode
// to the same bytes. It does not check that the delta fits a filter:
// [Filter.Apply] does.
func (d *Delta) UnmarshalBinary(data []byte) error {
	s := cryptobyte.String(data)
	var g Delta
	if err := g.hdr.read(&s, wire.TypeFilterDelta); err != nil {
		return err
	}
	var to uint64
	if !s.ReadUint64(&g.epoch) || !s.ReadUint64(&g.from) || !s.ReadUint64(&to) || !s.ReadUint64(&g.m) || !s.ReadUint8(&g.k) {
		return fmt.Errorf("%w: delta parameters", ErrTruncated)
	}
	if err := checkFilterParams(to, g.m, g.k); err != nil {
		return err
	}
	switch {
	case to <= g.from:
		return malformed("delta from version %d to %d", g.from, to)
	case to-g.from > MaxDeltaLen:
		return fmt.Errorf("%w: delta of %d indicators, limit %d", ErrOversized, to-g.from, MaxDeltaLen)
	}
	n := int(to - g.from)
	if len(s) != n*tagSize {
		if len(s) < n*tagSize {
			return fmt.Errorf("%w: delta of %d indicators needs %d bytes of seeds, have %d", ErrTruncated, n, n*tagSize, len(s))
		}
		return malformed("%d trailing bytes after delta", len(s)-n*tagSize)
	}
	g.seeds = make([]seed, n)
	for i := range g.seeds {
		s.CopyBytes(g.seeds[i][:])
		if i > 0 && compareSeeds(g.seeds[i-1], g.seeds[i]) >= 0 {
			return malformed("delta seed %d not above seed %d", i, i-1)
		}
	}
	*d = g
	return nil
}

// Apply returns the filter's next version: f with the delta's indicators
// added. f is not changed. It refuses, with an error wrapping ErrWrongKey,
// ErrMalformed or ErrUnsafeFilter, a delta of another key, suite, mode,
// epoch or filter size, or one that does not start at f's version (an
// older delta, replayed, or one from a version f skipped), and checks the
// new version as [NewQuerier] checks a filter, against the maxima of opts
// (nil means the defaults): a delta cannot take a filter where a whole
// filter could not go. A rollback is impossible: a delta only adds.
func (f *Filter) Apply(d *Delta, opts *QuerierOptions) (*Filter, error) {
	if err := d.hdr.check(&f.hdr); err != nil {
		return nil, err
	}
	switch {
	case f.count:
		return nil, malformed("a delta applies to a filter, not to a count filter")
	case d.epoch != f.epoch:
		return nil, malformed("delta of epoch %d for a filter of epoch %d", d.epoch, f.epoch)
	case d.m != uint64(f.bf.Cap()) || uint(d.k) != f.bf.K():
		return nil, malformed("delta for a filter of %d bits and %d hashes, this one has %d and %d", d.m, d.k, f.bf.Cap(), f.bf.K())
	case d.from != f.n:
		return nil, fmt.Errorf("%w: delta from version %d, the filter is at version %d", ErrStaleDelta, d.from, f.n)
	}
	maxFPR, lim, err := opts.filterChecks()
	if err != nil {
		return nil, err
	}
	g := f.clone()
	pos := newPositioner()
	for _, sd := range d.seeds {
		g.addCounting(pos, sd)
	}
	g.n = d.To()
	if err := lim.check(g.n, uint64(g.Size())); err != nil {
		return nil, err
	}
	if err := g.check(maxFPR); err != nil {
		return nil, err
	}
	return g, nil
}
