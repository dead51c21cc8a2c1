package federation

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// A RemoteError is an error answered by a partner's node.
type RemoteError struct {
	Partner string
	Status  int    // HTTP status
	Code    string // one of the Code constants
	Message string
	// RetryAfter is the answer's Retry-After, if it gave one in seconds:
	// when a request refused as CodeBusy may be sent again. The client
	// does so itself, a few times, before it reports the error.
	RetryAfter time.Duration
}

// Error quotes the partner's code and message: they are the partner's
// text, which must not be able to add lines to this node's logs or output.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("federation: partner %s: %d %q: %q", e.Partner, e.Status, e.Code, e.Message)
}

// A PartnerResult is what matching against one partner gave.
type PartnerResult struct {
	Partner string
	Epoch   uint64      // the partner's epoch that answered
	Hits    []match.Hit // the indicators the partner holds, with the labels it released
	// Withdrawn are indicators the partner answered "withdrawn" about:
	// on its list when its filter was made, every entry holding them
	// removed since (PROTOCOL.md section 2.8). They are not hits; show
	// them as visibly, since the answer tells the partner that this node
	// holds them as a hit would.
	Withdrawn  []indicator.Indicator
	Queried    int // distinct indicators sent
	Candidates int // indicators that passed the partner's filter
	// Err says what failed, if anything; other kinds may still have hits.
	// With errors.Is(Err, match.ErrMisbehaviour) the partner answered
	// "not an entry" about more indicators than its filter's
	// false-positive rate explains: Hits holds the hits it did confirm,
	// and it is not queried again in its epoch (ErrPartnerBlocked).
	Err error
}

// A Matcher matches indicators against partners' filters: the querying
// half of a node, which needs no state directory. Use it in a tool that
// queries while a Node elsewhere (with the same identity) publishes; a
// Node includes one. Its methods may be called concurrently.
type Matcher struct {
	cfg *Config

	certMu sync.RWMutex
	cert   *tls.Certificate

	clientsMu sync.Mutex
	clients   map[string]*partnerClient

	// audit, if not nil (a Node's Matcher), records partners'
	// misbehaviour.
	audit *auditLog
	// store, if not nil (a Node's Matcher), keeps the standing matches;
	// seen keeps the last filter accepted from each partner, on disk
	// with a store.
	store    store
	seen     *seenBook
	standing atomic.Bool // a standing match keeps its state in store
}

// NewMatcher returns a Matcher for the partners of c. c.StateDir,
// Watchlist, OnHit and the epoch settings are not used.
func NewMatcher(c *Config) (*Matcher, error) {
	cfg, err := c.check(false)
	if err != nil {
		return nil, err
	}
	return newMatcher(cfg)
}

