package match

import (
	"errors"
	"fmt"

	"github.com/cloudflare/circl/group"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// QuerierOptions configure [NewQuerier]. The zero value is a safe default.
type QuerierOptions struct {
	// PublicKey, if set, pins the publisher key: a filter for any other key
	// is refused with ErrWrongKey.
	PublicKey *PublicKey
	// MaxFalsePositiveRate is the highest estimated false-positive rate
	// accepted in a filter, in (0, 0.5]. Zero means
	// DefaultMaxFalsePositiveRate.
	MaxFalsePositiveRate float64
	// MaxEntries is the largest number of entries (the n a filter
	// declares) accepted; zero means DefaultMaxFilterEntries. Together
	// with MaxFalsePositiveRate it bounds how many values a publisher can
	// test the querier's indicators against: a publisher that lists a
	// whole value space learns every indicator the querier holds in it.
	MaxEntries int
	// MaxFilterBytes is the largest filter accepted, in bytes of its
	// encoding ([Filter.Size]); zero means DefaultMaxFilterBytes. It bounds
	// what a publisher's filter costs the querier's memory.
	MaxFilterBytes int64
	// InsecureAllowOPRF accepts base-mode filters, whose evaluations carry
	// no proof: the publisher could then evaluate with another key
	// unnoticed.
	InsecureAllowOPRF bool
	// ChunkSize and Workers tune performance; most users leave them
	// zero.
	//
	// ChunkSize is the number of elements under one proof, from
	// MinChunkSize to MaxChunkSize. Zero means DefaultChunkSize for large
	// batches and, for smaller ones, an even split between the workers
	// with at least MinAutoChunkSize elements per chunk, so that both
	// sides can spread even a small batch over their cores.
	ChunkSize int
	// Workers is the number of goroutines blinding and finalizing; zero
	// means GOMAXPROCS.
	Workers int
}

// Querier-side maxima of a publisher's filter, unless [QuerierOptions]
// says otherwise. A publisher cannot hide more values in a filter than it
// declares: the querier's density check holds the set bits to what n
// entries set (PROTOCOL.md, section 1.4).
const (
	// DefaultMaxFilterEntries is 2^22 (4,194,304) entries: the largest
	// agency watchlists hold a few million. It is the defence against a
	// publisher that lists a whole small value space, such as a country's
	// phone numbers or a block of IPv4 addresses, to learn which of the
	// querier's indicators are in it (section 2.5: answering "no" about
	// them is detected; answering truthfully shows the querier the hits):
	// it may list at most 2^22 values, a /10 of IPv4 (0.1% of the space),
	// against 2^32-1 that the format allows and 1.2·10^9 (28% of IPv4)
	// that a filter of the largest size holds at the default bound on the
	// false-positive rate. A partner with a larger list is configured
	// with a larger maximum.
	DefaultMaxFilterEntries = 1 << 22
	// DefaultMaxFilterBytes is 32 MiB: 64 bits for each of
	// DefaultMaxFilterEntries entries, room for any false-positive rate
	// down to about 2^-44 (the publisher's default, 1e-9, needs 43 bits
	// per entry: 22 MB for 2^22 entries). It bounds what a partner's
	// filter costs in memory, against 4 GiB that the format allows.
	DefaultMaxFilterBytes = 32 << 20
)

// filterChecks returns the bound on the false-positive rate and the
// maxima of o (nil: the defaults), defaults applied.
func (o *QuerierOptions) filterChecks() (float64, filterLimits, error) {
	maxFPR := 0.0
	if o != nil {
		maxFPR = o.MaxFalsePositiveRate
	}
	if maxFPR == 0 {
		maxFPR = DefaultMaxFalsePositiveRate
	}
	if !(maxFPR > 0 && maxFPR <= 0.5) {
		return 0, filterLimits{}, fmt.Errorf("match: MaxFalsePositiveRate %v not in (0, 0.5]", maxFPR)
	}
	lim, err := o.limits()
	return maxFPR, lim, err
}

// filterLimits are the maxima of a querier's options, defaults applied.
type filterLimits struct{ entries, bytes uint64 }

func (o *QuerierOptions) limits() (filterLimits, error) {
	l := filterLimits{DefaultMaxFilterEntries, DefaultMaxFilterBytes}
	if o == nil {
		return l, nil
	}
	if o.MaxEntries < 0 || o.MaxFilterBytes < 0 {
		return l, fmt.Errorf("match: negative MaxEntries (%d) or MaxFilterBytes (%d)", o.MaxEntries, o.MaxFilterBytes)
	}
	if o.MaxEntries > 0 {
		l.entries = uint64(o.MaxEntries)
	}
	if o.MaxFilterBytes > 0 {
		l.bytes = uint64(o.MaxFilterBytes)
	}
	return l, nil
}

// check refuses a filter of n entries and size bytes above the maxima.
func (l filterLimits) check(n, size uint64) error {
	switch {
	case n > l.entries:
		return fmt.Errorf("%w: %d entries, above the maximum %d (QuerierOptions.MaxEntries)", ErrUnsafeFilter, n, l.entries)
	case size > l.bytes:
		return fmt.Errorf("%w: %d bytes, above the maximum %d (QuerierOptions.MaxFilterBytes)", ErrUnsafeFilter, size, l.bytes)
	}
	return nil
}

// A Querier queries one publisher's filter. It is safe for concurrent use;
// each [Query] is not.
type Querier struct {
	opts    QuerierOptions
	f       *Filter
	chunk   int // 0: chunkFor decides
	workers int
}

// chunkFor returns the chunk size for a batch of n elements.
func (q *Querier) chunkFor(n int) int {
	if q.chunk > 0 {
		return q.chunk
	}
	even := (n + q.workers - 1) / q.workers
	return max(MinAutoChunkSize, min(even, DefaultChunkSize))
}

// NewQuerier checks filter f and returns a Querier for it. It refuses a
// filter for a key other than opts.PublicKey (ErrWrongKey), a base-mode
// filter unless opts.InsecureAllowOPRF (ErrInsecureMode), and a filter
// above the maxima of opts, whose set bits do not fit its declared size
// or whose estimated false-positive rate is above the bound
// (ErrUnsafeFilter).
func NewQuerier(f *Filter, opts *QuerierOptions) (*Querier, error) {
	if opts == nil {
		opts = &QuerierOptions{}
	}
	if f == nil || f.bf == nil {
		return nil, errors.New("match: nil filter")
	}
	maxFPR, lim, err := opts.filterChecks()
	if err != nil {
		return nil, err
	}
	chunk := opts.ChunkSize
	if chunk != 0 && (chunk < MinChunkSize || chunk > MaxChunkSize) {
		return nil, fmt.Errorf("match: chunk size %d not in [%d, %d]", chunk, MinChunkSize, MaxChunkSize)
	}
	if pk := opts.PublicKey; pk != nil {
		if pk.suite != f.hdr.suite {
			return nil, fmt.Errorf("%w: filter is %v, pinned key is %v", ErrWrongSuite, f.hdr.suite, pk.suite)
		}
		if !pk.Equal(f.pub) {
			return nil, fmt.Errorf("%w: filter key %v, pinned key %v", ErrWrongKey, f.hdr.keyID, pk.id)
		}
	}
	if !f.hdr.mode.verifiable() && !opts.InsecureAllowOPRF {
		return nil, ErrInsecureMode
	}
	if err := lim.check(f.n, uint64(f.Size())); err != nil {
		return nil, err
	}
	if err := f.check(maxFPR); err != nil {
		return nil, err
	}
	q := &Querier{f: f, chunk: chunk, workers: defaultWorkers(opts.Workers), opts: *opts}
	if _, err := q.client(); err != nil {
		return nil, err
	}
	return q, nil
}

// Filter returns the filter the querier queries.
func (q *Querier) Filter() *Filter { return q.f }

// A Query is one batch of a querier's indicators, all of one kind, in
// flight: it holds the blinds (secret) between [Querier.Blind] and
// [Query.Finalize], then the candidate hits until [Query.Hits].
type Query struct {
	q      *Querier
	info   []byte
	inds   []indicator.Indicator // distinct, in first-seen order
	n      int                   // number of inputs
	chunk  int                   // elements per proof
	chunks []*blindedChunk
	state  int
	cands  []int // indexes into inds of the filter's positives
	tags   []tag // the outputs' tags, by index into inds, after Finalize

	withdrawn []indicator.Indicator
	answers   []uint8 // by candidate, after Hits: answerNo, answerLabel or answerWithdrawn
}

const (
	queryBlinded = iota
	queryFinalized
	queryDone
)

// Blind blinds indicators, all of one kind, for evaluation by the
// publisher (RFC 9497 Section 3.3, Blind) and returns the query state and
// the request to send. Repeated indicators are merged. The request
// reveals the kind and the number of distinct indicators.
func (q *Querier) Blind(inds []indicator.Indicator) (*Query, *EvalRequest, error) {
	return q.blind(inds, nil)
}

func (q *Querier) blind(inds []indicator.Indicator, blinds []group.Scalar) (*Query, *EvalRequest, error) {
	if q.f.count {
		return nil, nil, fmt.Errorf("%w: a count filter answers only BlindCount", ErrFilterUse)
	}
	kind, uniq, err := distinctOfOneKind(inds)
	if err != nil {
		return nil, nil, err
	}
	inputs := make([][]byte, len(uniq))
	for i, ind := range uniq {
		inputs[i] = appendInput(nil, ind)
	}
	qu, req, err := q.blindInputs(kind.Name(), kindInfo(kind.Name()), inputs, blinds)
	if err != nil {
		return nil, nil, err
	}
	qu.inds = uniq
	return qu, req, nil
}

// blindInputs blinds raw OPRF inputs. blinds fixes the blinds for
// known-answer tests; nil draws them from crypto/rand.
func (q *Querier) blindInputs(kind string, info []byte, inputs [][]byte, blinds []group.Scalar) (*Query, *EvalRequest, error) {
	f := q.f
	sp := f.hdr.suite.params()
	qu := &Query{q: q, info: info, n: len(inputs), chunk: q.chunkFor(len(inputs))}
	req := &EvalRequest{hdr: f.hdr, kind: kind, chunk: qu.chunk, count: len(inputs)}
	req.elems = make([]byte, len(inputs)*sp.elemLen)
	qu.chunks = make([]*blindedChunk, numChunks(len(inputs), qu.chunk))
	err := parallel(q.workers, len(qu.chunks), func(ci int) error {
		lo, hi := ci*qu.chunk, min((ci+1)*qu.chunk, len(inputs))
		c, err := q.client()
		if err != nil {
			return err
		}
		var bl []group.Scalar
		if blinds != nil {
			bl = blinds[lo:hi]
		}
		bc, err := c.blind(inputs[lo:hi], bl)
		if err != nil {
			return fmt.Errorf("match: blind: %w", err)
		}
		copy(req.elems[lo*sp.elemLen:], bc.enc)
		qu.chunks[ci] = bc
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return qu, req, nil
}

// client returns a new RFC 9497 client for the filter; one per goroutine.
func (q *Querier) client() (*client, error) {
	return newClient(q.f.hdr.suite, q.f.hdr.mode, q.f.pub)
}

// Len returns the number of distinct indicators in the query.
func (qu *Query) Len() int { return qu.n }

// Finalize verifies the publisher's response (in the verifiable modes,
// every chunk's proof against the filter's key), computes the OPRF
// outputs (RFC 9497 Section 3.3, Finalize), tests them against the filter
// and returns the confirm request for the candidates. The request is
// empty when there are none; sending it anyway hides that from the
// publisher.
func (qu *Query) Finalize(resp *EvalResponse) (*ConfirmRequest, error) {
	if qu.state != queryBlinded {
		return nil, errors.New("match: query already finalized")
	}
	f := qu.q.f
	if err := resp.hdr.check(&f.hdr); err != nil {
		return nil, err
	}
	if resp.count != qu.n || resp.chunk != qu.chunk {
		return nil, fmt.Errorf("%w: %d elements in chunks of %d, want %d in chunks of %d",
			ErrResponseMismatch, resp.count, resp.chunk, qu.n, qu.chunk)
	}
	type candidate struct {
		idx int
		tag tag
	}
	positive := make([][]candidate, len(qu.chunks))
	pos := make([]*positioner, len(qu.chunks)) // one per chunk: chunks run in parallel
	qu.tags = make([]tag, qu.n)
	err := qu.outputs(resp, func(ci, i int, y []byte) {
		if pos[ci] == nil {
			pos[ci] = newPositioner()
		}
		t := deriveTag(y)
		qu.tags[i] = t
		if f.contains(pos[ci], t) {
			positive[ci] = append(positive[ci], candidate{i, t})
		}
	})
	if err != nil {
		qu.tags = nil
		return nil, err
	}
	qu.state = queryFinalized
	qu.chunks = nil // the blinds are no longer needed
	req := &ConfirmRequest{hdr: f.hdr}
	for _, p := range positive {
		for _, c := range p {
			qu.cands = append(qu.cands, c.idx)
			req.tags = append(req.tags, c.tag[:]...)
		}
	}
	return req, nil
}

// Candidates returns the number of indicators that passed the filter:
// the shared hits plus the filter's false positives. Valid after
// [Query.Finalize].
func (qu *Query) Candidates() int { return len(qu.cands) }

// A Hit is an indicator of the querier's that is on the publisher's list,
// with the labels the publisher released for it: one per entry that
// holds the indicator (two cases that share an IP address give two),
// without empty or repeated ones; none if the publisher released none.
type Hit struct {
	Indicator indicator.Indicator
	Labels    []string
}

// Hits reads the publisher's confirm response and returns the confirmed
// hits, in the order the indicators were given to [Querier.Blind]. Filter
// false positives are gone: against an honest publisher the result is
// exactly the shared indicators.
//
// Hits also checks the "not an entry" answers against the filter's
// false-positive rate ([CheckConfirmations]). If there are more than it
// explains, the publisher said "no" about indicators on its list, to
// learn them while the querier sees no hit: Hits then returns the hits
// the publisher did confirm together with a *MisbehaviourError
// (errors.Is(err, ErrMisbehaviour)), and the caller should stop querying
// that publisher. On any other error it returns no hits. A publisher can
// still call a false positive a hit, as it could have put the indicator
// on its list.
func (qu *Query) Hits(resp *ConfirmResponse) ([]Hit, error) {
	if qu.state != queryFinalized {
		return nil, errors.New("match: Hits needs a finalized query, once")
	}
	if err := resp.hdr.check(&qu.q.f.hdr); err != nil {
		return nil, err
	}
	if len(resp.results) != len(qu.cands) {
		return nil, fmt.Errorf("%w: %d answers for %d candidates", ErrResponseMismatch, len(resp.results), len(qu.cands))
	}
	qu.state = queryDone
	var hits []Hit
	qu.answers = make([]uint8, len(resp.results))
	for i, r := range resp.results {
		switch {
		case r.hit:
			hits = append(hits, Hit{Indicator: qu.inds[qu.cands[i]], Labels: r.labels})
			qu.answers[i] = answerLabel
		case r.withdrawn:
			qu.withdrawn = append(qu.withdrawn, qu.inds[qu.cands[i]])
			qu.answers[i] = answerWithdrawn
		}
	}
	return hits, CheckConfirmations(qu.n, len(qu.cands), len(hits)+len(qu.withdrawn), qu.q.f.EstimatedFalsePositiveRate())
}

// Withdrawn returns, after [Query.Hits], the indicators the publisher
// answered "withdrawn" about: they were on the list of the filter queried,
// and every entry holding them has been removed since
// ([Publisher.Remove]). They are not hits, and carry no label. Report them
// to the user as visibly as hits: the misbehaviour check does not count
// them as "not an entry", so a publisher could answer "withdrawn" to learn
// indicators it listed, and only their being shown makes that as visible
// as a hit.
func (qu *Query) Withdrawn() []indicator.Indicator { return qu.withdrawn }

// outputs decodes and verifies resp chunk by chunk, in parallel, and calls
// fn with the chunk, the index and the OPRF output of every element. y is
// valid only during the call.
func (qu *Query) outputs(resp *EvalResponse, fn func(chunk, i int, y []byte)) error {
	q, f := qu.q, qu.q.f
	sp := f.hdr.suite.params()
	return parallel(q.workers, len(qu.chunks), func(ci int) error {
		lo, hi := ci*qu.chunk, min((ci+1)*qu.chunk, qu.n)
		evals := make([]group.Element, hi-lo)
		for i := range evals {
			off := (lo + i) * sp.elemLen
			e, err := decodeElement(sp, resp.elems[off:off+sp.elemLen])
			if err != nil {
				return fmt.Errorf("%w: element %d", err, lo+i)
			}
			evals[i] = e
		}
		var pc, ps group.Scalar
		if f.hdr.mode.verifiable() {
			pl := 2 * sp.scalarLen
			var err error
			if pc, ps, err = decodeProof(sp, resp.proofs[ci*pl:(ci+1)*pl]); err != nil {
				return fmt.Errorf("%w: chunk %d: proof does not decode", ErrInvalidProof, ci)
			}
		}
		c, err := q.client()
		if err != nil {
			return err
		}
		err = c.finalize(qu.chunks[ci], evals, resp.elems[lo*sp.elemLen:hi*sp.elemLen], pc, ps, qu.info,
			func(i int, y []byte) { fn(ci, lo+i, y) })
		if errors.Is(err, ErrInvalidProof) {
			return fmt.Errorf("%w: chunk %d", ErrInvalidProof, ci)
		}
		if err != nil {
			return fmt.Errorf("match: finalize chunk %d: %w", ci, err)
		}
		return nil
	})
}
