package match

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bits-and-blooms/bloom/v3"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// An Entry is one watchlist entry of a publisher.
type Entry struct {
	Indicator indicator.Indicator
	// Label is released to a querier that confirms a hit on this entry,
	// such as "TLP:GREEN APT-X C2, contact desk 3". At most MaxLabelLen
	// bytes of UTF-8 on one line, without control characters (see
	// [CheckLabel]); may be empty.
	Label string
	// Ref is the publisher's own reference for the entry (a case number,
	// a MISP attribute UUID). It is never sent; the publisher gets it back
	// when a partner confirms a hit. As Label, it passes [CheckLabel].
	Ref string
}

// PublishOptions configure [Publish]. The zero value is a safe default.
type PublishOptions struct {
	// Mode is the protocol mode. The zero value is ModePOPRF.
	Mode Mode
	// FalsePositiveRate is the target false-positive rate of the filter,
	// in (0, 0.5]. Zero means DefaultFalsePositiveRate.
	FalsePositiveRate float64
	// Epoch, NotBefore and NotAfter are carried in the filter for the
	// federation layer, which sets them; this package does not read a
	// clock, and a two-party exchange can leave them unset.
	Epoch               uint64
	NotBefore, NotAfter time.Time
	// Capacity is the number of distinct indicators the filter is sized
	// for at FalsePositiveRate: room for [Publisher.Add] to add
	// indicators to the epoch's list without a new filter. Zero, or a
	// number below the list's, means the list's: a filter with no room,
	// as before continuous matching, whose encoding is unchanged. Each
	// indicator of room costs the filter's size what an indicator held
	// does, about 43 bits at the default rate.
	Capacity int
	// Headroom is room for additions as a fraction of the list: the
	// capacity is at least n + ⌈Headroom·n⌉ for a list of n distinct
	// indicators, and at least Capacity. Zero means none; it must not be
	// negative or above 1000.
	Headroom float64
	// Padding is room for the padding of [Publisher.AddPadded], in
	// insertions, beyond Capacity and Headroom: the capacity is
	// max(Capacity, n + ⌈Headroom·n⌉) + Padding. It must not be negative,
	// and a capacity above MaxEntries with Padding is refused rather than
	// cut (the padding would not fit).
	Padding int
	// Count also builds a count filter ([Publisher.CountFilter]) over the
	// list, for cardinality-only matching ([Querier.BlindCount]), under a
	// key derived from the publisher's: one more scalar multiplication an
	// entry while publishing, 16 bytes an entry until the filter is
	// built, and a second filter about the size of the first.
	Count bool
	// SizeHint, if positive, is the number of entries the caller expects
	// entries to yield: the tag index, 20 bytes an entry, is then
	// allocated once at that size instead of growing as entries arrive,
	// which at a million entries keeps the peak memory of the build
	// about 40 MiB lower. A wrong hint costs memory, never correctness:
	// a list longer than the hint grows the index as without one, and a
	// hint more than an eighth above the list is given back by one copy
	// at the end; the index allocated up front is capped at 2^25
	// entries (640 MiB). It must not be negative or above MaxEntries.
	SizeHint int
	// Workers is the number of goroutines evaluating entries; zero means
	// GOMAXPROCS.
	Workers int
	// Progress, if not nil, is called on the goroutine that called
	// Publish as entries are evaluated, with the number done so far, and a
	// last time with the total. If it returns an error, the build stops
	// and Publish returns that error (wrapped): return ctx.Err() to make a
	// build cancellable.
	Progress func(done int) error
}

