package match

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/bits-and-blooms/bloom/v3"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// ErrCapacity is returned by [Publisher.Add] when the additions would take
// the filter beyond the number of distinct indicators it was sized for
// ([PublishOptions.Capacity]), and so above its false-positive rate. The
// publisher is unchanged: publish a new filter, with more room, or rotate
// the key.
var ErrCapacity = errors.New("match: filter at capacity: publish a new filter with a larger capacity, or rotate the key")

// ErrNoDelta is returned by [Publisher.Delta] for a version the publisher
// did not publish, or that is not older than its current one: send the
// whole filter instead.
var ErrNoDelta = errors.New("match: no delta from that version")

// ErrWithdrawn is returned by [Publisher.Add] for an indicator whose
// entries were all removed in the current epoch: queriers holding it were
// answered "withdrawn", and no new version of the filter could tell them
// it is listed again. List it again from the next epoch.
var ErrWithdrawn = errors.New("match: indicator withdrawn in this epoch")

// ErrNotListed is returned by [Publisher.RemoveEntries] for an entry to
// remove that the current list does not hold: no entry with its
// indicator, label and reference, or fewer such entries than given, or
// only entries removed already. Nothing is removed.
var ErrNotListed = errors.New("match: entry to remove is not listed")

// Versions. A filter's version within its epoch is its number of distinct
// indicators and padding seeds, [Filter.Len]: additions only ever add
// indicators or padding to the filter (a removal changes only the answers
// to confirmations), so the number grows with every version and names it.
// A querier holding a filter of n insertions asks for the delta from n.

// Version returns the filter's version within its key's epoch: the number
// of distinct indicators (and padding seeds) it holds, which every new
// version increases.
func (f *Filter) Version() uint64 { return f.n }

// clone returns a copy of the filter that shares nothing that changes.
func (f *Filter) clone() *Filter {
	g := *f
	g.bf = bloom.FromWithM(slices.Clone(f.bf.BitSet().Words()), f.bf.Cap(), f.bf.K())
	return &g
}

// addCounting sets the bits of seed s, counting the bits it sets that
// were not.
func (f *Filter) addCounting(p *positioner, s seed) {
	bs := f.bf.BitSet()
	for _, l := range p.seedPositions(s, uint64(f.bf.Cap()), int(f.bf.K())) {
		if !bs.Test(uint(l)) {
			bs.Set(uint(l))
			f.setBits++
		}
	}
}

// Add adds entries to the current epoch's list, as [Publish] would have
// had them after its own entries: it evaluates only these entries, sets
// their bits in a new version of the filter (the previous Filter is not
// changed), extends the tag index and numbers the entries after those
// already held ([Publisher.Entries] before the call is the first new
// number). An entry whose indicator the publisher already holds joins it:
// a hit on it then releases both labels; the filter does not change for
// it. Add returns the number of indicators new to the filter.
//
// The filter keeps its false-positive rate up to the capacity chosen at
// [Publish]; additions beyond it are refused with [ErrCapacity], and so is
// an indicator held by more than [MaxRepeats] entries, in both cases
// without changing anything. Add may be called concurrently with the other
// methods; evaluation happens outside the lock that Confirm takes.
func (p *Publisher) Add(entries []Entry) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	return p.add(entries, nil)
}

