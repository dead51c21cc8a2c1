package match

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
)

// Changes. A publisher that changes within its epoch ([Publisher.Add],
// [Publisher.AddPadded], [Publisher.Remove]) need not be written whole
// after each change: [Publisher.MarshalChange] encodes what changed since
// a [Mark], in bytes proportional to the change, and
// [Publisher.ApplyChange] applies that encoding to a publisher restored
// at the mark. A state ([Publisher.MarshalBinary]) and the changes made
// after it, applied in order, give the publisher that made them, so a
// store can keep the state and append the changes to a journal, and
// rewrite the state only now and then. Package federation does.

// ErrStaleChange is returned by [Publisher.ApplyChange] for a change that
// does not start at the publisher's current state: one already applied,
// one after a change not yet applied, or one of another publisher.
var ErrStaleChange = errors.New("match: change does not start at the publisher's state")

// A Mark is a point in a publisher's history within its epoch: how many
// entries, added indicators, versions, padding seeds and removals it
// held. A publisher only grows from one mark to the next. The zero Mark
// is not a point of any publisher's history unless it is empty.
type Mark struct {
	entries, added, versions, pad, removed uint32
}

// changeFixedLen is the length of a change's header and mark.
const changeFixedLen = msgHeaderLen + 5*4

// Mark returns the publisher's current point in its history, from which
// [Publisher.MarshalChange] encodes the changes made after it. A
// publisher restored by [RestorePublisher] is at the mark of the
// publisher whose state it was.
func (p *Publisher) Mark() Mark {
	p.st.mu.RLock()
	defer p.st.mu.RUnlock()
	return p.st.mark()
}

func (st *pubState) mark() Mark {
	return Mark{entries: uint32(st.entries), added: uint32(len(st.added)), versions: uint32(len(st.ends)),
		pad: uint32(len(st.pad)), removed: uint32(len(st.removedOrder))}
}

// markRemoved records entry e as removed, once. st.mu is held.
func (st *pubState) markRemoved(e uint32) {
	if st.removed[e] {
		return
	}
	if st.removed == nil {
		st.removed = map[uint32]bool{}
	}
	st.removed[e] = true
	st.removedOrder = append(st.removedOrder, e)
}

// MarshalChange encodes the changes the publisher made since the mark
// since, which a [Publisher.Mark] of this publisher returned, and
// returns the mark the encoding brings a publisher to: the entries added
// with their tags, labels and references, the indicators new to the
// filter, the versions, the padding seeds and the entries removed. Its
// size follows the change, not the list: about 20 bytes per entry plus
// its label and reference, 16 per new indicator or padding seed, 8 per
// version and 4 per removal. Like the state, it holds confirm tags and
// labels: keep it as carefully as the watchlist.
//
//	header(type 0x10) suite mode keyID[16]
//	from: entries:u32 added:u32 versions:u32 padding:u32 removed:u32
//	entries:u32 × (tag[16] labelLen:u16 label refLen:u16 ref)  numbered from from.entries on
//	added:u32 × tag[16]                   the tags new to the filter, in order
//	padding:u32 × seed[16]                the padding seeds, in order
//	versions:u32 × (end:u32 padEnd:u32)   added tags and padding seeds at each new version
//	removed:u32 × entry:u32               in the order removed
func (p *Publisher) MarshalChange(since Mark) ([]byte, Mark, error) {
	st := p.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	now := st.mark()
	switch {
	case since.entries > now.entries || since.added > now.added || since.versions > now.versions ||
		since.pad > now.pad || since.removed > now.removed:
		return nil, now, errors.New("match: a mark this publisher has not reached")
	case len(st.removedOrder) != len(st.removed):
		return nil, now, errors.New("match: removals not recorded in order (an entry removed without markRemoved)")
	}
	first := int(since.entries)
	tags := make([]tag, st.entries-first)
	for _, e := range st.index {
		if int(e.entry) >= first {
			tags[int(e.entry)-first] = e.tag
		}
	}
	b := p.hdr.append(nil, wire.TypePublisherChange)
	for _, v := range []uint32{since.entries, since.added, since.versions, since.pad, since.removed} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(tags)))
	next := [2]int{st.labels.from(first), st.refs.from(first)}
	for i, t := range tags {
		b = append(b, t[:]...)
		for k, ss := range []*sparseStrings{&st.labels, &st.refs} {
			var s []byte
			if j := next[k]; j < ss.len() && int(ss.at[j]) == first+i {
				s = ss.bytes(j)
				next[k]++
			}
			b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
			b = append(b, s...)
		}
	}
	b = binary.BigEndian.AppendUint32(b, now.added-since.added)
	for _, t := range st.added[since.added:] {
		b = append(b, t[:]...)
	}
	b = binary.BigEndian.AppendUint32(b, now.pad-since.pad)
	for _, s := range st.pad[since.pad:] {
		b = append(b, s[:]...)
	}
	b = binary.BigEndian.AppendUint32(b, now.versions-since.versions)
	for i := since.versions; i < now.versions; i++ {
		b = binary.BigEndian.AppendUint32(b, uint32(st.ends[i]))
		b = binary.BigEndian.AppendUint32(b, uint32(st.padEnds[i]))
	}
	b = binary.BigEndian.AppendUint32(b, now.removed-since.removed)
	for _, e := range st.removedOrder[since.removed:] {
		b = binary.BigEndian.AppendUint32(b, e)
	}
	return b, now, nil
}