func newMatcher(cfg *Config) (*Matcher, error) {
	m := &Matcher{cfg: cfg, clients: map[string]*partnerClient{}, seen: &seenBook{seen: map[string]seen{}}}
	if cfg.TLSCertificate != nil {
		m.cert = cfg.TLSCertificate
	} else if err := m.renewCertificate(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Matcher) renewCertificate() error {
	cert, err := SelfSignedCertificate(m.cfg.ID, m.cfg.Identity, m.cfg.Now(), 365*24*time.Hour)
	if err != nil {
		return err
	}
	m.certMu.Lock()
	m.cert = &cert
	m.certMu.Unlock()
	m.cfg.Logger.Info("self-signed TLS certificate made", "not_after", cert.Leaf.NotAfter)
	return nil
}

func (m *Matcher) certificate() *tls.Certificate {
	m.certMu.RLock()
	defer m.certMu.RUnlock()
	return m.cert
}

// partnerClient talks to one partner's node. It keeps the partner's last
// verified filter, refetched with If-None-Match.
type partnerClient struct {
	m  *Matcher
	p  *Partner
	hc *http.Client

	mu      sync.Mutex
	etag    string
	querier *match.Querier
	gen     string // the line of versions querier's filter belongs to
	blocked *block // set when the partner misbehaved (misbehaviour.go)

	countETag    string
	countQuerier *match.Querier // of the partner's count filter (count.go)

	stats clientStats // for Node.Metrics (metrics.go)
}

func (m *Matcher) client(p *Partner) *partnerClient {
	m.clientsMu.Lock()
	defer m.clientsMu.Unlock()
	c := m.clients[p.ID]
	if c == nil {
		tr := &http.Transport{
			TLSClientConfig:     m.clientTLSConfig(p),
			ForceAttemptHTTP2:   true,
			TLSHandshakeTimeout: 30 * time.Second,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     2 * time.Minute,
		}
		c = &partnerClient{m: m, p: p, hc: &http.Client{
			Transport: tr,
			// Never follow a redirect: it would resend an evaluation, or
			// leave the pinned TLS connection.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
		m.clients[p.ID] = c
	}
	return c
}

// responseLimit bounds a partner's answer to a request of n elements or
// tags: a signed filter of the partner's maximum size; an evaluation
// response of n elements (at most 33 bytes each) and their proofs (at
// most 64 bytes per element); a confirm response of n answers, each with
// up to MaxRepeats labels of MaxLabelLen bytes.
func (c *partnerClient) responseLimit(path string, n int) int64 {
	switch path {
	case "filter":
		return c.p.maxFilterBytes() + filterEnvelopeMax
	case "evaluate":
		return 4096 + int64(n)*(33+64)
	case "count":
		return 4096 + int64(n)*33 // n elements, one proof
	}
	return 4096 + int64(n)*(2+match.MaxRepeats*(2+match.MaxLabelLen))
}

// maxFilterBytes is the largest filter encoding accepted from the
// partner.
func (p *Partner) maxFilterBytes() int64 {
	if p.MaxFilterBytes > 0 {
		return p.MaxFilterBytes
	}
	return match.DefaultMaxFilterBytes
}

// querierOptions are the options of the partner's queriers: its maxima.
func (p *Partner) querierOptions() *match.QuerierOptions {
	return &match.QuerierOptions{MaxEntries: p.MaxFilterEntries, MaxFilterBytes: p.maxFilterBytes()}
}

// maxErrorBody bounds the body of an error answer that is read.
const maxErrorBody = 64 << 10

// do sends one request and calls read with a 2xx answer (or a 304) and
// its body, of which read may consume at most limit bytes; any other
// answer, redirects included, is a *RemoteError. An answer declaring more
// than limit bytes is refused before its body is read. Only GET is
// retried (three attempts, on network errors, errors reading the body,
// and 5xx): evaluations spend budget and confirmations notify, so they are
// not repeated behind the caller's back.
func (c *partnerClient) do(ctx context.Context, method, path string, body []byte, header http.Header, limit int64,
	read func(*http.Response, io.Reader) error) error {
	attempts := 1
	if method == http.MethodGet {
		attempts = 3
	}
	var wait time.Duration
	for tries, busy := 0, 0; ; {
		if wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		retry, err := c.attempt(ctx, method, path, body, header, limit, read)
		if err == nil || ctx.Err() != nil {
			return err
		}
		var re *RemoteError
		if errors.As(err, &re) && re.Code == CodeBusy && busy < maxBusyRetries {
			// Refused before anything was read or spent (PROTOCOL.md
			// 5.3): any request may be sent again, after Retry-After.
			busy++
			wait = min(max(re.RetryAfter, minBusyWait), maxBusyWait)
			continue
		}
		if tries++; !retry || tries == attempts {
			return err
		}
		wait = time.Duration(200<<tries) * time.Millisecond
	}
}

// A request answered busy is sent again at most maxBusyRetries times,
// after the answer's Retry-After held between minBusyWait and
// maxBusyWait, and within the caller's context.
const (
	maxBusyRetries = 5
	minBusyWait    = 100 * time.Millisecond
	maxBusyWait    = 5 * time.Second
)

// attempt is one try of do; retry says whether the failure may be retried.
func (c *partnerClient) attempt(ctx context.Context, method, path string, body []byte, header http.Header, limit int64,
	read func(*http.Response, io.Reader) error) (retry bool, err error) {
	rctx, cancel := context.WithTimeout(ctx, c.m.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, c.p.URL+PathPrefix+path, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return true, fmt.Errorf("federation: partner %s: %w", c.p.ID, err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > limit {
		return false, fmt.Errorf("federation: partner %s: answer of %d bytes, above %d", c.p.ID, resp.ContentLength, limit)
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotModified {
		re := &RemoteError{Partner: c.p.ID, Status: resp.StatusCode}
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
			re.RetryAfter = time.Duration(min(secs, 3600)) * time.Second
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, min(limit, maxErrorBody)))
		var ae apiError
		if json.Unmarshal(data, &ae) == nil {
			re.Code, re.Message = ae.Error, ae.Message
		}
		return resp.StatusCode >= 500, re
	}
	rr := &recordingReader{r: io.LimitReader(resp.Body, limit+1)}
	if err := read(resp, rr); err != nil {
		if rr.err != nil {
			return true, fmt.Errorf("federation: partner %s: reading the answer: %w", c.p.ID, rr.err)
		}
		return false, err
	}
	return false, nil
}

// refresh fetches the partner's filter if it changed, verifies it, and
// returns a querier for it. It asks for the streamed signed filter, which
// it verifies as it reads it, and accepts the signed filter of a node
// that predates it.
func (c *partnerClient) refresh(ctx context.Context) (*match.Querier, error) {
	q, _, err := c.refreshWait(ctx, 0)
	return q, err
}

// refreshWait is refresh; with a filter held, it asks for the change
// since its version (a signed delta, PROTOCOL.md 2.8), and with wait > 0
// the partner answers when there is one, or after wait (a long poll).
func (c *partnerClient) refreshWait(ctx context.Context, wait time.Duration) (*match.Querier, *match.Delta, error) {
	q, d, err := c.fetch(ctx, wait)
	if err != nil {
		return nil, nil, err
	}
	if d != nil && (d.KeyID() != q.Filter().KeyID() || d.To() != q.Filter().Version()) {
		d = nil // a concurrent refresh went elsewhere
	}
	return q, d, nil
}

// fetch is refreshWait, returning the delta it applied, if any.
func (c *partnerClient) fetch(ctx context.Context, wait time.Duration) (*match.Querier, *match.Delta, error) {
	c.mu.Lock()
	etag, q, gen := c.etag, c.querier, c.gen
	c.mu.Unlock()
	h := http.Header{}
	h.Set("Accept", acceptFilter)
	path := "filter"
	if q != nil {
		f0 := q.Filter()
		kid := f0.KeyID()
		path = fmt.Sprintf("filter?key=%x&from=%d&gen=%s", kid[:], f0.Version(), url.QueryEscape(gen))
		if wait > 0 {
			path += fmt.Sprintf("&wait=%d", int(wait/time.Second))
		}
		h.Set("Accept", MediaTypeDelta+", "+acceptFilter)
	} else if etag != "" {
		h.Set("If-None-Match", etag)
	}
	var now time.Time
	var f *match.Filter
	var d *match.Delta
	var newETag, newGen string
	notModified := false
	err := c.do(ctx, http.MethodGet, path, nil, h, c.responseLimit("filter", 0), func(resp *http.Response, body io.Reader) error {
		// The time of the answer, not of the request: a long poll
		// answered by a rotation brings a filter valid from after the
		// request was sent.
		now = c.m.cfg.Now()
		if notModified = resp.StatusCode == http.StatusNotModified; notModified {
			return nil
		}
		newGen = resp.Header.Get(headerGeneration)
		var err error
		if q != nil && resp.Header.Get("Content-Type") == MediaTypeDelta {
			d, err = readSignedDelta(body, c.p)
			return err
		}
		f, err = readSignedFilter(body, resp.ContentLength, c.p, now)
		if err == nil && f.IsCount() {
			err = fmt.Errorf("%w: a count filter where the filter belongs", ErrFilterMalformed)
		}
		newETag = resp.Header.Get("ETag")
		return err
	})
	if err == nil && d != nil {
		if f, err = q.Filter().Apply(d, c.p.querierOptions()); err != nil {
			err = fmt.Errorf("delta: %w", err)
		} else if !f.ValidAt(now) {
			err = ErrFilterExpired
		}
	}
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("partner %s: %w", c.p.ID, err)
	case notModified && q == nil:
		return nil, nil, fmt.Errorf("partner %s: %w: 304 Not Modified to a request without If-None-Match", c.p.ID, ErrFilterMalformed)
	case notModified && !q.Filter().ValidAt(now):
		return nil, nil, fmt.Errorf("%w: partner %s", ErrFilterExpired, c.p.ID)
	case notModified:
		return q, nil, nil
	}
	if !validGeneration(newGen) {
		return nil, nil, fmt.Errorf("partner %s: %w: %s header is not 0 to 64 hex digits", c.p.ID, ErrFilterMalformed, headerGeneration)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sameLine := c.querier != nil && newGen != "" && newGen == c.gen && f.KeyID() == c.querier.Filter().KeyID()
	if cur := c.querier; cur != q && sameLine && f.Version() <= cur.Filter().Version() {
		return cur, nil, nil // a concurrent refresh got as far or further
	}
	sn, ok := c.m.seen.get(c.p.ID)
	if ok {
		// What this node accepted before, possibly before a restart.
		if err := sn.rollback(f, newGen); err != nil {
			return nil, nil, fmt.Errorf("%w: partner %s sent %v", ErrFilterRollback, c.p.ID, err)
		}
	}
	renumbered := ok && sn.behind(f) // and not refused above: a fresh start
	if sameLine && f.Version() < c.querier.Filter().Version() {
		// Versions within an epoch only add indicators (PROTOCOL.md 2.8).
		return nil, nil, fmt.Errorf("%w: partner %s sent version %d of epoch %d after version %d", ErrFilterRollback,
			c.p.ID, f.Version(), f.Epoch(), c.querier.Filter().Version())
	}
	if err := c.blockedEpoch(f); err != nil {
		return nil, nil, err
	}
	q, err = match.NewQuerier(f, c.p.querierOptions())
	if err != nil {
		return nil, nil, fmt.Errorf("partner %s: %w", c.p.ID, err)
	}
	if err := c.m.seen.accept(c.p.ID, f, newGen); err != nil {
		return nil, nil, fmt.Errorf("partner %s: recording its filter: %w", c.p.ID, err)
	}
	if renumbered {
		c.m.cfg.Logger.Warn("partner numbers its epochs afresh: it started again without its state", "partner", c.p.ID,
			"epoch", f.Epoch(), "after", sn.epoch)
	}
	c.etag, c.querier, c.gen, c.blocked = newETag, q, newGen, nil
	c.accept(f, d != nil) // counts and logs it
	return q, d, nil
}

// Match matches indicators against every partner's filter concurrently:
// for each partner it fetches and verifies the signed filter, sends the
// indicators kind by kind in batches of Config.MaxBatch, verifies the
// evaluations, and confirms the candidates. A partner that fails does not
// affect the others; its PartnerResult.Err says why. The results are in
// the order of Config.Partners.
func (m *Matcher) Match(ctx context.Context, inds []indicator.Indicator) []PartnerResult {
	kinds, byKind := groupByKind(inds)
	results := make([]PartnerResult, len(m.cfg.Partners))
	var wg sync.WaitGroup
	for i := range m.cfg.Partners {
		p := &m.cfg.Partners[i]
		results[i].Partner = p.ID
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.matchPartner(ctx, m.client(p), kinds, byKind, &results[i])
		}()
	}
	wg.Wait()
	return results
}

func (m *Matcher) matchPartner(ctx context.Context, c *partnerClient, kinds []*indicator.Kind, byKind map[*indicator.Kind][]indicator.Indicator, res *PartnerResult) {
	if err := c.blockedNow(); err != nil {
		res.Err = err // the partner is not contacted
		return
	}
	q, err := c.refresh(ctx)
	if err != nil {
		res.Err = err
		return
	}
	var errs []error
	t := tally{q: q}
	defer func() {
		// The sums over the batches sent under one filter catch a
		// publisher that stays within the bound of each.
		if err := m.checkTally(c, t); err != nil {
			errs = append(errs, err)
		}
		res.Err = errors.Join(errs...)
	}()
	for _, k := range kinds {
		for batch := range slices.Chunk(byKind[k], m.cfg.MaxBatch) {
			if err := c.blockedNow(); err != nil { // by a concurrent Match
				errs = append(errs, err)
				return
			}
			br, err := c.query(ctx, q, batch)
			var se *stageError
			var re *RemoteError
			if errors.As(err, &se) && se.stage == "evaluate" && errors.As(err, &re) && re.Code == CodeUnknownKey {
				// The partner rotated while we held its old filter. The
				// refused evaluation spent no budget, so it is sent again
				// under the new filter; nothing else is ever repeated.
				if q, err = c.refresh(ctx); err == nil {
					terr := m.checkTally(c, t)
					t = tally{q: q}
					if terr != nil {
						errs = append(errs, terr)
						return
					}
					br, err = c.query(ctx, q, batch)
				}
			}
			if me := (*match.MisbehaviourError)(nil); errors.As(err, &me) {
				// The hits it did confirm are reported; nothing more is
				// sent to it in this epoch.
				res.add(br, len(batch))
				errs = append(errs, m.misbehaved(c, q.Filter(), me, ""))
				t = tally{} // reported
				return
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k.Name(), err))
				break
			}
			t.add(len(batch), br.cands, len(br.hits)+len(br.withdrawn))
			res.add(br, len(batch))
		}
		if ctx.Err() != nil {
			break
		}
	}
}

// add adds a batch of n indicators to the result.
func (res *PartnerResult) add(br batchResult, n int) {
	res.Hits = append(res.Hits, br.hits...)
	res.Withdrawn = append(res.Withdrawn, br.withdrawn...)
	res.Queried += n
	res.Candidates += br.cands
	res.Epoch = br.epoch
}

// groupByKind returns the distinct non-zero indicators of inds by kind,
// and the kinds in the order they first appear.
func groupByKind(inds []indicator.Indicator) ([]*indicator.Kind, map[*indicator.Kind][]indicator.Indicator) {
	byKind := map[*indicator.Kind][]indicator.Indicator{}
	var kinds []*indicator.Kind
	seen := map[indicator.Indicator]bool{}
	for _, ind := range inds {
		if ind.IsZero() || seen[ind] {
			continue
		}
		seen[ind] = true
		if byKind[ind.Kind()] == nil {
			kinds = append(kinds, ind.Kind())
		}
		byKind[ind.Kind()] = append(byKind[ind.Kind()], ind)
	}
	return kinds, byKind
}

// A stageError says which request of a query failed.
type stageError struct {
	stage string
	err   error
}

func (e *stageError) Error() string { return e.stage + ": " + e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

// A batchResult is what one batch gave.
type batchResult struct {
	qu        *match.Query
	hits      []match.Hit
	withdrawn []indicator.Indicator
	cands     int
	epoch     uint64
}

// query runs one batch through evaluation and confirmation.
func (c *partnerClient) query(ctx context.Context, q *match.Querier, batch []indicator.Indicator) (batchResult, error) {
	qu, req, err := q.Blind(batch)
	if err != nil {
		return batchResult{}, err
	}
	var resp match.EvalResponse
	if err := c.post(ctx, "evaluate", "evaluation", req.Len(), req, &resp); err != nil {
		return batchResult{}, err
	}
	c.stats.queried.add(req.Kind(), uint64(req.Len()))
	creq, err := qu.Finalize(&resp)
	if err != nil {
		return batchResult{}, fmt.Errorf("federation: partner %s: %w", c.p.ID, err)
	}
	var cresp match.ConfirmResponse
	if err := c.post(ctx, "confirm", "confirmation", creq.Len(), creq, &cresp); err != nil {
		return batchResult{}, err
	}
	hits, err := qu.Hits(&cresp)
	c.stats.hits.Add(uint64(len(hits)))
	r := batchResult{qu: qu, hits: hits, withdrawn: qu.Withdrawn(), cands: qu.Candidates(), epoch: q.Filter().Epoch()}
	if errors.Is(err, match.ErrMisbehaviour) {
		return r, err // with the hits the partner confirmed
	}
	if err != nil {
		return batchResult{}, fmt.Errorf("federation: partner %s: %w", c.p.ID, err)
	}
	return r, nil
}

// post sends req, of n elements or tags, to the endpoint and decodes the
// answer into resp; what names the answer in a decoding error.
func (c *partnerClient) post(ctx context.Context, endpoint, what string, n int,
	req encoding.BinaryMarshaler, resp encoding.BinaryUnmarshaler) error {
	body, err := req.MarshalBinary()
	if err != nil {
		return err
	}
	limit := c.responseLimit(endpoint, n)
	var data []byte
	err = c.do(ctx, http.MethodPost, endpoint, body, nil, limit, func(_ *http.Response, r io.Reader) error {
		if data, err = io.ReadAll(r); err == nil && int64(len(data)) > limit {
			err = fmt.Errorf("federation: partner %s: answer above %d bytes", c.p.ID, limit)
		}
		return err
	})
	if err != nil {
		return &stageError{endpoint, err}
	}
	if err := resp.UnmarshalBinary(data); err != nil {
		return fmt.Errorf("federation: partner %s: %s: %w", c.p.ID, what, err)
	}
	return nil
}

// validGeneration reports whether g is a Fedmatch-Generation a node sends:
// up to 32 bytes in hex.
func validGeneration(g string) bool {
	if len(g) > 64 {
		return false
	}
	_, err := hex.DecodeString(g)
	return err == nil
}