// add is Add, and AddPadded when pad is not nil.
func (p *Publisher) add(entries []Entry, pad *padding) (int, error) {
	st := p.st
	st.addMu.Lock() // one Add at a time; Confirm and Filter go on meanwhile
	defer st.addMu.Unlock()
	st.mu.RLock()
	base := st.entries
	st.mu.RUnlock()
	if base+len(entries) > MaxEntries {
		return 0, fmt.Errorf("match: more than %d entries", uint64(MaxEntries))
	}
	evs := map[string]*evaluator{}
	for i, e := range entries {
		if err := p.checkEntry(e, base+i, evs); err != nil {
			return 0, err
		}
	}
	ts, err := p.evaluateTags(len(entries), func(i int) indicator.Indicator { return entries[i].Indicator },
		func(i int) int { return base + i }, evs)
	if err != nil {
		return 0, err
	}
	tags := make([]indexEntry, len(entries))
	for i, t := range ts {
		tags[i] = indexEntry{tag: t, entry: uint32(base + i)}
	}
	slices.SortFunc(tags, compareIndex)

	st.mu.Lock()
	defer st.mu.Unlock()
	// The tags new to the filter, and the runs the others join.
	var fresh []tag
	for i := 0; i < len(tags); {
		j := i + 1
		for j < len(tags) && tags[j].tag == tags[i].tag {
			j++
		}
		lo, found := st.find(tags[i].tag)
		held := 0
		if found {
			run := st.index[lo:endOfTag(st.index, lo)]
			held = len(run)
			if !slices.ContainsFunc(run, func(e indexEntry) bool { return !st.removed[e.entry] }) {
				// Queriers were told it is withdrawn, and the filter
				// cannot tell them it is back: no version adds it.
				return 0, fmt.Errorf("%w: entry %d holds an indicator withdrawn in this epoch (every entry holding it removed); it can be listed again from the next epoch",
					ErrWithdrawn, tags[i].entry)
			}
		} else {
			fresh = append(fresh, tags[i].tag)
		}
		if held+j-i > MaxRepeats {
			return 0, fmt.Errorf("match: entry %d: %d entries would hold one indicator; at most %d may share one (merge their labels)",
				tags[i].entry, held+j-i, MaxRepeats)
		}
		i = j
	}
	f := st.filter
	if pad != nil {
		if err := st.addPadded(fresh, pad); err != nil {
			return 0, err
		}
	} else if int(f.n)+len(fresh) > st.capacity {
		return 0, fmt.Errorf("%w (%d indicators held, %d new, capacity %d)", ErrCapacity, f.n, len(fresh), st.capacity)
	} else if len(fresh) > 0 {
		g := f.clone()
		pos := newPositioner()
		for _, t := range fresh {
			g.addCounting(pos, deriveSeed(t))
		}
		g.n += uint64(len(fresh))
		st.filter = g
		st.added = append(st.added, fresh...)
		st.ends = append(st.ends, len(st.added))
		st.padEnds = append(st.padEnds, len(st.pad))
	}
	st.index = mergeIndex(st.index, tags)
	for i, e := range entries {
		st.labels.set(base+i, e.Label)
		st.refs.set(base+i, e.Ref)
	}
	st.entries += len(entries)
	return len(fresh), nil
}

