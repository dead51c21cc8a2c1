package match

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
)

// MarshalBinary encodes the publisher's state without its key: the filter's
// parameters, the tag index, and the labels and references, so that a
// publisher can be restored after a restart with [RestorePublisher]
// instead of evaluating its watchlist again. Package federation does this
// for its nodes; other users need it only to keep a publisher on disk
// themselves. The encoding holds the
// confirm tags and labels: keep it as carefully as the watchlist itself.
//
//	header(type 0x08) suite mode keyID[16]
//	entries:u64 epoch:u64 notBefore:i64 notAfter:i64 m:u64 k:u8
//	n:u32 n × (tag[16] entry:u32)        sorted by tag and entry, a tag
//	                                      at most MaxRepeats times
//	labels:u32 × (entry:u32 len:u16 label)  entries increasing, len ≥ 1
//	refs:u32   × (entry:u32 len:u16 ref)
//
// For a publisher with room for additions, added indicators or removed
// entries (and only then), the type is 0x0C and the fields are followed by
//
//	capacity:u64                          ≥ the distinct indicators held
//	added:u32 × tag[16]                   the tags added by Add, in order
//	versions:u32 × end:u32                added tags at each version: increasing, the last = added
//	removed:u32 × entry:u32               increasing
//
// For a publisher with padding ([Publisher.AddPadded]), and only then, the
// type is 0x0F, a version may add no tag (its end repeats the previous
// one's), and the fields are followed by
//
//	padding:u32 × seed[16]                the padding seeds, in order; ≥ 1,
//	                                      each once, none a tag's seed
//	versions × padEnd:u32                 padding seeds at each version:
//	                                      not decreasing, the last = padding;
//	                                      end + padEnd increasing
func (p *Publisher) MarshalBinary() ([]byte, error) {
	p.st.mu.RLock()
	defer p.st.mu.RUnlock()
	f := p.st.filter
	st := p.st
	versioned := st.capacity != int(f.n) || len(st.added) > 0 || len(st.removed) > 0 || len(st.pad) > 0
	typ := wire.TypePublisherState
	switch {
	case len(st.pad) > 0:
		typ = wire.TypePublisherStatePadded
	case versioned:
		typ = wire.TypePublisherStateV
	}
	b := p.hdr.append(nil, typ)
	b = binary.BigEndian.AppendUint64(b, uint64(p.st.entries))
	b = binary.BigEndian.AppendUint64(b, f.epoch)
	b = binary.BigEndian.AppendUint64(b, uint64(f.notBefore))
	b = binary.BigEndian.AppendUint64(b, uint64(f.notAfter))
	b = binary.BigEndian.AppendUint64(b, uint64(f.bf.Cap()))
	b = append(b, byte(f.bf.K()))
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.st.index)))
	for _, e := range p.st.index {
		b = append(b, e.tag[:]...)
		b = binary.BigEndian.AppendUint32(b, e.entry)
	}
	for _, ss := range []*sparseStrings{&p.st.labels, &p.st.refs} {
		b = binary.BigEndian.AppendUint32(b, uint32(ss.len()))
		for j := range ss.len() {
			s := ss.bytes(j)
			b = binary.BigEndian.AppendUint32(b, ss.at[j])
			b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
			b = append(b, s...)
		}
	}
	if !versioned {
		return b, nil
	}
	b = binary.BigEndian.AppendUint64(b, uint64(st.capacity))
	b = binary.BigEndian.AppendUint32(b, uint32(len(st.added)))
	for _, t := range st.added {
		b = append(b, t[:]...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(st.ends)))
	for _, e := range st.ends {
		b = binary.BigEndian.AppendUint32(b, uint32(e))
	}
	removed := slices.Sorted(maps.Keys(st.removed))
	b = binary.BigEndian.AppendUint32(b, uint32(len(removed)))
	for _, e := range removed {
		b = binary.BigEndian.AppendUint32(b, e)
	}
	if len(st.pad) == 0 {
		return b, nil
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(st.pad)))
	for _, sd := range st.pad {
		b = append(b, sd[:]...)
	}
	for _, e := range st.padEnds {
		b = binary.BigEndian.AppendUint32(b, uint32(e))
	}
	return b, nil
}