// from returns the index of the first string held for entry first or
// after.
func (ss *sparseStrings) from(first int) int {
	return sort.Search(len(ss.at), func(i int) bool { return int(ss.at[i]) >= first })
}

// A change is a decoded [Publisher.MarshalChange] encoding, checked
// against the publisher it applies to.
type change struct {
	index   []indexEntry // the new entries' tags, sorted
	labels  []string     // by new entry
	refs    []string
	added   []tag
	pad     []seed
	ends    []int
	padEnds []int
	removed []uint32
}

// ApplyChange applies a change that [Publisher.MarshalChange] encoded to
// this publisher, which must be at the mark the change starts from
// ([ErrStaleChange] otherwise): restored from the state of the publisher
// that made it ([RestorePublisher]), with the changes made before it
// applied, in order. The publisher then holds what that publisher held
// after the change, and encodes to the same state.
//
// It checks everything before it changes anything, and on error the
// publisher is unchanged: the key, every count against the bytes left
// and the limits before it allocates, the labels and references
// ([CheckLabel]), that the indicators new to the filter are exactly the
// new entries' tags that the index did not hold and fit the capacity,
// that no indicator is held by more than [MaxRepeats] entries, that the
// versions grow and end at the new totals, that no padding seed repeats
// one or is a tag's seed, and that the entries removed exist and were
// not removed before. It costs a hash per new indicator and padding seed,
// and a merge into the tag index.
func (p *Publisher) ApplyChange(data []byte) error {
	st := p.st
	st.addMu.Lock()
	defer st.addMu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	c, err := p.readChange(data)
	if err != nil {
		return err
	}
	if grow := len(c.added) + len(c.pad); grow > 0 {
		g := st.filter.clone()
		pos := newPositioner()
		for _, t := range c.added {
			g.addCounting(pos, deriveSeed(t))
		}
		for _, s := range c.pad {
			g.addCounting(pos, s)
		}
		g.n += uint64(grow)
		st.filter = g
	}
	first := st.entries
	st.index = mergeIndex(st.index, c.index)
	for i := range c.labels {
		st.labels.set(first+i, c.labels[i])
		st.refs.set(first+i, c.refs[i])
	}
	st.entries += len(c.labels)
	st.added = append(st.added, c.added...)
	st.pad = append(st.pad, c.pad...)
	st.ends = append(st.ends, c.ends...)
	st.padEnds = append(st.padEnds, c.padEnds...)
	for _, e := range c.removed {
		st.markRemoved(e)
	}
	return nil
}