// evaluateTags returns the confirm tags of n indicators, ind(i) for i
// below n, evaluated with the publisher's key in parallel chunks, each
// with its own clones of evs, which holds an evaluator for every kind.
// An error names the indicator as entry number(i).
func (p *Publisher) evaluateTags(n int, ind func(i int) indicator.Indicator, number func(i int) int, evs map[string]*evaluator) ([]tag, error) {
	tags := make([]tag, n)
	const chunk = 64
	sp := p.key.suite.params()
	err := parallel(p.workers, numChunks(n, chunk), func(c int) error {
		sc, own := newScratch(sp), map[string]*evaluator{}
		var input []byte
		for i := c * chunk; i < min((c+1)*chunk, n); i++ {
			x := ind(i)
			name := x.Kind().Name()
			ev := own[name]
			if ev == nil {
				ev = evs[name].clone()
				own[name] = ev
			}
			input = appendInput(input[:0], x)
			y, err := ev.evaluate(sc, input)
			if err != nil {
				return fmt.Errorf("entry %d: %w", number(i), err)
			}
			tags[i] = deriveTag(y)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tags, nil
}

// checkEntry validates entry number n (an indicator, a label and a
// reference that pass CheckLabel) without recording it, and makes sure evs
// holds an evaluator for its kind.
func (p *Publisher) checkEntry(e Entry, n int, evs map[string]*evaluator) error {
	if e.Indicator.IsZero() {
		return fmt.Errorf("%w: entry %d: zero Indicator", indicator.ErrInvalid, n)
	}
	if err := CheckLabel(e.Label); err != nil {
		return fmt.Errorf("match: entry %d: label: %w", n, err)
	}
	if err := CheckLabel(e.Ref); err != nil {
		return fmt.Errorf("match: entry %d: reference: %w", n, err)
	}
	name := e.Indicator.Kind().Name()
	if evs[name] == nil {
		ev, err := newEvaluator(p.key, p.hdr.mode, kindInfo(name))
		if err != nil {
			return fmt.Errorf("match: entry %d: kind %s: %w", n, name, err)
		}
		evs[name] = ev
	}
	return nil
}

// find returns the start of t's run in the index, and whether it is there.
// st.mu is held.
func (st *pubState) find(t tag) (int, bool) {
	return slices.BinarySearchFunc(st.index, t, func(e indexEntry, t tag) int {
		return compareTags(&e.tag, &t)
	})
}

// mergeIndex merges the sorted entries add into the sorted index idx, in
// place from the end: a binary search per added entry, and the entries of
// idx after it moved once, in blocks. It allocates only when idx has no
// room.
func mergeIndex(idx, add []indexEntry) []indexEntry {
	n := len(idx)
	idx = slices.Grow(idx, len(add))[:n+len(add)]
	end := n // idx[:end] holds the old entries not yet moved
	for j := len(add) - 1; j >= 0; j-- {
		at, _ := slices.BinarySearchFunc(idx[:end], add[j], compareIndex)
		copy(idx[at+j+1:], idx[at:end])
		idx[at+j] = add[j]
		end = at
	}
	return idx
}

// Remove removes entries, by their numbers (their positions in the
// sequence given to [Publish], then to [Publisher.Add]): they are never
// confirmed again. The filter keeps their bits until the next epoch, so a
// querier holding a removed entry's indicator still finds it a candidate;
// if every entry holding the indicator is removed, the confirmation
// answers "withdrawn" (PROTOCOL.md section 2.5), which tells the querier
// that the indicator was on this filter's list and is no longer, rather
// than "not an entry", which would be a lie that the querier's
// misbehaviour check counts. Removing an entry twice is not an error. An
// indicator whose entries are all removed cannot be added again in the
// epoch ([ErrWithdrawn]).
func (p *Publisher) Remove(entries ...int) error {
	st := p.st
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, e := range entries {
		if e < 0 || e >= st.entries {
			return fmt.Errorf("match: no entry %d to remove (%d entries)", e, st.entries)
		}
	}
	for _, e := range entries {
		st.markRemoved(uint32(e))
	}
	return nil
}

// RemoveEntries removes entries of the current list by what they hold,
// not by their numbers: for each of entries, one listed entry, not yet
// removed, with the same indicator, label and reference, the oldest
// first (the lowest number), so that entries given twice remove two
// listed entries. A caller that keeps its own list, such as a watchlist
// file, removes what left it without knowing how the publisher numbered
// it. The removal is that of [Publisher.Remove]: the removed entries are
// never confirmed again, their indicators' bits stay in the filter until
// the next epoch, and an indicator whose every entry is removed is
// answered "withdrawn" and cannot be added again in the epoch
// ([ErrWithdrawn]). The filter does not change.
//
// It evaluates each distinct indicator of entries once, as
// [Publisher.Add] does, to find its confirm tag in the index. It removes
// all of entries or none: if one is not listed ([ErrNotListed]) or is
// not a valid entry, nothing is removed and the error names its position
// in entries, never what it holds. It returns the numbers of the entries
// removed, removed[i] for entries[i]. It may be called concurrently with
// the other methods: evaluation happens outside the lock that Confirm
// takes, and no Add runs between the lookup and the removal.
func (p *Publisher) RemoveEntries(entries []Entry) (removed []int, err error) {
	if len(entries) == 0 {
		return nil, nil
	}
	st := p.st
	st.addMu.Lock() // no Add between the lookup and the removal
	defer st.addMu.Unlock()
	evs := map[string]*evaluator{}
	at := map[indicator.Indicator]int{} // an indicator's index in first
	var first []int                     // the position in entries of each distinct indicator's first entry
	which := make([]int, len(entries))  // entries[i]'s index in first
	for i, e := range entries {
		if err := p.checkEntry(e, i, evs); err != nil {
			return nil, err
		}
		j, ok := at[e.Indicator]
		if !ok {
			j = len(first)
			at[e.Indicator] = j
			first = append(first, i)
		}
		which[i] = j
	}
	tags, err := p.evaluateTags(len(first), func(j int) indicator.Indicator { return entries[first[j]].Indicator },
		func(j int) int { return first[j] }, evs)
	if err != nil {
		return nil, err
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	removed = make([]int, len(entries))
	taken := make(map[uint32]bool, len(entries))
	for i, e := range entries {
		n, ok := st.listed(tags[which[i]], e.Label, e.Ref, taken)
		if !ok {
			return nil, fmt.Errorf("%w: entry %d given (none left listed with its indicator, label and reference)", ErrNotListed, i)
		}
		taken[n] = true
		removed[i] = int(n)
	}
	for _, n := range removed {
		st.markRemoved(uint32(n)) // in order, for the journal (MarshalChange)
	}
	return removed, nil
}

// listed returns the oldest entry holding the indicator of tag t, with
// label and ref, that is neither removed nor in taken. st.mu is held.
func (st *pubState) listed(t tag, label, ref string, taken map[uint32]bool) (uint32, bool) {
	lo, found := st.find(t)
	if !found {
		return 0, false
	}
	for _, e := range st.index[lo:endOfTag(st.index, lo)] { // by entry number
		if !st.removed[e.entry] && !taken[e.entry] && st.labels.is(int(e.entry), label) && st.refs.is(int(e.entry), ref) {
			return e.entry, true
		}
	}
	return 0, false
}

// Removed returns the number of entries removed ([Publisher.Remove],
// [Publisher.RemoveEntries]).
func (p *Publisher) Removed() int {
	p.st.mu.RLock()
	defer p.st.mu.RUnlock()
	return len(p.st.removed)
}

// Capacity returns the number of distinct indicators and padding seeds
// the filter is sized for ([PublishOptions.Capacity], Headroom and
// Padding).
func (p *Publisher) Capacity() int {
	p.st.mu.RLock()
	defer p.st.mu.RUnlock()
	return p.st.capacity
}

// Delta returns the change of the filter from its version from (a
// [Filter.Version] it had) to its current version: the seeds of the
// indicators added since, and of the padding added since
// ([Publisher.AddPadded]), sorted, from which a querier sets their bits
// ([Filter.Apply]). Its encoding takes 16 bytes per insertion
// (PROTOCOL.md section 2.8). It returns [ErrNoDelta] if the filter never
// had that version, has no newer one, or has more than [MaxDeltaLen]
// insertions since: send the whole filter then.
func (p *Publisher) Delta(from uint64) (*Delta, error) {
	st := p.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	f := st.filter
	first := f.n - uint64(len(st.added)+len(st.pad)) // the version Publish made
	if from >= f.n || from < first {
		return nil, fmt.Errorf("%w %d (versions %d to %d)", ErrNoDelta, from, first, f.n)
	}
	if f.n-from > MaxDeltaLen {
		return nil, fmt.Errorf("%w %d: %d insertions since, more than a delta carries (%d)", ErrNoDelta, from, f.n-from, MaxDeltaLen)
	}
	// The insertions up to each version, ends[i]+padEnds[i], increase.
	at := int(from - first)
	a, q := 0, 0 // the tags and padding seeds that version held
	if at != 0 {
		i := sort.Search(len(st.ends), func(i int) bool { return st.ends[i]+st.padEnds[i] >= at })
		if i == len(st.ends) || st.ends[i]+st.padEnds[i] != at {
			return nil, fmt.Errorf("%w %d: not a version of this filter", ErrNoDelta, from)
		}
		a, q = st.ends[i], st.padEnds[i]
	}
	seeds := make([]seed, 0, len(st.added)-a+len(st.pad)-q)
	for _, t := range st.added[a:] {
		seeds = append(seeds, deriveSeed(t))
	}
	seeds = append(seeds, st.pad[q:]...)
	slices.SortFunc(seeds, compareSeeds)
	return &Delta{hdr: f.hdr, epoch: f.epoch, from: from, m: uint64(f.bf.Cap()), k: uint8(f.bf.K()), seeds: seeds}, nil
}

func compareTags(a, b *tag) int { return bytes.Compare(a[:], b[:]) }

func compareSeeds(a, b seed) int { return bytes.Compare(a[:], b[:]) }
