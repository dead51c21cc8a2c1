package federation

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// Cardinality-only matching (PSI-CA) between nodes (PROTOCOL.md 5.2,
// 5.3). A node with a partner whose policy allows it (Partner.Cardinality)
// publishes, with each filter, a count filter of the same list, signed in
// the same envelopes as the filter (the count filter's own type, 0x13,
// which the signature covers, tells it from a filter), and kept in
// epoch-N.pub beside the publisher's state, so that a restart serves it
// again. The partner fetches it at GET count-filter and sends a batch at
// POST count ([Matcher.Count]); the node authorises the batch as an
// evaluation (partner, kind, size, budget), evaluates it
// ([match.Publisher.EvaluateCount]) and audits it (AuditCount): it never
// learns the count, which only the partner computes.

// countRefused is the refusal of a partner that may not count.
var countRefused = refusal{http.StatusForbidden, CodeCountNotAllowed,
	"cardinality-only queries are not allowed for this partner"}

// countUnit is how many elements of a count batch make one unit of the
// evaluation workers (fairGate), as a chunk of an evaluation does.
const countUnit = 256

// serveCountFilter answers GET count-filter: the current epoch's signed
// count filter, in the envelope the request accepts (as serveFilter,
// without deltas: a count filter has one version an epoch).
func (n *Node) serveCountFilter(w http.ResponseWriter, r *http.Request, p *Partner) {
	if !p.Cardinality {
		f := countRefused
		n.refuse(w, p, &f)
		return
	}
	n.mu.RLock()
	e := n.current
	n.mu.RUnlock()
	switch {
	case e == nil:
		writeError(w, http.StatusServiceUnavailable, CodeNotPublished, "no filter published yet")
		return
	case e.countSigned == nil:
		// Published before a partner was allowed to count: the next
		// publication or rotation makes one.
		writeError(w, http.StatusServiceUnavailable, CodeNotPublished,
			fmt.Sprintf("no count filter in epoch %d: it was published without one; the next publication makes one", e.number))
		return
	}
	e.countSigned.serve(w, r) // one version an epoch: no line of versions
}

// serveCount answers POST count: a match.CountRequest of a partner that
// may count (any other is refused before its body is read), authorised
// on its header as an evaluation is (the key, the size, the kind, the
// budget), then evaluated, reserved against the budget (on disk before
// the answer) and audited, and answered with a match.CountResponse.
func (n *Node) serveCount(w http.ResponseWriter, r *http.Request, p *Partner) {
	if !p.Cardinality {
		// Refused whatever it sends, before a byte of it is read.
		if r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close") // the body is not read (see readRequest)
		}
		f := countRefused
		n.refuse(w, p, &f)
		return
	}
	var req match.CountRequest
	n.serveQuery(w, r, p, match.ParseCountRequestHeader, &req, AuditCount, "counted",
		func(in *incoming) (encoding.BinaryMarshaler, *reservation, int, bool) {
			return n.evaluateCount(w, r, in, &req)
		})
}

// evaluateCount runs a count request's evaluation in the partner's turn
// (fairGate), then reserves its budget (in memory, its write under way):
// a request refused for an invalid element spends nothing, and one over
// the budget is not answered. It answers the errors itself; ok is false
// after one.
func (n *Node) evaluateCount(w http.ResponseWriter, r *http.Request, in *incoming, req *match.CountRequest) (
	resp *match.CountResponse, res *reservation, left int, ok bool) {
	p := in.p
	release, err := n.srv.gate.acquire(r.Context(), p.ID, (req.Len()+countUnit-1)/countUnit)
	if err != nil {
		n.refuse(w, p, busy("the request was cancelled while it waited for its turn"))
		return nil, nil, 0, false
	}
	defer release()
	resp, err = in.e.pub.EvaluateCount(req)
	if err != nil {
		n.refuse(w, p, elementRefusal(err))
		return nil, nil, 0, false
	}
	if res, left, ok = n.reserve(w, in, req.Len()); !ok {
		return nil, nil, 0, false
	}
	return resp, res, left, true
}