// readVersions reads the trailer of a publisher state (see
// [Publisher.MarshalBinary]) into p, whose index is read and holds n
// distinct tags; padded says the state is of type 0x0F.
func readVersions(s *cryptobyte.String, p *Publisher, n int, padded bool) error {
	st := p.st
	var capacity uint64
	if !s.ReadUint64(&capacity) {
		return fmt.Errorf("%w: publisher state capacity", ErrTruncated)
	}
	if capacity < uint64(n) || capacity > MaxEntries {
		return malformed("capacity %d for %d indicators", capacity, n)
	}
	st.capacity = int(capacity)
	count, err := readCount(s, "added indicators", n)
	if err != nil {
		return err
	}
	if len(*s) < count*tagSize {
		return fmt.Errorf("%w: %d added indicators", ErrTruncated, count)
	}
	st.added = make([]tag, count)
	seen := make(map[tag]bool, count)
	for i := range st.added {
		s.CopyBytes(st.added[i][:])
		if _, ok := st.find(st.added[i]); !ok || seen[st.added[i]] {
			return malformed("added indicator %d not in the index, or repeated", i)
		}
		seen[st.added[i]] = true
	}
	// Each version adds a tag, or, in a state with padding, a tag or a
	// padding seed (checked with the padding).
	limit := count
	if padded {
		limit += st.capacity - n // at most the padding's room more
	}
	versions, err := readCount(s, "versions", limit)
	if err != nil {
		return err
	}
	if len(*s) < 4*versions {
		return fmt.Errorf("%w: %d versions", ErrTruncated, versions)
	}
	st.ends = make([]int, versions)
	for i := range st.ends {
		var e uint32
		s.ReadUint32(&e)
		prev := 0
		if i > 0 {
			prev = st.ends[i-1]
		}
		if int(e) < prev || int(e) > count || !padded && int(e) == prev {
			return malformed("version %d ends at %d, not after the previous", i+1, e)
		}
		st.ends[i] = int(e)
	}
	if versions > 0 && st.ends[versions-1] != count || versions == 0 && (count > 0 || padded) {
		return malformed("versions do not end at the %d added indicators", count)
	}
	removed, err := readCount(s, "removed entries", st.entries)
	if err != nil {
		return err
	}
	if len(*s) < 4*removed {
		return fmt.Errorf("%w: %d removed entries", ErrTruncated, removed)
	}
	last := -1
	for range removed {
		var e uint32
		s.ReadUint32(&e)
		if int(e) <= last || int(e) >= st.entries {
			return malformed("removed entry %d out of order or beyond %d entries", e, st.entries)
		}
		last = int(e)
		st.markRemoved(e)
	}
	if padded {
		return readPadding(s, st, n)
	}
	st.padEnds = make([]int, versions)
	if st.capacity == n && count == 0 && removed == 0 {
		return malformed("publisher state of type 0x0C with nothing in its trailer") // it has one encoding: 0x08
	}
	return nil
}

// readPadding reads the padding of a publisher state of type 0x0F into
// st, whose versions are read, for an index of n distinct tags. It
// refuses a padding seed held twice; [filterOf] refuses one that is a
// tag's seed.
func readPadding(s *cryptobyte.String, st *pubState, n int) error {
	count, err := readCount(s, "padding seeds", st.capacity-n)
	if err != nil {
		return err
	}
	if count == 0 {
		return malformed("publisher state of type 0x0F without padding") // it has one encoding: 0x0C
	}
	if len(*s) < count*tagSize+4*len(st.ends) {
		return fmt.Errorf("%w: %d padding seeds", ErrTruncated, count)
	}
	st.pad = make([]seed, count)
	seen := make(map[seed]bool, count)
	for i := range st.pad {
		s.CopyBytes(st.pad[i][:])
		if seen[st.pad[i]] {
			return malformed("padding seed %d repeated", i)
		}
		seen[st.pad[i]] = true
	}
	st.padEnds = make([]int, len(st.ends))
	for i := range st.padEnds {
		var e uint32
		s.ReadUint32(&e)
		st.padEnds[i] = int(e)
		switch {
		case int(e) > count || i > 0 && int(e) < st.padEnds[i-1]:
			return malformed("version %d ends its padding at %d, before the previous or beyond %d", i+1, e, count)
		case i == 0 && st.ends[0]+int(e) == 0, i > 0 && st.ends[i]+int(e) == st.ends[i-1]+st.padEnds[i-1]:
			return malformed("version %d adds nothing", i+1)
		}
	}
	if st.padEnds[len(st.padEnds)-1] != count {
		return malformed("versions do not end at the %d padding seeds", count)
	}
	return nil
}

