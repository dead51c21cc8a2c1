package match

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"slices"

	"github.com/cloudflare/circl/group"
	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// Cardinality-only matching (PSI-CA): the querier learns how many of its
// indicators are on the publisher's list, and not which.
//
// The querier blinds its whole batch with one secret scalar r (one blind
// for the batch, where a revealing query has one per element) and sends
// r·H(xᵢ) ([Querier.BlindCount]). The publisher multiplies each element
// by its key and returns the results in a uniformly random order
// ([Publisher.EvaluateCount]). The querier multiplies each by r⁻¹, getting
// k·H(xᵢ) for its inputs but not knowing which is whose, and tests each
// against the publisher's count filter, which holds the count tags
// SHA-256("fedmatch-v1 count tag" || k·H(y)) of the publisher's list
// ([Publisher.CountFilter]; the filter a revealing query uses holds tags
// of the RFC 9497 output, which hashes the input with the element and so
// cannot be computed without knowing which input an element is for).

// A CountRequest is a querier's batch of indicators of one kind, all
// blinded with one scalar, for a cardinality-only evaluation. It reveals
// the kind and the number of distinct indicators.
type CountRequest struct {
	hdr   msgHeader
	kind  string
	count int
	elems []byte // count × Ne
}

// Kind returns the name of the kind the batch declares.
func (r *CountRequest) Kind() string { return r.kind }

// Len returns the number of elements.
func (r *CountRequest) Len() int { return r.count }

// Suite returns the request's suite.
func (r *CountRequest) Suite() Suite { return r.hdr.suite }

// Mode returns the request's mode.
func (r *CountRequest) Mode() Mode { return r.hdr.mode }

// KeyID returns the id of the key the request is for.
func (r *CountRequest) KeyID() KeyID { return r.hdr.keyID }

// MarshalBinary encodes the request (PROTOCOL.md, "Count request"):
//
//	header(type 0x11) suite mode keyID[16]
//	kindLen:u8 kind count:u32 elements[count][Ne]
func (r *CountRequest) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, msgHeaderLen+1+len(r.kind)+4+len(r.elems))
	b = r.hdr.append(b, wire.TypeCountRequest)
	b = append(b, byte(len(r.kind)))
	b = append(b, r.kind...)
	b = binary.BigEndian.AppendUint32(b, uint32(r.count))
	return append(b, r.elems...), nil
}

// UnmarshalBinary decodes a request, checking lengths, the kind name and
// the limits (at most MaxBatch elements) before allocating. Elements are
// decoded, and refused if invalid, by [Publisher.EvaluateCount].
func (r *CountRequest) UnmarshalBinary(data []byte) error {
	s := cryptobyte.String(data)
	h, err := readCountHeader(&s)
	if err != nil {
		return err
	}
	q := CountRequest{hdr: h.hdr, kind: h.kind, count: h.count}
	if q.elems, err = readFixed(&s, q.count, q.hdr.suite.params().elemLen, "elements"); err != nil {
		return err
	}
	if err := checkEmpty(s, "count request"); err != nil {
		return err
	}
	*r = q
	return nil
}

// A CountResponse is the publisher's answer to a [CountRequest]: the
// evaluated elements in a random order and, in the verifiable modes, a
// DLEQ proof that their sum is the key times the sum of the blinded
// elements.
type CountResponse struct {
	hdr   msgHeader
	count int
	elems []byte // count × Ne, shuffled
	proof []byte // 2·Ns, verifiable modes only
}

// Len returns the number of elements.
func (r *CountResponse) Len() int { return r.count }

// KeyID returns the id of the key the response claims to be made with.
func (r *CountResponse) KeyID() KeyID { return r.hdr.keyID }

// MarshalBinary encodes the response (PROTOCOL.md, "Count response"):
//
//	header(type 0x12) suite mode keyID[16]
//	count:u32 elements[count][Ne] proof[2·Ns] (verifiable modes)
func (r *CountResponse) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, msgHeaderLen+4+len(r.elems)+len(r.proof))
	b = r.hdr.append(b, wire.TypeCountResponse)
	b = binary.BigEndian.AppendUint32(b, uint32(r.count))
	b = append(b, r.elems...)
	return append(b, r.proof...), nil
}