// Count asks partner how many of inds are on its list, without learning
// which (cardinality-only matching, PSI-CA): it fetches and verifies the
// partner's signed count filter (pinned identity, signer, validity, and
// no older than the filters and count filters accepted from it before),
// then sends the distinct non-zero indicators kind by kind in batches of
// Config.MaxBatch ([match.Querier.BlindCount]), verifies each answer's
// proof and counts ([match.CountQuery.Count]). The result sums the
// batches. Each batch spends, of the budget the partner grants this
// node, as much as an evaluation of its size. The partner must allow it
// (Partner.Cardinality in its configuration): otherwise a *RemoteError
// with Code CodeCountNotAllowed. A batch refused because the partner
// rotated (CodeUnknownKey, which spent nothing) is sent once again under
// its new count filter. On an error the result holds the batches counted
// before it.
func (m *Matcher) Count(ctx context.Context, partner string, inds []indicator.Indicator) (match.CountResult, error) {
	i := slices.IndexFunc(m.cfg.Partners, func(p Partner) bool { return p.ID == partner })
	if i < 0 {
		return match.CountResult{}, fmt.Errorf("federation: no partner %q", partner)
	}
	c := m.client(&m.cfg.Partners[i])
	if err := c.blockedNow(); err != nil {
		return match.CountResult{}, err
	}
	kinds, byKind := groupByKind(inds)
	var total match.CountResult
	if len(kinds) == 0 {
		return total, nil
	}
	q, err := c.refreshCount(ctx)
	if err != nil {
		return total, err
	}
	for _, k := range kinds {
		for batch := range slices.Chunk(byKind[k], m.cfg.MaxBatch) {
			r, err := c.count(ctx, q, batch)
			var se *stageError
			var re *RemoteError
			if errors.As(err, &se) && errors.As(err, &re) && re.Code == CodeUnknownKey {
				if q, err = c.refreshCount(ctx); err == nil {
					r, err = c.count(ctx, q, batch)
				}
			}
			if err != nil {
				return total, fmt.Errorf("%s: %w", k.Name(), err)
			}
			total.Queried += r.Queried
			total.Shared += r.Shared
			total.ExpectedFalsePositives += r.ExpectedFalsePositives
		}
	}
	return total, nil
}

// count sends one batch of one kind and counts the answer.
func (c *partnerClient) count(ctx context.Context, q *match.Querier, batch []indicator.Indicator) (match.CountResult, error) {
	cq, req, err := q.BlindCount(batch)
	if err != nil {
		return match.CountResult{}, err
	}
	var resp match.CountResponse
	if err := c.post(ctx, "count", "count response", req.Len(), req, &resp); err != nil {
		return match.CountResult{}, err
	}
	c.stats.queried.add(req.Kind(), uint64(req.Len()))
	res, err := cq.Count(&resp)
	if err != nil {
		return match.CountResult{}, fmt.Errorf("federation: partner %s: %w", c.p.ID, err)
	}
	return res, nil
}

// refreshCount fetches the partner's signed count filter if it changed,
// verifies it as a filter is verified (readSignedFilter), checks that it
// is a count filter and no older than the filters and count filters
// accepted from the partner, and returns a querier for it.
func (c *partnerClient) refreshCount(ctx context.Context) (*match.Querier, error) {
	c.mu.Lock()
	etag, held := c.countETag, c.countQuerier
	c.mu.Unlock()
	h := http.Header{}
	h.Set("Accept", acceptFilter)
	if held != nil && etag != "" {
		h.Set("If-None-Match", etag)
	}
	var f *match.Filter
	var now time.Time
	var newETag string
	notModified := false
	err := c.do(ctx, http.MethodGet, "count-filter", nil, h, c.responseLimit("filter", 0), func(resp *http.Response, body io.Reader) error {
		now = c.m.cfg.Now()
		if notModified = resp.StatusCode == http.StatusNotModified; notModified {
			return nil
		}
		var err error
		f, err = readSignedFilter(body, resp.ContentLength, c.p, now)
		newETag = resp.Header.Get("ETag")
		return err
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("partner %s: count filter: %w", c.p.ID, err)
	case notModified && held == nil:
		return nil, fmt.Errorf("partner %s: %w: 304 Not Modified to a request without If-None-Match", c.p.ID, ErrFilterMalformed)
	case notModified && !held.Filter().ValidAt(now):
		return nil, fmt.Errorf("%w: partner %s: count filter", ErrFilterExpired, c.p.ID)
	case notModified:
		return held, nil
	case !f.IsCount():
		return nil, fmt.Errorf("partner %s: %w: a filter where its count filter belongs", c.p.ID, ErrFilterMalformed)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// No older than the filter accepted from the partner (possibly
	// before a restart), nor than the count filter held.
	if sn, ok := c.m.seen.get(c.p.ID); ok {
		if err := sn.countRollback(f); err != nil {
			return nil, fmt.Errorf("%w: partner %s sent a count filter of %v", ErrFilterRollback, c.p.ID, err)
		}
	}
	if cur := c.countQuerier; cur != nil {
		cf := cur.Filter()
		sn := seen{epoch: cf.Epoch(), key: cf.KeyID(), notBefore: cf.NotBefore().Unix()}
		if err := sn.countRollback(f); err != nil {
			return nil, fmt.Errorf("%w: partner %s sent a count filter of %v", ErrFilterRollback, c.p.ID, err)
		}
	}
	if err := c.blockedEpoch(f); err != nil {
		return nil, err
	}
	q, err := match.NewQuerier(f, c.p.querierOptions())
	if err != nil {
		return nil, fmt.Errorf("partner %s: count filter: %w", c.p.ID, err)
	}
	c.countETag, c.countQuerier = newETag, q
	return q, nil
}