// Publish evaluates every entry with key, builds the filter and the tag
// index, and returns the Publisher. It streams entries: beyond the filter,
// it keeps 20 bytes per entry (a confirm tag and an entry number), 20
// bytes per label and per reference besides their text, and a bounded
// number of entries in flight. Several entries may hold the same
// indicator (two cases that share an IP address), up to [MaxRepeats]: a
// hit on it releases the labels of all of them and confirms all of them
// to the publisher. [Publisher.Entries] counts every entry, [Filter.Len]
// the distinct indicators. A nil entries publishes an empty list.
func Publish(key *PrivateKey, entries iter.Seq[Entry], opts *PublishOptions) (*Publisher, error) {
	if opts == nil {
		opts = &PublishOptions{}
	}
	fpr := opts.FalsePositiveRate
	if fpr == 0 {
		fpr = DefaultFalsePositiveRate
	}
	switch {
	case key == nil || key.k == nil || key.pub == nil:
		return nil, fmt.Errorf("%w: nil or zero key", ErrInvalidKey)
	case !opts.Mode.valid():
		return nil, fmt.Errorf("%w: %v", ErrWrongMode, opts.Mode)
	case !(fpr > 0 && fpr <= 0.5):
		return nil, fmt.Errorf("match: false-positive rate %v not in (0, 0.5]", fpr)
	case !opts.NotBefore.IsZero() && !opts.NotAfter.IsZero() && opts.NotAfter.Before(opts.NotBefore):
		return nil, errors.New("match: NotAfter before NotBefore")
	case opts.Capacity < 0 || opts.Capacity > MaxEntries:
		return nil, fmt.Errorf("match: capacity %d not in [0, %d]", opts.Capacity, uint64(MaxEntries))
	case !(opts.Headroom >= 0 && opts.Headroom <= 1000):
		return nil, fmt.Errorf("match: headroom %v not in [0, 1000]", opts.Headroom)
	case opts.Padding < 0 || opts.Padding > MaxEntries:
		return nil, fmt.Errorf("match: padding %d not in [0, %d]", opts.Padding, uint64(MaxEntries))
	case opts.SizeHint < 0 || opts.SizeHint > MaxEntries:
		return nil, fmt.Errorf("match: size hint %d not in [0, %d]", opts.SizeHint, uint64(MaxEntries))
	}
	p := &Publisher{
		key:     key,
		hdr:     msgHeader{suite: key.suite, mode: opts.Mode, keyID: key.KeyID()},
		workers: defaultWorkers(opts.Workers),
		st:      &pubState{},
	}
	if err := p.setCountKey(); err != nil {
		return nil, err
	}
	if entries == nil {
		entries = func(func(Entry) bool) {}
	}
	counts, err := p.build(entries, opts)
	if err != nil {
		return nil, err
	}
	n := distinctTags(p.st.index)
	room := min(max(opts.Capacity, n+int(math.Ceil(opts.Headroom*float64(n)))), MaxEntries)
	if opts.Padding > MaxEntries-room {
		return nil, fmt.Errorf("match: capacity for %d indicators and room for %d, plus padding %d, is above %d",
			n, room-n, opts.Padding, uint64(MaxEntries))
	}
	p.st.capacity = room + opts.Padding
	f, err := buildFilter(p.st.index, fpr, p.st.capacity)
	if err != nil {
		return nil, err
	}
	f.hdr, f.pub, f.epoch = p.hdr, key.pub, opts.Epoch
	if !opts.NotBefore.IsZero() {
		f.notBefore = opts.NotBefore.Unix()
	}
	if !opts.NotAfter.IsZero() {
		f.notAfter = opts.NotAfter.Unix()
	}
	p.st.filter = f
	if opts.Count {
		// The list as published: additions and removals change the
		// filter's versions, not the count filter (see CountFilter).
		cf, err := buildFilter(counts, fpr, 0)
		if err != nil {
			return nil, err
		}
		cf.hdr, cf.pub = p.countHdr, p.countKey.pub
		cf.epoch, cf.notBefore, cf.notAfter = f.epoch, f.notBefore, f.notAfter
		cf.count = true
		p.countFilter = cf
	}
	return p, nil
}

// maxPresize caps the tag index Publish allocates for
// PublishOptions.SizeHint, so that a mistyped hint cannot ask for more
// than 640 MiB at once.
const maxPresize = 1 << 25

// publishBatch is the number of entries handed to a worker at a time.
const publishBatch = 256

type publishJob struct {
	base   uint32
	evs    []*evaluator
	inputs []byte
	ends   []int
	count  bool         // also derive count tags, with cevs
	cevs   []*evaluator // the count key's evaluators, by entry, if count
	out    []indexEntry
	counts []indexEntry // count tags, if count
	err    error
}