// readChange decodes and checks a change against p, whose st.mu is held.
func (p *Publisher) readChange(data []byte) (*change, error) {
	st := p.st
	s := cryptobyte.String(data)
	var h msgHeader
	if err := h.read(&s, wire.TypePublisherChange); err != nil {
		return nil, err
	}
	if err := h.check(&p.hdr); err != nil {
		return nil, err
	}
	var from Mark
	for _, v := range []*uint32{&from.entries, &from.added, &from.versions, &from.pad, &from.removed} {
		if !s.ReadUint32(v) {
			return nil, fmt.Errorf("%w: publisher change mark", ErrTruncated)
		}
	}
	if from != st.mark() {
		return nil, ErrStaleChange
	}
	c := &change{}
	count, err := readCount(&s, "new entries", MaxEntries-st.entries)
	if err != nil {
		return nil, err
	}
	if len(s) < count*(tagSize+4) { // each takes at least 20 bytes
		return nil, fmt.Errorf("%w: %d new entries", ErrTruncated, count)
	}
	c.index = make([]indexEntry, count)
	c.labels, c.refs = make([]string, count), make([]string, count)
	for i := range count {
		n := st.entries + i
		c.index[i].entry = uint32(n)
		s.CopyBytes(c.index[i].tag[:])
		for _, out := range []*string{&c.labels[i], &c.refs[i]} {
			var v cryptobyte.String
			if !s.ReadUint16LengthPrefixed(&v) {
				return nil, fmt.Errorf("%w: label or reference of entry %d", ErrTruncated, n)
			}
			if len(v) > MaxLabelLen || !utf8.Valid(v) || labelControl(v) >= 0 {
				return nil, fmt.Errorf("%w: entry %d: %w", ErrMalformed, n, ErrInvalidLabel)
			}
			*out = string(v)
		}
	}
	slices.SortFunc(c.index, compareIndex)
	// The indicators new to the filter are the new entries' tags that the
	// index does not hold: count them, and the entries holding each tag.
	fresh := map[tag]bool{}
	for i := 0; i < len(c.index); {
		j := i + 1
		for j < len(c.index) && c.index[j].tag == c.index[i].tag {
			j++
		}
		held := 0
		if lo, found := st.find(c.index[i].tag); found {
			held = endOfTag(st.index, lo) - lo
		} else {
			fresh[c.index[i].tag] = false // not yet among the added
		}
		if held+j-i > MaxRepeats {
			return nil, malformed("entry %d: more than %d entries hold one indicator", c.index[i].entry, MaxRepeats)
		}
		i = j
	}
	room := st.capacity - int(st.filter.n)
	if count, err = readCount(&s, "added indicators", min(len(fresh), room)); err != nil {
		return nil, err
	}
	if len(s) < count*tagSize {
		return nil, fmt.Errorf("%w: %d added indicators", ErrTruncated, count)
	}
	c.added = make([]tag, count)
	for i := range c.added {
		s.CopyBytes(c.added[i][:])
		if done, ok := fresh[c.added[i]]; !ok || done {
			return nil, malformed("added indicator %d not a new entry's, held before, or repeated", i)
		}
		fresh[c.added[i]] = true
	}
	if count != len(fresh) {
		return nil, malformed("%d indicators new to the index, %d added to the filter", len(fresh), count)
	}
	if count, err = readCount(&s, "padding seeds", room-len(c.added)); err != nil {
		return nil, err
	}
	if len(s) < count*tagSize {
		return nil, fmt.Errorf("%w: %d padding seeds", ErrTruncated, count)
	}
	c.pad = make([]seed, count)
	for i := range c.pad {
		s.CopyBytes(c.pad[i][:])
	}
	if err := checkNewSeeds(st, c); err != nil {
		return nil, err
	}
	if err := readChangeVersions(&s, st, c); err != nil {
		return nil, err
	}
	entries := st.entries + len(c.labels)
	if count, err = readCount(&s, "removed entries", entries); err != nil {
		return nil, err
	}
	if len(s) < 4*count {
		return nil, fmt.Errorf("%w: %d removed entries", ErrTruncated, count)
	}
	c.removed = make([]uint32, count)
	seen := map[uint32]bool{}
	for i := range c.removed {
		s.ReadUint32(&c.removed[i])
		e := c.removed[i]
		if int(e) >= entries || st.removed[e] || seen[e] {
			return nil, malformed("removal %d: entry %d beyond %d entries, or removed before", i, e, entries)
		}
		seen[e] = true
	}
	if err := checkEmpty(s, "publisher change"); err != nil {
		return nil, err
	}
	return c, nil
}

// readChangeVersions reads the new versions of change c to st: each adds
// something, neither count goes back, and the last ends at the new
// totals.
func readChangeVersions(s *cryptobyte.String, st *pubState, c *change) error {
	count, err := readCount(s, "versions", len(c.added)+len(c.pad))
	if err != nil {
		return err
	}
	if len(*s) < 8*count {
		return fmt.Errorf("%w: %d versions", ErrTruncated, count)
	}
	end, padEnd := 0, 0 // the last version's
	if v := len(st.ends); v > 0 {
		end, padEnd = st.ends[v-1], st.padEnds[v-1]
	}
	totalEnd, totalPad := len(st.added)+len(c.added), len(st.pad)+len(c.pad)
	c.ends, c.padEnds = make([]int, count), make([]int, count)
	for i := range count {
		var e, pe uint32
		s.ReadUint32(&e)
		s.ReadUint32(&pe)
		if int(e) < end || int(pe) < padEnd || int(e)+int(pe) == end+padEnd || int(e) > totalEnd || int(pe) > totalPad {
			return malformed("new version %d adds nothing, goes back, or goes beyond the change", i+1)
		}
		end, padEnd = int(e), int(pe)
		c.ends[i], c.padEnds[i] = end, padEnd
	}
	if end != totalEnd || padEnd != totalPad {
		return malformed("versions do not end at the %d added indicators and %d padding seeds", totalEnd, totalPad)
	}
	return nil
}

// checkNewSeeds refuses a change whose padding seeds repeat one another,
// a padding seed held before or the seed of a tag, new or held before: a
// delta would list it twice, and the state would not restore. A seed the
// filter does not hold is none held before, so the index is hashed only
// if one of them is in the filter (a false positive, 1 in 10^9 at the
// default rate).
func checkNewSeeds(st *pubState, c *change) error {
	seeds := make(map[seed]bool, len(c.added)+len(c.pad))
	for _, t := range c.added {
		seeds[deriveSeed(t)] = true
	}
	for i, s := range c.pad {
		if seeds[s] {
			return malformed("padding seed %d repeats a new seed", i)
		}
		seeds[s] = true
	}
	f, pos := st.filter, newPositioner()
	m, k := uint64(f.bf.Cap()), int(f.bf.K())
	suspect := false
	for s := range seeds {
		if f.bf.TestLocations(pos.seedPositions(s, m, k)) {
			suspect = true
			break
		}
	}
	if !suspect {
		return nil
	}
	for i := 0; i < len(st.index); i = endOfTag(st.index, i) {
		if seeds[deriveSeed(st.index[i].tag)] {
			return malformed("a new seed is the seed of a tag held before")
		}
	}
	for _, s := range st.pad {
		if seeds[s] {
			return malformed("a new seed is a padding seed held before")
		}
	}
	return nil
}