// RestorePublisher rebuilds a Publisher from [Publisher.MarshalBinary]'s
// encoding and the key it was built with, as [Publish] would have built
// it with opts. The filter's size, epoch and validity window come from
// the state; of opts it reads Mode, and refuses a state of another mode
// (ErrWrongMode: one key never serves two modes), and Workers. It checks
// every length against the limits before allocating, the key, the order
// of the index and the labels, and rebuilds the filter from the index
// (so a filter can never disagree with its index).
func RestorePublisher(key *PrivateKey, data []byte, opts *PublishOptions) (*Publisher, error) {
	if opts == nil {
		opts = &PublishOptions{}
	}
	if key == nil || key.k == nil || key.pub == nil {
		return nil, fmt.Errorf("%w: nil or zero key", ErrInvalidKey)
	}
	s := cryptobyte.String(data)
	var h msgHeader
	typ, err := readStateHeader(&s, &h)
	if err != nil {
		return nil, err
	}
	if err := h.check(&msgHeader{suite: key.suite, mode: opts.Mode, keyID: key.KeyID()}); err != nil {
		return nil, err
	}
	var entries, epoch, nb, na, m uint64
	var k uint8
	if !s.ReadUint64(&entries) || !s.ReadUint64(&epoch) || !s.ReadUint64(&nb) || !s.ReadUint64(&na) ||
		!s.ReadUint64(&m) || !s.ReadUint8(&k) {
		return nil, fmt.Errorf("%w: publisher state parameters", ErrTruncated)
	}
	if err := checkFilterParams(entries, m, k); err != nil {
		return nil, err
	}
	n, err := readCount(&s, "index entries", int(min(entries, MaxEntries)))
	if err != nil {
		return nil, err
	}
	if len(s) < n*(tagSize+4) {
		return nil, fmt.Errorf("%w: %d index entries", ErrTruncated, n)
	}
	idx := make([]indexEntry, n)
	run := 0 // entries of idx[i]'s tag up to i
	for i := range idx {
		s.CopyBytes(idx[i].tag[:])
		s.ReadUint32(&idx[i].entry)
		if uint64(idx[i].entry) >= entries {
			return nil, malformed("index entry %d names entry %d of %d", i, idx[i].entry, entries)
		}
		if i > 0 && compareIndex(idx[i-1], idx[i]) >= 0 {
			return nil, malformed("index not sorted at %d", i)
		}
		if i == 0 || idx[i-1].tag != idx[i].tag {
			run = 0
		}
		if run++; run > MaxRepeats {
			return nil, malformed("index entry %d: more than %d entries hold one indicator", i, MaxRepeats)
		}
	}
	p := &Publisher{key: key, hdr: h, workers: defaultWorkers(opts.Workers), st: &pubState{index: idx, entries: int(entries)}}
	if err := p.setCountKey(); err != nil {
		return nil, err
	}
	for _, ss := range []*sparseStrings{&p.st.labels, &p.st.refs} {
		if err := readStrings(&s, ss, entries); err != nil {
			return nil, err
		}
	}
	distinct := distinctTags(idx)
	p.st.capacity = distinct
	if typ != wire.TypePublisherState {
		if err := readVersions(&s, p, distinct, typ == wire.TypePublisherStatePadded); err != nil {
			return nil, err
		}
	}
	if err := checkEmpty(s, "publisher state"); err != nil {
		return nil, err
	}
	// The filter is rebuilt last, once everything else is checked: it
	// costs a hash per indicator.
	f, err := filterOf(idx, p.st.pad, uint(m), uint(k))
	if err != nil {
		return nil, err
	}
	f.hdr, f.pub, f.epoch, f.notBefore, f.notAfter = h, key.pub, epoch, int64(nb), int64(na)
	p.st.filter = f
	return p, nil
}

// readStateHeader reads the header of a publisher state, of type 0x08,
// 0x0C or 0x0F, into h and returns the type.
func readStateHeader(s *cryptobyte.String, h *msgHeader) (wire.Type, error) {
	t := wire.TypePublisherState // the type the errors name, unless another is given
	if len(*s) >= wire.HeaderLen {
		switch v := wire.Type((*s)[wire.HeaderLen-1]); v {
		case wire.TypePublisherStateV, wire.TypePublisherStatePadded:
			t = v
		}
	}
	return t, h.read(s, t)
}

func readStrings(s *cryptobyte.String, ss *sparseStrings, entries uint64) error {
	count, err := readCount(s, "labels or references", int(min(entries, MaxEntries)))
	if err != nil {
		return err
	}
	if len(*s) < count*7 { // each takes at least 7 bytes
		return fmt.Errorf("%w: %d labels or references", ErrTruncated, count)
	}
	last := -1
	ss.at, ss.span = make([]uint32, 0, count), make([]uint64, 0, count)
	for range count {
		var e uint32
		var v cryptobyte.String
		if !s.ReadUint32(&e) || !s.ReadUint16LengthPrefixed(&v) {
			return fmt.Errorf("%w: label or reference", ErrTruncated)
		}
		switch {
		case uint64(e) >= entries || int(e) <= last:
			return malformed("label or reference of entry %d out of order", e)
		case len(v) == 0 || len(v) > MaxLabelLen || !utf8.Valid(v):
			return malformed("label or reference of entry %d: empty, too long or not UTF-8", e)
		case labelControl(v) >= 0: // Publish refuses them (CheckLabel)
			return fmt.Errorf("%w: entry %d: %w", ErrMalformed, e, ErrInvalidLabel)
		}
		last = int(e)
		ss.set(int(e), string(v))
	}
	return nil
}
