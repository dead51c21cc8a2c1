package match

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// MaxWatchLen is the largest number of indicators a decoded [Watch] may
// keep: 2^24.
const MaxWatchLen = 1 << 24

// MarshalBinary encodes the watch, so that a querier keeps across a
// restart what it paid for: its filter version and the outputs of its
// indicators. It holds the querier's indicators and their tags under the
// publisher's key: keep it as carefully as the watchlist itself. It is not
// sent to partners.
//
//	header(type 0x0D) suite mode keyID[16]
//	filterLen:u64 filter                 the filter (2.1), at its version
//	tested:u64 noes:u64                  the misbehaviour check's counts
//	count:u32 × (kindLen:u8 kind valueLen:u16 value tag[16] answer:u8 flags:u8)
//	                                     answer: 0x00 no, 0x01 hit, 0x03
//	                                     withdrawn, 0xff none yet; flags: bit 0
//	                                     candidate, bit 1 exact (from a delta)
func (w *Watch) MarshalBinary() ([]byte, error) {
	b := w.f.hdr.append(nil, wire.TypeWatch)
	b = binary.BigEndian.AppendUint64(b, uint64(w.f.Size()))
	b, err := w.f.AppendBinary(b)
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint64(b, uint64(w.tested))
	b = binary.BigEndian.AppendUint64(b, uint64(w.noes))
	b = binary.BigEndian.AppendUint32(b, uint32(len(w.inds)))
	for i, ind := range w.inds {
		name, v := ind.Kind().Name(), ind.Value()
		b = append(b, byte(len(name)))
		b = append(b, name...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
		b = append(b, w.tags[i][:]...)
		var flags byte
		if w.candidate[i] {
			flags |= 1
		}
		if w.exact[i] {
			flags |= 2
		}
		b = append(b, w.answer[i], flags)
	}
	return b, nil
}

// UnmarshalWatch decodes a watch encoded by [Watch.MarshalBinary] and
// checks its filter as [NewQuerier] does with opts (nil: the defaults).
// It checks every count and length before allocating, that every
// indicator is canonical for its kind (a kind registered under its name)
// and kept once, and refuses anything that would not re-encode to the same
// bytes.
func UnmarshalWatch(data []byte, opts *QuerierOptions) (*Watch, error) {
	s := cryptobyte.String(data)
	var h msgHeader
	if err := h.read(&s, wire.TypeWatch); err != nil {
		return nil, err
	}
	var flen uint64
	if !s.ReadUint64(&flen) {
		return nil, fmt.Errorf("%w: watch filter length", ErrTruncated)
	}
	if flen > uint64(len(s)) {
		return nil, fmt.Errorf("%w: watch filter of %d bytes, have %d", ErrTruncated, flen, len(s))
	}
	var fb []byte
	s.ReadBytes(&fb, int(flen))
	var f Filter
	if err := f.UnmarshalBinary(fb); err != nil {
		return nil, err
	}
	if err := f.hdr.check(&h); err != nil {
		return nil, err
	}
	q, err := NewQuerier(&f, opts)
	if err != nil {
		return nil, err
	}
	w := NewWatch(q)
	var tested, noes uint64
	if !s.ReadUint64(&tested) || !s.ReadUint64(&noes) {
		return nil, fmt.Errorf("%w: watch counts", ErrTruncated)
	}
	if tested > 1<<40 || noes > tested {
		return nil, malformed("watch counts %d tested, %d answered no", tested, noes)
	}
	w.tested, w.noes = int(tested), int(noes)
	count, err := readCount(&s, "watched indicators", MaxWatchLen)
	if err != nil {
		return nil, err
	}
	if len(s) < count*(1+1+2+1+tagSize+2) { // each takes at least this
		return nil, fmt.Errorf("%w: %d watched indicators", ErrTruncated, count)
	}
	w.inds, w.tags = make([]indicator.Indicator, 0, count), make([]tag, 0, count)
	w.answer, w.candidate, w.exact = make([]uint8, 0, count), make([]bool, 0, count), make([]bool, 0, count)
	for i := range count {
		var name, value cryptobyte.String
		var t tag
		var answer, flags uint8
		if !s.ReadUint8LengthPrefixed(&name) || !s.ReadUint16LengthPrefixed(&value) || !s.CopyBytes(t[:]) ||
			!s.ReadUint8(&answer) || !s.ReadUint8(&flags) {
			return nil, fmt.Errorf("%w: watched indicator %d", ErrTruncated, i)
		}
		k, err := indicator.Lookup(string(name))
		if err != nil || k.Name() != string(name) {
			return nil, malformed("watched indicator %d: no kind named %q", i, name)
		}
		ind, err := indicator.New(k, string(value))
		if err != nil || ind.Value() != string(value) {
			return nil, malformed("watched indicator %d of kind %s: not a canonical value", i, name)
		}
		if _, dup := w.byInd[ind]; dup {
			return nil, malformed("watched indicator %d kept twice", i)
		}
		switch {
		case answer != answerNo && answer != answerLabel && answer != answerWithdrawn && answer != answerNone:
			return nil, malformed("watched indicator %d with answer 0x%02x", i, answer)
		case flags > 3 || flags == 2: // exact only for a candidate
			return nil, malformed("watched indicator %d with flags 0x%02x", i, flags)
		}
		w.byInd[ind], w.bySeed[deriveSeed(t)] = len(w.inds), len(w.inds)
		w.inds, w.tags = append(w.inds, ind), append(w.tags, t)
		w.answer = append(w.answer, answer)
		w.candidate, w.exact = append(w.candidate, flags&1 != 0), append(w.exact, flags&2 != 0)
		if flags&1 != 0 {
			w.cands++
		}
	}
	if err := checkEmpty(s, "watch"); err != nil {
		return nil, err
	}
	return w, nil
}