// run evaluates the job's entries. own maps the shared evaluators to this
// goroutine's clones.
func (j *publishJob) run(sc *scratch, own map[*evaluator]*evaluator) {
	j.out, j.counts = j.out[:0], j.counts[:0]
	start := 0
	for i, end := range j.ends {
		ev := own[j.evs[i]]
		if ev == nil {
			ev = j.evs[i].clone()
			own[j.evs[i]] = ev
		}
		y, err := ev.evaluate(sc, j.inputs[start:end])
		if err != nil {
			j.err = fmt.Errorf("entry %d: %w", j.base+uint32(i), err)
			return
		}
		j.out = append(j.out, indexEntry{tag: deriveTag(y), entry: j.base + uint32(i)})
		if j.count {
			cev := own[j.cevs[i]]
			if cev == nil {
				cev = j.cevs[i].clone()
				own[j.cevs[i]] = cev
			}
			n, err := cev.countElement(sc)
			if err != nil {
				j.err = fmt.Errorf("entry %d: %w", j.base+uint32(i), err)
				return
			}
			j.counts = append(j.counts, indexEntry{tag: deriveCountTag(n), entry: j.base + uint32(i)})
		}
		start = end
	}
}

// A builder runs Publish's evaluations. The caller's goroutine reads the
// entries and calls Progress, so that a panic in either reaches the
// caller (after the workers are told to stop); workers evaluate batches
// of entries (jobs); a collector gathers their tags in the publisher's
// index. Jobs are recycled, so what is in flight is bounded by the number
// of workers, whatever the number of entries.
type builder struct {
	p          *Publisher
	progressFn func(done int) error
	evs        map[string]*evaluator // by kind name
	hint       int                   // PublishOptions.SizeHint
	count      bool                  // PublishOptions.Count
	cevs       map[string]*evaluator // the count key's, by kind name, if count
	counts     []indexEntry          // the count tags, if count

	jobs      chan *publishJob // to the workers
	results   chan *publishJob // to the collector
	free      chan *publishJob // for reuse
	collected chan error       // the collector's verdict
	tick      chan struct{}    // the collector made progress
	stop      chan struct{}    // closed to stop early
	stopOnce  sync.Once
	jobsOpen  bool
	done      atomic.Int64 // entries evaluated and collected
	reported  int64        // what Progress was last told
}

// build evaluates the entries and fills p.st.index, sorted. With
// opts.Count it returns the count tags, sorted.
func (p *Publisher) build(entries iter.Seq[Entry], opts *PublishOptions) ([]indexEntry, error) {
	w := p.workers
	b := &builder{
		p: p, progressFn: opts.Progress, evs: map[string]*evaluator{}, hint: opts.SizeHint,
		count: opts.Count, cevs: map[string]*evaluator{},
		jobs: make(chan *publishJob, w), results: make(chan *publishJob, w),
		free: make(chan *publishJob, 3*w+2), collected: make(chan error, 1),
		tick: make(chan struct{}, 1), stop: make(chan struct{}), jobsOpen: true,
	}
	defer func() { b.halt(); b.closeJobs() }() // on every return and panic
	if opts.SizeHint > 0 {
		p.st.index = make([]indexEntry, 0, min(opts.SizeHint, maxPresize))
	}
	b.start()
	n, err := b.feed(entries)
	if err != nil {
		b.halt()
	}
	b.closeJobs()
	collectErr, progErr := b.wait(err == nil)
	if err == nil {
		err = progErr
	}
	if err == nil && collectErr == nil {
		err = b.progress() // the total
	}
	if err == nil {
		err = collectErr
	}
	if err != nil {
		return nil, err
	}
	p.st.entries = n
	if idx := p.st.index; cap(idx)-len(idx) > len(idx)/8 {
		// A hint well above the list: keep only what the list needs.
		p.st.index = append(make([]indexEntry, 0, len(idx)), idx...)
	}
	p.st.labels.clip()
	p.st.refs.clip()
	if p.st.index, err = sortIndex(p.st.index); err != nil {
		return nil, err
	}
	slices.SortFunc(b.counts, compareIndex)
	return b.counts, nil
}

func (b *builder) halt() { b.stopOnce.Do(func() { close(b.stop) }) }