// UnmarshalBinary decodes a response, checking lengths and the limits
// before allocating. Elements and the proof are decoded and verified by
// [CountQuery.Count].
func (r *CountResponse) UnmarshalBinary(data []byte) error {
	s := cryptobyte.String(data)
	var q CountResponse
	if err := q.hdr.read(&s, wire.TypeCountResponse); err != nil {
		return err
	}
	var err error
	if q.count, err = readCount(&s, "elements", MaxBatch); err != nil {
		return err
	}
	if q.count == 0 {
		return fmt.Errorf("%w: count response of zero elements", ErrEmptyBatch)
	}
	sp := q.hdr.suite.params()
	if q.elems, err = readFixed(&s, q.count, sp.elemLen, "elements"); err != nil {
		return err
	}
	if q.hdr.mode.verifiable() {
		if q.proof, err = readFixed(&s, 1, 2*sp.scalarLen, "proof"); err != nil {
			return err
		}
	}
	if err := checkEmpty(s, "count response"); err != nil {
		return err
	}
	*r = q
	return nil
}

// CountFilter returns the count filter of the list as published, or nil
// if the publisher was not made with [PublishOptions.Count]. It answers
// cardinality-only queries ([Querier.BlindCount]) and nothing else.
//
// It holds the list given to [Publish]. Entries added later
// ([Publisher.Add]) are not in it and entries removed are still counted,
// until the next publication: a Bloom filter cannot forget, and a
// cardinality-only query has no confirm step to ask the publisher. A
// restored publisher ([RestorePublisher]) has none; keep the encoding of
// the one published beside the state.
func (p *Publisher) CountFilter() *Filter { return p.countFilter }

// EvaluateCount evaluates a cardinality-only request: it multiplies every
// blinded element by the key of the request's kind, as [Publisher.Evaluate]
// does, returns the results in an order drawn uniformly at random from
// crypto/rand, and in the verifiable modes proves with one DLEQ proof that
// the results sum to the key times the sum of the blinded elements. It
// refuses an element that is not a valid encoding, or the identity, and a
// request whose elements sum to the identity.
//
// Like Evaluate, it does not authorise or count the request: a server
// checks the partner's policy and budget (Len, Kind) first.
func (p *Publisher) EvaluateCount(req *CountRequest) (*CountResponse, error) {
	return p.evaluateCount(req, nil, rand.Reader)
}

// countChunk is how many elements one goroutine evaluates at a time.
const countChunk = 256

// evaluateCount takes, for tests, the proof randomness (nil draws it from
// crypto/rand) and the source of the shuffle's seed.
func (p *Publisher) evaluateCount(req *CountRequest, r group.Scalar, rnd io.Reader) (*CountResponse, error) {
	if req.count == 0 {
		return nil, fmt.Errorf("%w: request of zero elements", ErrEmptyBatch)
	}
	if err := req.hdr.check(&p.countHdr); err != nil {
		return nil, err
	}
	ev, err := newEvaluator(p.countKey, p.hdr.mode, kindInfo(req.kind))
	if err != nil {
		return nil, err
	}
	sp, n := ev.sp, req.count
	el := sp.elemLen
	out := make([]byte, n*el)
	chunks := numChunks(n, countChunk)
	sumC, sumD := make([]group.Element, chunks), make([]group.Element, chunks)
	err = parallel(p.workers, chunks, func(c int) error {
		e := ev.clone()
		sc, sd := sp.group.Identity(), sp.group.Identity()
		for i := c * countChunk; i < min((c+1)*countChunk, n); i++ {
			b, err := decodeElement(sp, req.elems[i*el:(i+1)*el])
			if err != nil {
				return fmt.Errorf("%w: element %d", err, i)
			}
			// Constant time in the key (for P-256, see the package doc).
			d := sp.group.NewElement().Mul(b, e.evalKey)
			enc, err := d.MarshalBinaryCompress()
			if err != nil {
				return err
			}
			if len(enc) != el {
				return fmt.Errorf("%w: evaluated element %d", ErrInvalidElement, i)
			}
			copy(out[i*el:], enc)
			sc.Add(sc, b)
			sd.Add(sd, d)
		}
		sumC[c], sumD[c] = sc, sd
		return nil
	})
	if err != nil {
		return nil, err
	}
	resp := &CountResponse{hdr: p.countHdr, count: n, elems: out}
	if p.hdr.mode.verifiable() {
		if resp.proof, err = ev.proveSum(sumC, sumD, r); err != nil {
			return nil, err
		}
	}
	if err := shuffle(out, el, rnd); err != nil {
		return nil, err
	}
	return resp, nil
}

