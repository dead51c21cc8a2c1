package match

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/cloudflare/circl/group"
)

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
	workers int
	st      *pubState // what Add and Remove change
	// countFilter is the count filter of the list as published, with
	// PublishOptions.Count; nil otherwise.
	countFilter *Filter
	// countKey is the count filter's key, derived from key (see
	// PrivateKey.countKey), and countHdr the header of its messages.
	countKey *PrivateKey
	countHdr msgHeader
}

// setCountKey derives the count filter's key and header.
func (p *Publisher) setCountKey() error {
	ck, err := p.key.countKey()
	if err != nil {
		return err
	}
	p.countKey = ck
	p.countHdr = msgHeader{suite: p.hdr.suite, mode: p.hdr.mode, keyID: ck.KeyID()}
	return nil
}

// pubState is the part of a Publisher that [Publisher.Add] and
// [Publisher.Remove] change, under mu. A filter, once published, is never
// changed: a new version is a new Filter.
type pubState struct {
	mu      sync.RWMutex
	addMu   sync.Mutex // one Add at a time
	filter  *Filter
	index   []indexEntry // sorted by tag, then entry: one per entry
	labels  sparseStrings
	refs    sparseStrings
	entries int
	// capacity is the number of distinct indicators the filter is sized
	// for.
	capacity int
	// added holds the tags new to the filter since version 0, in order,
	// and ends[v-1] the length of added at version v: the tags of a
	// delta. pad holds the padding seeds ([Publisher.AddPadded]), in
	// order, and padEnds[v-1] the length of pad at version v; len(padEnds)
	// is len(ends), and ends[i]+padEnds[i] increases with i.
	added   []tag
	ends    []int
	pad     []seed
	padEnds []int
	// removed holds the entries removed ([Publisher.Remove]), and
	// removedOrder the same entries in the order removed (sorted for
	// those a restored state held): a [Mark] counts them. Set both with
	// markRemoved.
	removed      map[uint32]bool
	removedOrder []uint32
}

type indexEntry struct {
	tag   tag
	entry uint32
}

// Filter returns the filter to publish: its current version. A Filter
// is never changed; [Publisher.Add] makes a new version.
func (p *Publisher) Filter() *Filter {
	p.st.mu.RLock()
	defer p.st.mu.RUnlock()
	return p.st.filter
}

// PublicKey returns the public key.
func (p *Publisher) PublicKey() *PublicKey { return p.key.pub }

// Entries returns the number of entries given to [Publish], duplicates
// included.
func (p *Publisher) Entries() int {
	p.st.mu.RLock()
	defer p.st.mu.RUnlock()
	return p.st.entries
}

// CountPublicKey returns the public key of the publisher's count key, the
// key of its count filters ([PrivateKey.CountPublicKey]).
func (p *Publisher) CountPublicKey() *PublicKey { return p.countKey.pub }

// Evaluate evaluates a querier's batch with the publisher's key: the
// publisher side of the query. It checks suite, mode and key id, decodes
// every element (refusing invalid ones), evaluates the chunks in parallel
// and proves each in the verifiable modes. The cost is one scalar
// multiplication per element, plus one more per element and about two per
// chunk for the proofs; chunks hold at least MinChunkSize elements.
// Authorise the request (its [EvalRequest.Kind] and [EvalRequest.Len])
// and [Publisher.Check] it before calling Evaluate.
func (p *Publisher) Evaluate(req *EvalRequest) (*EvalResponse, error) {
	return p.evaluate(req, kindInfo(req.kind), nil)
}

// Check checks a request against the publisher's suite, mode and key and
// decodes every element (RFC 9497 Section 2.1, DeserializeElement),
// refusing the first invalid one with an error wrapping ErrInvalidElement
// that names it. It does no scalar multiplication: decoding costs under a
// tenth of an evaluation. [Publisher.Evaluate] checks the same as it goes;
// a server calls Check first, before it spends a partner's budget, so that
// a batch it refuses costs the partner nothing and the publisher no
// evaluation.
func (p *Publisher) Check(req *EvalRequest) error {
	if err := p.checkRequest(req); err != nil {
		return err
	}
	sp := p.hdr.suite.params()
	return parallel(p.workers, numChunks(req.count, req.chunk), func(c int) error {
		for i := c * req.chunk; i < min((c+1)*req.chunk, req.count); i++ {
			if _, err := decodeElement(sp, req.elems[i*sp.elemLen:(i+1)*sp.elemLen]); err != nil {
				return fmt.Errorf("%w: element %d", err, i)
			}
		}
		return nil
	})
}