func (b *builder) closeJobs() {
	if b.jobsOpen {
		b.jobsOpen = false
		close(b.jobs)
	}
}

// start starts the workers and the collector.
func (b *builder) start() {
	var wg sync.WaitGroup
	for range b.p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.work()
		}()
	}
	go func() { wg.Wait(); close(b.results) }()
	go b.collect()
}

// work evaluates jobs until there are no more; once the build is
// stopped it passes them on without evaluating them.
func (b *builder) work() {
	sc := newScratch(b.p.key.suite.params())
	own := map[*evaluator]*evaluator{}
	for j := range b.jobs {
		select {
		case <-b.stop:
		default:
			j.run(sc, own)
		}
		b.results <- j
	}
}

// collect appends the jobs' tags to the index until the first error,
// which stops the build and is the collector's verdict.
func (b *builder) collect() {
	var err error
	for j := range b.results {
		if err == nil {
			if j.err != nil {
				err = j.err
				b.halt()
			} else {
				b.p.st.index = append(b.p.st.index, j.out...)
				b.counts = append(b.counts, j.counts...)
				b.done.Add(int64(len(j.out)))
				select {
				case b.tick <- struct{}{}:
				default:
				}
			}
		}
		select {
		case b.free <- j:
		default:
		}
	}
	b.collected <- err
}

// feed reads the entries, checks them and sends them to the workers in
// jobs of publishBatch. It returns the number of entries read and the
// first error of an entry or of Progress; when a worker failed it stops
// early, and the collector has the error.
func (b *builder) feed(entries iter.Seq[Entry]) (int, error) {
	n := 0
	cur := b.newJob(0)
	for e := range entries {
		if err := b.p.addEntry(e, n, b.evs, b.hint); err != nil {
			return n, err
		}
		name := e.Indicator.Kind().Name()
		cur.evs = append(cur.evs, b.evs[name])
		if b.count {
			cev := b.cevs[name]
			if cev == nil {
				var err error
				if cev, err = newEvaluator(b.p.countKey, b.p.hdr.mode, kindInfo(name)); err != nil {
					return n, fmt.Errorf("match: entry %d: kind %s: count key: %w", n, name, err)
				}
				b.cevs[name] = cev
			}
			cur.cevs = append(cur.cevs, cev)
		}
		cur.inputs = appendInput(cur.inputs, e.Indicator)
		cur.ends = append(cur.ends, len(cur.inputs))
		n++
		if len(cur.ends) == publishBatch {
			if sent, err := b.send(cur); !sent {
				return n, err
			}
			cur = b.newJob(uint32(n))
		}
	}
	if len(cur.ends) > 0 {
		if sent, err := b.send(cur); !sent {
			return n, err
		}
	}
	return n, nil
}

func (b *builder) newJob(base uint32) *publishJob {
	var j *publishJob
	select {
	case j = <-b.free:
		j.evs, j.cevs, j.inputs, j.ends, j.err = j.evs[:0], j.cevs[:0], j.inputs[:0], j.ends[:0], nil
	default:
		j = &publishJob{}
	}
	j.base, j.count = base, b.count
	return j
}

// send hands j to the workers, reporting progress while it waits. It
// reports false if the build stopped, with Progress's error if that is
// why.
func (b *builder) send(j *publishJob) (bool, error) {
	for {
		select {
		case b.jobs <- j:
			return true, nil
		case <-b.stop:
			return false, nil
		case <-b.tick:
			if err := b.progress(); err != nil {
				return false, err
			}
		}
	}
}

// wait waits for the collector's verdict; while it waits it reports
// progress, if reporting, and returns the first error of Progress.
func (b *builder) wait(reporting bool) (collectErr, progErr error) {
	for {
		select {
		case err := <-b.collected:
			return err, progErr
		case <-b.tick:
			if reporting && progErr == nil {
				progErr = b.progress()
			}
		}
	}
}

// progress calls Progress if more entries are done than it was last
// told; an error from it stops the build.
func (b *builder) progress() error {
	if b.progressFn == nil {
		return nil
	}
	d := b.done.Load()
	if d == b.reported {
		return nil
	}
	b.reported = d
	if err := b.progressFn(int(d)); err != nil {
		b.halt()
		return fmt.Errorf("match: publish stopped after %d entries: %w", d, err)
	}
	return nil
}

