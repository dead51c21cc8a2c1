package match

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/cloudflare/circl/group"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// An Entry is one watchlist entry of a publisher.
type Entry struct {
	Indicator indicator.Indicator
	// Label is released to a querier that confirms a hit on this entry,
	// such as "APT-X C2, contact desk 3". At most MaxLabelLen bytes of
	// UTF-8; may be empty.
	Label string
	// Ref is the publisher's own reference for the entry (a case number,
	// a MISP attribute UUID). It is never sent; the publisher gets it back
	// when a partner confirms a hit. At most MaxLabelLen bytes.
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
	// federation layer; this package does not read a clock.
	Epoch               uint64
	NotBefore, NotAfter time.Time
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

// A Publisher holds one agency's published filter, the key it was built
// with and the exact index of confirm tags behind it. It evaluates
// partners' query batches and answers their confirmations. Its methods may
// be called concurrently.
//
// A Publisher holds the secret key; its String and Format methods print
// only the suite, mode, key id and size.
type Publisher struct {
	key     *PrivateKey
	hdr     msgHeader
	filter  *Filter
	index   []indexEntry // sorted by tag, one per distinct indicator
	labels  sparseStrings
	refs    sparseStrings
	entries int
	workers int
}

type indexEntry struct {
	tag   tag
	entry uint32
}

// Publish evaluates every entry with key, builds the filter and the tag
// index, and returns the Publisher. It streams entries: beyond the filter,
// it keeps 20 bytes per entry (a confirm tag and an entry number; repeated
// indicators are merged once all are evaluated), 16 bytes per entry for
// labels and for references once any entry has one, plus their text, and
// a bounded number of entries in flight. Entries repeating an indicator
// are merged into the first; [Publisher.Entries] counts them all, [Filter.Len] the distinct
// ones. A nil entries publishes an empty list.
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
	}
	p := &Publisher{
		key:     key,
		hdr:     msgHeader{suite: key.suite, mode: opts.Mode, keyID: key.KeyID()},
		workers: defaultWorkers(opts.Workers),
	}
	if entries == nil {
		entries = func(func(Entry) bool) {}
	}
	if err := p.build(entries, opts); err != nil {
		return nil, err
	}
	f, err := buildFilter(p.index, fpr)
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
	p.filter = f
	return p, nil
}

// publishBatch is the number of entries handed to a worker at a time.
const publishBatch = 256

type publishJob struct {
	base   uint32
	evs    []*evaluator
	inputs []byte
	ends   []int
	out    []indexEntry
	err    error
}

// run evaluates the job's entries. own maps the shared evaluators to this
// goroutine's clones.
func (j *publishJob) run(sc *scratch, own map[*evaluator]*evaluator) {
	j.out = j.out[:0]
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
		start = end
	}
}

