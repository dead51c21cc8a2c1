package match

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// ErrPadding is returned by [Publisher.AddPadded] when the entries hold
// more new indicators than the padded versions it may make hold. The
// publisher is unchanged.
var ErrPadding = errors.New("match: more new indicators than the padded versions allowed hold")

// Padding. A filter's versions show every partner that may fetch it when
// and how many indicators were added (PROTOCOL.md section 2.8). A
// publisher that wants to hide it adds at fixed times, in versions of a
// fixed size: the new indicators, then random padding seeds up to the
// size. A padding seed is 16 bytes from crypto/rand, where a real seed is
// 16 bytes of SHA-256 output, so that a partner cannot tell them apart:
// padding sets bits, counts in the version (n) and the capacity, and a
// delta lists it among the seeds. Nobody knows a tag whose seed it is, so
// it can never be confirmed, and it is not in the tag index.

// padding is how [Publisher.add] pads: versions of size insertions, at
// most maxVersions of them, padding seeds drawn from rand.
type padding struct {
	size, maxVersions int
	rand              io.Reader
}

// AddPadded adds entries as [Publisher.Add] does, in new versions that
// each grow the filter by exactly size insertions: the indicators new to
// the filter, then padding seeds (16 random bytes each) to fill the last
// version. With no new indicator (no entries, or only indicators already
// held) it makes one version of padding alone. It makes max(1, ⌈new/size⌉)
// versions, all or none: more than maxVersions is refused with
// [ErrPadding], naming the counts, so AddPadded(entries, size, 1) is one
// version or an error. Add at fixed times with a fixed size, and a
// partner following the versions sees the same whether or not anything
// was added (PROTOCOL.md section 2.8).
//
// Padding seeds count in the capacity ([PublishOptions.Padding] keeps
// room for them): a filter without room for the versions is refused with
// [ErrCapacity]. They are never confirmed and never in the tag index, and
// a delta lists them like the seeds of real indicators. size is at most
// [MaxDeltaLen]. It returns the number of indicators new to the filter.
func (p *Publisher) AddPadded(entries []Entry, size, maxVersions int) (added int, err error) {
	return p.addPadded(entries, size, maxVersions, rand.Reader)
}

// addPadded is AddPadded with the padding drawn from rnd, for known-answer
// tests.
func (p *Publisher) addPadded(entries []Entry, size, maxVersions int, rnd io.Reader) (int, error) {
	switch {
	case size < 1 || size > MaxDeltaLen:
		return 0, fmt.Errorf("match: padded version of %d insertions (want 1 to %d)", size, MaxDeltaLen)
	case maxVersions < 1:
		return 0, fmt.Errorf("match: at most %d padded versions (want at least 1)", maxVersions)
	}
	return p.add(entries, &padding{size: size, maxVersions: maxVersions, rand: rnd})
}

// addPadded makes the versions of AddPadded from the tags new to the
// filter (sorted). st.mu is held; on error nothing is changed.
func (st *pubState) addPadded(fresh []tag, pad *padding) error {
	versions := max(1, (len(fresh)+pad.size-1)/pad.size)
	if versions > pad.maxVersions {
		return fmt.Errorf("%w: %d new indicators need %d versions of %d, at most %d allowed",
			ErrPadding, len(fresh), versions, pad.size, pad.maxVersions)
	}
	f, grow := st.filter, versions*pad.size
	if int(f.n)+grow > st.capacity {
		return fmt.Errorf("%w (%d insertions held, %d padded, %d of them new indicators, capacity %d)",
			ErrCapacity, f.n, grow, len(fresh), st.capacity)
	}
	// A padding seed equal to a real one, or to another, would break the
	// state and the deltas; at 2^-128 per pair it does not happen.
	seeds := make([]seed, grow-len(fresh))
	buf := make([]byte, tagSize*len(seeds))
	if _, err := io.ReadFull(pad.rand, buf); err != nil {
		return fmt.Errorf("match: drawing padding: %w", err)
	}
	for i := range seeds {
		copy(seeds[i][:], buf[tagSize*i:])
	}
	g := f.clone()
	pos := newPositioner()
	for _, t := range fresh {
		g.addCounting(pos, deriveSeed(t))
	}
	for _, s := range seeds {
		g.addCounting(pos, s)
	}
	g.n += uint64(grow)
	// The new indicators fill the first versions, the padding the rest.
	for v := range versions {
		real := fresh[min(v*pad.size, len(fresh)):min((v+1)*pad.size, len(fresh))]
		st.added = append(st.added, real...)
		st.pad = append(st.pad, seeds[:pad.size-len(real)]...)
		seeds = seeds[pad.size-len(real):]
		st.ends = append(st.ends, len(st.added))
		st.padEnds = append(st.padEnds, len(st.pad))
	}
	st.filter = g
	return nil
}