// addEntry validates entry number n ([Publisher.checkEntry]), records its
// label and reference, and makes sure evs holds an evaluator for its kind.
// With a size hint, the first label (and the first reference) reserves
// room for one an entry up to the hint: lists tend to label all their
// entries or none.
func (p *Publisher) addEntry(e Entry, n int, evs map[string]*evaluator, hint int) error {
	if n >= MaxEntries {
		return fmt.Errorf("match: more than %d entries", uint64(MaxEntries))
	}
	if err := p.checkEntry(e, n, evs); err != nil {
		return err
	}
	p.st.labels.reserve(hint-n, e.Label)
	p.st.refs.reserve(hint-n, e.Ref)
	p.st.labels.set(n, e.Label)
	p.st.refs.set(n, e.Ref)
	return nil
}

// sortIndex sorts the index by tag, then entry, and checks that no
// indicator is held by more than MaxRepeats entries. Entries repeating an
// indicator stay, so that a hit releases every entry's label.
func sortIndex(idx []indexEntry) ([]indexEntry, error) {
	slices.SortFunc(idx, compareIndex)
	for i := 0; i < len(idx); {
		j := endOfTag(idx, i)
		if j-i > MaxRepeats {
			return nil, fmt.Errorf("match: entries %d, %d, ... hold the same indicator, %d entries in all; at most %d entries may share one (merge their labels)",
				idx[i].entry, idx[i+1].entry, j-i, MaxRepeats)
		}
		i = j
	}
	return slices.Clip(idx), nil
}

func compareIndex(a, b indexEntry) int {
	if c := bytes.Compare(a.tag[:], b.tag[:]); c != 0 {
		return c
	}
	return cmp.Compare(a.entry, b.entry)
}

// endOfTag returns the end of the run of index entries with the tag of
// idx[i].
func endOfTag(idx []indexEntry, i int) int {
	j := i + 1
	for j < len(idx) && idx[j].tag == idx[i].tag {
		j++
	}
	return j
}

// distinctTags returns the number of distinct tags of a sorted index.
func distinctTags(idx []indexEntry) int {
	n := 0
	for i := 0; i < len(idx); i = endOfTag(idx, i) {
		n++
	}
	return n
}

// buildFilter builds the filter of the sorted index, sized for capacity
// distinct indicators (at least the index's) at false-positive rate fpr.
func buildFilter(idx []indexEntry, fpr float64, capacity int) (*Filter, error) {
	n := max(capacity, distinctTags(idx))
	m, k := uint(64), uint(1) // an empty list: one word, nothing set
	if n > 0 {
		m, k = bloom.EstimateParameters(uint(n), fpr)
	}
	if m > MaxFilterBits || k > MaxFilterHashes {
		return nil, fmt.Errorf("match: %d indicators at false-positive rate %v need a filter of %d bits and %d hashes, above the limits", n, fpr, m, k)
	}
	return filterOf(idx, nil, m, k)
}

// filterOf builds the filter of m bits and k hashes over the sorted index
// and the padding seeds pad, which must all differ. It refuses a padding
// seed that is a tag's seed: a delta would list it twice.
func filterOf(idx []indexEntry, pad []seed, m, k uint) (*Filter, error) {
	f := &Filter{bf: bloom.New(m, k)}
	pos := newPositioner()
	var padded map[seed]bool
	if len(pad) > 0 {
		padded = make(map[seed]bool, len(pad))
		for _, s := range pad {
			padded[s] = true
		}
	}
	set := func(s seed) {
		for _, l := range pos.seedPositions(s, uint64(m), int(k)) {
			f.bf.BitSet().Set(uint(l))
		}
		f.n++
	}
	for i := 0; i < len(idx); i = endOfTag(idx, i) {
		s := deriveSeed(idx[i].tag)
		if padded[s] {
			return nil, malformed("a padding seed is the seed of a tag in the index")
		}
		set(s)
	}
	for _, s := range pad {
		set(s)
	}
	f.setBits = uint64(f.bf.BitSet().Count())
	return f, nil
}