// proveSum proves, for the sums C and D of the partial sums cs and ds,
// that D = evalKey·C: RFC 9497's GenerateProof over the one pair (C, D),
// as Evaluate proves a batch (in POPRF the relation is C = t·D with t the
// tweaked key, and the proof is over (D, C)).
func (ev *evaluator) proveSum(cs, ds []group.Element, r group.Scalar) ([]byte, error) {
	g := ev.sp.group
	c, d := g.Identity(), g.Identity()
	for i := range cs {
		c.Add(c, cs[i])
		d.Add(d, ds[i])
	}
	if c.IsIdentity() {
		// Distinct hashed inputs blinded with one nonzero scalar sum to
		// the identity with negligible probability; a crafted request
		// could, and a proof over it would prove nothing.
		return nil, malformed("the blinded elements sum to the identity")
	}
	cEnc, err := c.MarshalBinaryCompress()
	if err != nil {
		return nil, err
	}
	dEnc, err := d.MarshalBinaryCompress()
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = g.RandomScalar(rand.Reader)
	}
	proof := make([]byte, 2*ev.sp.scalarLen)
	if ev.mode == ModePOPRF {
		err = ev.prove([]group.Element{d}, dEnc, cEnc, r, proof)
	} else {
		err = ev.prove([]group.Element{c}, cEnc, dEnc, r, proof)
	}
	return proof, err
}

// shuffle permutes the size-byte items of b uniformly at random: a
// Fisher-Yates shuffle driven by ChaCha8 seeded with 32 bytes from rnd.
func shuffle(b []byte, size int, rnd io.Reader) error {
	var seed [32]byte
	if _, err := io.ReadFull(rnd, seed[:]); err != nil {
		return fmt.Errorf("match: shuffle seed: %w", err)
	}
	tmp := make([]byte, size)
	mrand.New(mrand.NewChaCha8(seed)).Shuffle(len(b)/size, func(i, j int) {
		x, y := b[i*size:(i+1)*size], b[j*size:(j+1)*size]
		copy(tmp, x)
		copy(x, y)
		copy(y, tmp)
	})
	clear(seed[:])
	return nil
}

// A CountQuery is a cardinality-only query in flight: it holds the
// batch's blind (secret) between [Querier.BlindCount] and
// [CountQuery.Count].
type CountQuery struct {
	q     *Querier
	info  []byte
	n     int
	blind group.Scalar  // secret; zeroed by Count
	sumC  group.Element // the sum of the blinded elements
	done  bool
}

// A CountResult is what a cardinality-only query learns.
type CountResult struct {
	// Queried is the number of distinct indicators in the batch.
	Queried int
	// Shared is the number of them that pass the publisher's count
	// filter: those on its list, and any false positives.
	Shared int
	// ExpectedFalsePositives is the number of indicators expected to
	// pass the filter without being on the list: Queried − Shared times
	// the filter's estimated false-positive rate. At the default rate,
	// 10^-9, it is far below one for any batch.
	ExpectedFalsePositives float64
}

// BlindCount blinds indicators, all of one kind, with one secret scalar
// for a cardinality-only evaluation by the publisher, and returns the
// query state and the request to send. The querier must have been made
// with the publisher's count filter ([Publisher.CountFilter]); with a
// filter it returns ErrFilterUse. Repeated indicators are merged, so that
// the publisher does not see equal elements. The request reveals the kind
// and the number of distinct indicators.
func (q *Querier) BlindCount(inds []indicator.Indicator) (*CountQuery, *CountRequest, error) {
	return q.blindCount(inds, nil)
}

