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
//	count:u32 × (kindLen:u8 kind valueLen:u16 value tag[16] state:u8)
//	                                     state: 0 untested or negative,
//	                                     1 candidate, 2 answered
func (w *Watch) MarshalBinary() ([]byte, error) {
	b := w.f.hdr.append(nil, wire.TypeWatch)
	b = binary.BigEndian.AppendUint64(b, uint64(w.f.Size()))
	b, err := w.f.AppendBinary(b)
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(w.inds)))
	for i, ind := range w.inds {
		name, v := ind.Kind().Name(), ind.Value()
		b = append(b, byte(len(name)))
		b = append(b, name...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
		b = append(b, w.tags[i][:]...)
		var st byte
		switch {
		case w.answered[i]:
			st = 2
		case w.candidate[i]:
			st = 1
		}
		b = append(b, st)
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
	count, err := readCount(&s, "watched indicators", MaxWatchLen)
	if err != nil {
		return nil, err
	}
	if len(s) < count*(1+1+2+1+tagSize+1) { // each takes at least this
		return nil, fmt.Errorf("%w: %d watched indicators", ErrTruncated, count)
	}
	w.inds, w.tags = make([]indicator.Indicator, 0, count), make([]tag, 0, count)
	w.answered, w.candidate = make([]bool, 0, count), make([]bool, 0, count)
	for i := range count {
		var name, value cryptobyte.String
		var t tag
		var st uint8
		if !s.ReadUint8LengthPrefixed(&name) || !s.ReadUint16LengthPrefixed(&value) || !s.CopyBytes(t[:]) || !s.ReadUint8(&st) {
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
		if st > 2 {
			return nil, malformed("watched indicator %d in state %d", i, st)
		}
		w.byInd[ind], w.byTag[t] = len(w.inds), len(w.inds)
		w.inds, w.tags = append(w.inds, ind), append(w.tags, t)
		w.answered, w.candidate = append(w.answered, st == 2), append(w.candidate, st == 1)
		if st == 1 {
			w.cands++
		}
	}
	if err := checkEmpty(s, "watch"); err != nil {
		return nil, err
	}
	return w, nil
}