// checkRequest checks a request's header against the publisher's, and
// refuses the zero EvalRequest, which no decoder returns.
func (p *Publisher) checkRequest(req *EvalRequest) error {
	if req.count == 0 || req.chunk == 0 {
		return fmt.Errorf("%w: request of zero elements", ErrEmptyBatch)
	}
	return req.hdr.check(&p.hdr)
}

// evaluate takes the POPRF info and, for known-answer tests, the proof
// randomness, one scalar per chunk; nil draws it from crypto/rand.
func (p *Publisher) evaluate(req *EvalRequest, info []byte, proofR []group.Scalar) (*EvalResponse, error) {
	if err := p.checkRequest(req); err != nil {
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
		var proof []byte
		if p.hdr.mode.verifiable() {
			proof = resp.proofs[c*2*sp.scalarLen : (c+1)*2*sp.scalarLen]
		}
		return shared.clone().blindEvaluate(blinded,
			req.elems[lo*sp.elemLen:hi*sp.elemLen],
			resp.elems[lo*sp.elemLen:hi*sp.elemLen], proof, r)
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// A ConfirmedEntry is what a publisher learns of a partner's confirmed
// hit: which of its own entries it was. A hit on an indicator that
// several entries hold confirms each of them.
type ConfirmedEntry struct {
	Entry int    // position of the entry in the sequence given to Publish
	Label string // the entry's label
	Ref   string // the entry's reference
}

// Confirm answers a querier's confirm tags: for each, whether it is the
// tag of an indicator on the publisher's list and, if so, the labels of
// the entries that hold it (non-empty ones, each once, in entry order).
// It returns the response to send and the entries that were hit. Tags
// the publisher does not hold (Bloom false positives) are answered "no".
// A request that repeats a tag, any tag, is refused (ErrMalformed) before
// any tag is looked up (PROTOCOL.md 2.4): a querier never needs to (its
// indicators are distinct, so are their tags); a querier that knows one
// tag must not be able to make the publisher send its labels a million
// times; and a refusal that depended on the tag being an entry would tell
// the querier so without a confirmation being answered, recorded or
// charged.
func (p *Publisher) Confirm(req *ConfirmRequest) (*ConfirmResponse, []ConfirmedEntry, error) {
	if err := req.hdr.check(&p.hdr); err != nil {
		return nil, nil, err
	}
	if repeatsTag(req.tags) {
		return nil, nil, malformed("confirm request repeats a tag")
	}
	resp := &ConfirmResponse{hdr: p.hdr, results: make([]confirmResult, req.Len())}
	p.st.mu.RLock()
	defer p.st.mu.RUnlock()
	var hits []ConfirmedEntry
	for i := range resp.results {
		var t tag
		copy(t[:], req.tags[i*tagSize:])
		lo, found := slices.BinarySearchFunc(p.st.index, t, func(e indexEntry, t tag) int {
			return bytes.Compare(e.tag[:], t[:])
		})
		if !found {
			continue
		}
		run := p.st.index[lo:endOfTag(p.st.index, lo)]
		r := confirmResult{hit: true}
		var seen map[string]bool // labels of the run so far; runs of one need none
		if len(run) > 1 {
			seen = make(map[string]bool, len(run))
		}
		for _, e := range run {
			if p.st.removed[e.entry] {
				continue
			}
			ce := ConfirmedEntry{Entry: int(e.entry), Label: p.st.labels.get(int(e.entry)), Ref: p.st.refs.get(int(e.entry))}
			if ce.Label != "" && !seen[ce.Label] {
				if seen != nil {
					seen[ce.Label] = true
				}
				r.labels = append(r.labels, ce.Label)
			}
			hits = append(hits, ce)
		}
		if len(r.labels) == 0 && !slices.ContainsFunc(run, func(e indexEntry) bool { return !p.st.removed[e.entry] }) {
			r = confirmResult{withdrawn: true} // every entry holding it is removed
		}
		resp.results[i] = r
	}
	return resp, hits, nil
}

// repeatsTag reports whether a tag occurs twice in tags (count × tagSize
// bytes). It sorts a copy, 16 bytes a tag (16 MiB at MaxBatch), rather
// than filling a map of a million tags.
func repeatsTag(tags []byte) bool {
	n := len(tags) / tagSize
	if n < 2 {
		return false
	}
	ts := make([][2]uint64, n)
	for i := range ts {
		t := tags[i*tagSize:]
		ts[i] = [2]uint64{binary.BigEndian.Uint64(t), binary.BigEndian.Uint64(t[8:])}
	}
	slices.SortFunc(ts, func(a, b [2]uint64) int {
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	})
	for i := 1; i < n; i++ {
		if ts[i] == ts[i-1] {
			return true
		}
	}
	return false
}

// Format prints the suite, mode, key id and size, never the key.
func (p Publisher) Format(f fmt.State, verb rune) {
	if p.key == nil {
		fmt.Fprint(f, "match.Publisher{}")
		return
	}
	fmt.Fprintf(f, "match.Publisher{%v %v %v entries=%d}", p.hdr.suite, p.hdr.mode, p.hdr.keyID, p.Entries())
}

// String prints the suite, mode, key id and size.
func (p Publisher) String() string { return fmt.Sprint(p) }

// GoString prints the suite, mode, key id and size.
func (p Publisher) GoString() string { return fmt.Sprint(p) }

// sparseStrings holds the non-empty strings of some entries, by entry
// number, set in increasing order. It costs nothing for entries without
// one, and its size follows the strings it holds, never the largest entry
// number (a restored state cannot make it allocate for entries it does not
// carry). The strings' bytes sit end to end in one array, 12 bytes an
// entry beside them (a Go string apiece would cost 16 bytes and an
// allocation more), and a string equal to the one set before it is
// stored once: feeds often give a run of entries one label.
type sparseStrings struct {
	at   []uint32 // entry numbers, increasing
	span []uint64 // where at[i]'s string is: offset in data << spanLenBits | length
	data []byte
}

// spanLenBits holds a length up to MaxLabelLen.
const spanLenBits = 11

// set records v for entry i, which must be above every entry set before.
func (ss *sparseStrings) set(i int, v string) {
	if v == "" {
		return
	}
	if n := len(ss.span); n > 0 && string(ss.bytes(n-1)) == v {
		ss.span = append(ss.span, ss.span[n-1])
	} else {
		ss.span = append(ss.span, uint64(len(ss.data))<<spanLenBits|uint64(len(v)))
		ss.data = append(ss.data, v...)
	}
	ss.at = append(ss.at, uint32(i))
}

// reserve makes room for n strings, at most maxPresize, before the first
// is set, if v, the first, is not empty; otherwise it does nothing. The
// strings' bytes are not reserved: runs of one string share them.
func (ss *sparseStrings) reserve(n int, v string) {
	if len(ss.at) > 0 || v == "" || n <= 0 {
		return
	}
	n = min(n, maxPresize)
	ss.at, ss.span = make([]uint32, 0, n), make([]uint64, 0, n)
}

// clip gives back room reserved well above the strings held.
func (ss *sparseStrings) clip() {
	if n := len(ss.at); cap(ss.at)-n > n/8 {
		ss.at = append(make([]uint32, 0, n), ss.at...)
		ss.span = append(make([]uint64, 0, n), ss.span...)
	}
}

// len returns the number of strings held.
func (ss *sparseStrings) len() int { return len(ss.at) }

// bytes returns the j-th string held, not a copy: read, never write it.
func (ss *sparseStrings) bytes(j int) []byte {
	off, n := ss.span[j]>>spanLenBits, ss.span[j]&(1<<spanLenBits-1)
	return ss.data[off : off+n : off+n]
}

// get returns entry i's string, or "" if it has none.
func (ss *sparseStrings) get(i int) string {
	if j, ok := slices.BinarySearch(ss.at, uint32(i)); ok {
		return string(ss.bytes(j))
	}
	return ""
}

// is reports whether entry i's string is v.
func (ss *sparseStrings) is(i int, v string) bool {
	if j, ok := slices.BinarySearch(ss.at, uint32(i)); ok {
		return string(ss.bytes(j)) == v
	}
	return v == ""
}