func (q *Querier) blindCount(inds []indicator.Indicator, blind group.Scalar) (*CountQuery, *CountRequest, error) {
	if !q.f.count {
		return nil, nil, fmt.Errorf("%w: BlindCount needs the publisher's count filter", ErrFilterUse)
	}
	kind, uniq, err := distinctOfOneKind(inds)
	if err != nil {
		return nil, nil, err
	}
	sp := q.f.hdr.suite.params()
	if blind == nil {
		blind = sp.group.RandomNonZeroScalar(rand.Reader)
	}
	n, el := len(uniq), sp.elemLen
	req := &CountRequest{hdr: q.f.hdr, kind: kind.Name(), count: n, elems: make([]byte, n*el)}
	chunks := numChunks(n, countChunk)
	sums := make([]group.Element, chunks)
	err = parallel(q.workers, chunks, func(ci int) error {
		c, err := q.client()
		if err != nil {
			return err
		}
		r := blind.Copy()
		defer r.SetUint64(0)
		sum := sp.group.Identity()
		var input []byte
		for i := ci * countChunk; i < min((ci+1)*countChunk, n); i++ {
			input = appendInput(input[:0], uniq[i])
			e, err := c.blindOne(input, r)
			if err != nil {
				return fmt.Errorf("match: blind: indicator %d: %w", i, err)
			}
			enc, err := e.MarshalBinaryCompress()
			if err != nil {
				return err
			}
			copy(req.elems[i*el:], enc)
			sum.Add(sum, e)
		}
		sums[ci] = sum
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sumC := sp.group.Identity()
	for _, s := range sums {
		sumC.Add(sumC, s)
	}
	qu := &CountQuery{q: q, info: kindInfo(kind.Name()), n: n, blind: blind, sumC: sumC}
	return qu, req, nil
}

// distinctOfOneKind returns the kind of inds, which must all be of one,
// and the distinct indicators in first-seen order, at most MaxBatch.
func distinctOfOneKind(inds []indicator.Indicator) (*indicator.Kind, []indicator.Indicator, error) {
	if len(inds) == 0 {
		return nil, nil, ErrEmptyBatch
	}
	kind := inds[0].Kind()
	if kind == nil {
		return nil, nil, fmt.Errorf("%w: indicator 0 is the zero Indicator", indicator.ErrInvalid)
	}
	seen := make(map[indicator.Indicator]struct{}, len(inds))
	uniq := make([]indicator.Indicator, 0, len(inds))
	for i, ind := range inds {
		if ind.Kind() != kind {
			if ind.Kind() == nil {
				return nil, nil, fmt.Errorf("%w: indicator %d is the zero Indicator", indicator.ErrInvalid, i)
			}
			return nil, nil, fmt.Errorf("%w: indicator %d is %s, batch is %s", ErrMixedKinds, i, ind.Kind().Name(), kind.Name())
		}
		if _, dup := seen[ind]; !dup {
			seen[ind] = struct{}{}
			uniq = append(uniq, ind)
		}
	}
	if len(uniq) > MaxBatch {
		return nil, nil, fmt.Errorf("%w: %d indicators, limit %d", ErrBatchTooLarge, len(uniq), MaxBatch)
	}
	return kind, uniq, nil
}

// Len returns the number of distinct indicators in the query.
func (cq *CountQuery) Len() int { return cq.n }

// Count checks the publisher's response and returns how many of the
// query's indicators are on its list. In the verifiable modes it first
// verifies the proof that the response's elements sum to the key (the
// filter's, tweaked for the kind in POPRF) times the request's; a proof
// that does not verify gives ErrInvalidProof. It refuses a response that
// repeats an element (ErrCountResponse), one of another count
// (ErrResponseMismatch) or for another key. Count may be called once; the
// blind is erased whatever the outcome.
//
// The proof covers the sum, not each element: see the package
// documentation for what a publisher can still do to a count.
func (cq *CountQuery) Count(resp *CountResponse) (CountResult, error) {
	if cq.done {
		return CountResult{}, fmt.Errorf("match: count query already counted")
	}
	cq.done = true
	defer cq.blind.SetUint64(0)
	q, f := cq.q, cq.q.f
	if err := resp.hdr.check(&f.hdr); err != nil {
		return CountResult{}, err
	}
	if resp.count != cq.n || len(resp.elems) != cq.n*f.hdr.suite.params().elemLen {
		return CountResult{}, fmt.Errorf("%w: %d elements for a query of %d", ErrResponseMismatch, resp.count, cq.n)
	}
	sp, n := f.hdr.suite.params(), cq.n
	el := sp.elemLen
	chunks := numChunks(n, countChunk)
	evals := make([]group.Element, n)
	sums := make([]group.Element, chunks)
	err := parallel(q.workers, chunks, func(c int) error {
		sum := sp.group.Identity()
		for i := c * countChunk; i < min((c+1)*countChunk, n); i++ {
			e, err := decodeElement(sp, resp.elems[i*el:(i+1)*el])
			if err != nil {
				return fmt.Errorf("%w: element %d", err, i)
			}
			evals[i] = e
			sum.Add(sum, e)
		}
		sums[c] = sum
		return nil
	})
	if err != nil {
		return CountResult{}, err
	}
	if f.hdr.mode.verifiable() {
		if err := cq.verifySum(sums, resp.proof); err != nil {
			return CountResult{}, err
		}
	}
	inv := sp.group.NewScalar().Inv(cq.blind)
	defer inv.SetUint64(0)
	tags := make([]tag, n)
	hits := make([]int, chunks)
	err = parallel(q.workers, chunks, func(c int) error {
		r := inv.Copy()
		defer r.SetUint64(0)
		pos := newPositioner()
		u := sp.group.NewElement()
		for i := c * countChunk; i < min((c+1)*countChunk, n); i++ {
			// N = blind⁻¹ · k·blind·H(x) = k·H(x), constant time in the blind.
			u.Mul(evals[i], r)
			enc, err := u.MarshalBinaryCompress()
			if err != nil {
				return err
			}
			tags[i] = deriveCountTag(enc)
			if f.contains(pos, tags[i]) {
				hits[c]++
			}
		}
		return nil
	})
	if err != nil {
		return CountResult{}, err
	}
	slices.SortFunc(tags, func(a, b tag) int { return bytes.Compare(a[:], b[:]) })
	for i := 1; i < n; i++ {
		if tags[i] == tags[i-1] {
			return CountResult{}, ErrCountResponse
		}
	}
	res := CountResult{Queried: n}
	for _, h := range hits {
		res.Shared += h
	}
	res.ExpectedFalsePositives = float64(n-res.Shared) * f.EstimatedFalsePositiveRate()
	return res, nil
}

// verifySum verifies the publisher's proof that the sum of the evaluated
// elements (the sum of the partial sums ds) is the key times the sum of
// the blinded elements: VerifyProof of RFC 9497 Section 2.2.2 over the
// one pair, as Finalize verifies a chunk.
func (cq *CountQuery) verifySum(ds []group.Element, proof []byte) error {
	f := cq.q.f
	sp := f.hdr.suite.params()
	d := sp.group.Identity()
	for _, x := range ds {
		d.Add(d, x)
	}
	pc, ps, err := decodeProof(sp, proof)
	if err != nil {
		return err
	}
	cEnc, err := cq.sumC.MarshalBinaryCompress()
	if err != nil {
		return err
	}
	dEnc, err := d.MarshalBinaryCompress()
	if err != nil {
		return err
	}
	if len(cEnc) != sp.elemLen || len(dEnc) != sp.elemLen {
		// A sum that is the identity: the publisher refuses to prove
		// over it, and so does the querier.
		return ErrInvalidProof
	}
	c, err := cq.q.client()
	if err != nil {
		return err
	}
	ok := false
	switch f.hdr.mode {
	case ModeVOPRF:
		ok = c.verify(c.pub, c.pubEnc, []group.Element{cq.sumC}, []group.Element{d}, cEnc, dEnc, pc, ps)
	case ModePOPRF:
		key, keyEnc, err := c.tweakedKey(cq.info)
		if err != nil {
			return err
		}
		ok = c.verify(key, keyEnc, []group.Element{d}, []group.Element{cq.sumC}, dEnc, cEnc, pc, ps)
	}
	if !ok {
		return ErrInvalidProof
	}
	return nil
}