// build runs the entries through the workers and fills p.index, sorted
// and de-duplicated. The entries iterator and the Progress callback run on
// the caller's goroutine, so a panic in either reaches the caller (after
// the workers are told to stop).
func (p *Publisher) build(entries iter.Seq[Entry], opts *PublishOptions) error {
	var (
		jobs    = make(chan *publishJob, p.workers)
		results = make(chan *publishJob, p.workers)
		free    = make(chan *publishJob, 3*p.workers+2)
		stop    = make(chan struct{})
		once    sync.Once
		wg      sync.WaitGroup
		done    atomic.Int64             // entries evaluated and collected
		tick    = make(chan struct{}, 1) // the collector made progress
	)
	halt := func() { once.Do(func() { close(stop) }) }
	jobsOpen := true
	closeJobs := func() {
		if jobsOpen {
			jobsOpen = false
			close(jobs)
		}
	}
	defer func() { halt(); closeJobs() }() // on every return and panic
	for range p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := newScratch(p.key.suite.params())
			own := map[*evaluator]*evaluator{}
			for j := range jobs {
				select {
				case <-stop:
				default:
					j.run(sc, own)
				}
				results <- j
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	collected := make(chan error, 1)
	go func() {
		var err error
		for j := range results {
			if err == nil {
				if j.err != nil {
					err = j.err
					halt()
				} else {
					p.index = append(p.index, j.out...)
					done.Add(int64(len(j.out)))
					select {
					case tick <- struct{}{}:
					default:
					}
				}
			}
			select {
			case free <- j:
			default:
			}
		}
		collected <- err
	}()

	reported := int64(0)
	progress := func() error {
		if opts.Progress == nil {
			return nil
		}
		d := done.Load()
		if d == reported {
			return nil
		}
		reported = d
		if err := opts.Progress(int(d)); err != nil {
			halt()
			return fmt.Errorf("match: publish stopped after %d entries: %w", d, err)
		}
		return nil
	}
	evs := map[string]*evaluator{}
	newJob := func(base uint32) *publishJob {
		var j *publishJob
		select {
		case j = <-free:
			j.evs, j.inputs, j.ends, j.err = j.evs[:0], j.inputs[:0], j.ends[:0], nil
		default:
			j = &publishJob{}
		}
		j.base = base
		return j
	}
	// send hands a job to the workers, reporting progress while it waits.
	var progErr error
	send := func(j *publishJob) bool {
		for {
			select {
			case jobs <- j:
				return true
			case <-stop:
				return false
			case <-tick:
				if progErr = progress(); progErr != nil {
					return false
				}
			}
		}
	}
	var inErr error
	n := 0
	cur := newJob(0)
	for e := range entries {
		if err := p.addEntry(e, n, evs); err != nil {
			inErr = err
			halt()
			break
		}
		ev := evs[e.Indicator.Kind().Name()]
		cur.evs = append(cur.evs, ev)
		cur.inputs = appendInput(cur.inputs, e.Indicator)
		cur.ends = append(cur.ends, len(cur.inputs))
		n++
		if len(cur.ends) == publishBatch {
			if !send(cur) {
				break
			}
			cur = newJob(uint32(n))
		}
	}
	if inErr == nil && progErr == nil && len(cur.ends) > 0 {
		send(cur)
	}
	closeJobs()
	// Report progress until the workers are done.
	var err error
wait:
	for {
		select {
		case err = <-collected:
			break wait
		case <-tick:
			if progErr == nil {
				progErr = progress()
			}
		}
	}
	if inErr == nil {
		inErr = progErr
	}
	if inErr == nil && err == nil {
		inErr = progress()
	}
	if inErr != nil {
		return inErr
	}
	if err != nil {
		return err
	}
	p.entries = n
	p.index = sortIndex(p.index)
	return nil
}

// addEntry validates entry number n, records its label and reference, and
// makes sure evs holds an evaluator for its kind.
func (p *Publisher) addEntry(e Entry, n int, evs map[string]*evaluator) error {
	switch {
	case n >= MaxEntries:
		return fmt.Errorf("match: more than %d entries", uint64(MaxEntries))
	case e.Indicator.IsZero():
		return fmt.Errorf("%w: entry %d: zero Indicator", indicator.ErrInvalid, n)
	case len(e.Label) > MaxLabelLen || len(e.Ref) > MaxLabelLen:
		return fmt.Errorf("match: entry %d: label or reference longer than %d bytes", n, MaxLabelLen)
	case !utf8.ValidString(e.Label) || !utf8.ValidString(e.Ref):
		return fmt.Errorf("match: entry %d: label or reference is not valid UTF-8", n)
	}
	p.labels.set(n, e.Label)
	p.refs.set(n, e.Ref)
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

// sortIndex sorts by tag and keeps, for each tag, the lowest entry number.
func sortIndex(idx []indexEntry) []indexEntry {
	slices.SortFunc(idx, func(a, b indexEntry) int {
		if c := bytes.Compare(a.tag[:], b.tag[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.entry, b.entry)
	})
	idx = slices.CompactFunc(idx, func(a, b indexEntry) bool { return a.tag == b.tag })
	return slices.Clip(idx)
}

func buildFilter(idx []indexEntry, fpr float64) (*Filter, error) {
	m, k := uint(64), uint(1) // an empty list: one word, nothing set
	if len(idx) > 0 {
		m, k = bloom.EstimateParameters(uint(len(idx)), fpr)
	}
	if m > MaxFilterBits || k > MaxFilterHashes {
		return nil, fmt.Errorf("match: %d entries at false-positive rate %v need a filter of %d bits and %d hashes, above the limits", len(idx), fpr, m, k)
	}
	return filterOf(idx, m, k), nil
}

// filterOf builds the filter of m bits and k hashes over the index.
func filterOf(idx []indexEntry, m, k uint) *Filter {
	f := &Filter{n: uint64(len(idx)), bf: bloom.New(m, k)}
	pos := newPositioner()
	for _, e := range idx {
		f.add(pos, e.tag)
	}
	f.setBits = uint64(f.bf.BitSet().Count())
	return f
}

// Filter returns the filter to publish.
func (p *Publisher) Filter() *Filter { return p.filter }

// PublicKey returns the public key.
func (p *Publisher) PublicKey() *PublicKey { return p.key.pub }

// Entries returns the number of entries given to [Publish], duplicates
// included.
func (p *Publisher) Entries() int { return p.entries }

// Evaluate evaluates a querier's batch with the publisher's key: the
// publisher side of the query. It checks suite, mode and key id, decodes
// every element (refusing invalid ones), evaluates the chunks in parallel
// and proves each in the verifiable modes. The cost is one scalar
// multiplication per element, plus one more per element and about two per
// chunk for the proofs; chunks hold at least MinChunkSize elements.
// Authorise the request (its [EvalRequest.Kind] and [EvalRequest.Len])
// before calling Evaluate.
func (p *Publisher) Evaluate(req *EvalRequest) (*EvalResponse, error) {
	return p.evaluate(req, kindInfo(req.kind), nil)
}

// evaluate takes the POPRF info and, for known-answer tests, the proof
// randomness, one scalar per chunk; nil draws it from crypto/rand.
func (p *Publisher) evaluate(req *EvalRequest, info []byte, proofR []group.Scalar) (*EvalResponse, error) {
	if err := req.hdr.check(&p.hdr); err != nil {
		return nil, err
	}
	shared, err := newEvaluator(p.key, p.hdr.mode, info)
	if err != nil {
		return nil, err
	}
	sp := shared.sp
	resp := &EvalResponse{
		hdr:   p.hdr,
		chunk: req.chunk,
		count: req.count,
		elems: make([]byte, len(req.elems)),
	}
	resp.proofs = make([]byte, proofLen(&p.hdr, req.count, req.chunk))
	err = parallel(p.workers, numChunks(req.count, req.chunk), func(c int) error {
		lo, hi := c*req.chunk, min((c+1)*req.chunk, req.count)
		blinded := make([]group.Element, hi-lo)
		for i := range blinded {
			off := (lo + i) * sp.elemLen
			e, err := decodeElement(sp, req.elems[off:off+sp.elemLen])
			if err != nil {
				return fmt.Errorf("%w: element %d", err, lo+i)
			}
			blinded[i] = e
		}
		var r group.Scalar
		if proofR != nil {
			r = proofR[c]
		}
		evaluated, proof, err := shared.clone().blindEvaluate(blinded, r)
		if err != nil {
			return err
		}
		out := resp.elems[lo*sp.elemLen : lo*sp.elemLen]
		for _, e := range evaluated {
			enc, err := e.MarshalBinaryCompress()
			if err != nil {
				return err
			}
			out = append(out, enc...)
		}
		if proof != nil {
			pb, err := proof.MarshalBinary()
			if err != nil {
				return err
			}
			copy(resp.proofs[c*2*sp.scalarLen:], pb)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// A ConfirmedEntry is what a publisher learns of a partner's confirmed
// hit: which of its own entries it was.
type ConfirmedEntry struct {
	Entry int    // position of the entry in the sequence given to Publish
	Label string // the label released to the querier
	Ref   string // the entry's reference
}

// Confirm answers a querier's confirm tags: for each, whether it is one of
// the publisher's entries and, if so, the entry's label. It returns the
// response to send and the entries that were hit. Tags the publisher does
// not hold (Bloom false positives) are answered "no". A request that
// repeats a tag of an entry is refused (ErrMalformed): a querier never
// needs to, and a querier that knows one tag must not be able to make the
// publisher send its label a million times.
func (p *Publisher) Confirm(req *ConfirmRequest) (*ConfirmResponse, []ConfirmedEntry, error) {
	if err := req.hdr.check(&p.hdr); err != nil {
		return nil, nil, err
	}
	resp := &ConfirmResponse{hdr: p.hdr, results: make([]confirmResult, req.Len())}
	var hits []ConfirmedEntry
	seen := map[uint32]int{} // entry -> index of the tag that hit it
	for i := range resp.results {
		var t tag
		copy(t[:], req.tags[i*TagSize:])
		j, found := slices.BinarySearchFunc(p.index, t, func(e indexEntry, t tag) int {
			return bytes.Compare(e.tag[:], t[:])
		})
		if !found {
			continue
		}
		n := p.index[j].entry
		if first, dup := seen[n]; dup {
			return nil, nil, malformed("confirm tag %d repeats tag %d", i, first)
		}
		seen[n] = i
		ce := ConfirmedEntry{Entry: int(n), Label: p.labels.get(int(n)), Ref: p.refs.get(int(n))}
		resp.results[i] = confirmResult{hit: true, label: ce.Label}
		hits = append(hits, ce)
	}
	return resp, hits, nil
}

// Format prints the suite, mode, key id and size, never the key.
func (p Publisher) Format(f fmt.State, verb rune) {
	if p.key == nil {
		fmt.Fprint(f, "match.Publisher{}")
		return
	}
	fmt.Fprintf(f, "match.Publisher{%v %v %v entries=%d}", p.hdr.suite, p.hdr.mode, p.hdr.keyID, len(p.index))
}

// String prints the suite, mode, key id and size.
func (p Publisher) String() string { return fmt.Sprint(p) }

// GoString prints the suite, mode, key id and size.
func (p Publisher) GoString() string { return fmt.Sprint(p) }

// sparseStrings holds the non-empty strings of some entries, by entry
// number, set in increasing order. It costs nothing for entries without
// one, and its size follows the strings it holds, never the largest entry
// number (a restored state cannot make it allocate for entries it does not
// carry).
type sparseStrings struct {
	at []uint32 // entry numbers, increasing
	s  []string
}

// set records v for entry i, which must be above every entry set before.
func (ss *sparseStrings) set(i int, v string) {
	if v == "" {
		return
	}
	ss.at = append(ss.at, uint32(i))
	ss.s = append(ss.s, v)
}

func (ss *sparseStrings) get(i int) string {
	if j, ok := slices.BinarySearch(ss.at, uint32(i)); ok {
		return ss.s[j]
	}
	return ""
}
