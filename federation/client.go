package federation

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
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
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("federation: partner %s: %d %s: %s", e.Partner, e.Status, e.Code, e.Message)
}

// A PartnerResult is what matching against one partner gave.
type PartnerResult struct {
	Partner    string
	Epoch      uint64      // the partner's epoch that answered
	Hits       []match.Hit // the indicators the partner holds, with the labels it released
	Queried    int         // distinct indicators sent
	Candidates int         // indicators that passed the partner's filter
	Err        error       // what failed, if anything (other kinds may still have hits)
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
	m := &Matcher{cfg: cfg, clients: map[string]*partnerClient{}}
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
	epoch   uint64 // highest epoch accepted from this partner
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
// tags: a signed filter of the largest size; an evaluation response of n
// elements (at most 33 bytes each) and their proofs (at most 64 bytes per
// element); a confirm response of n answers, each with up to MaxRepeats
// labels of MaxLabelLen bytes.
func responseLimit(path string, n int) int64 {
	switch path {
	case "filter":
		return maxFilterBytes
	case "evaluate":
		return 4096 + int64(n)*(33+64)
	}
	return 4096 + int64(n)*(2+match.MaxRepeats*(2+match.MaxLabelLen))
}

// do sends one request and returns the body of a 2xx answer (or a 304),
// of at most limit bytes; any other answer, redirects included, is a
// *RemoteError. Only GET is
// retried (three attempts, on network errors and 5xx): evaluations spend
// budget and confirmations notify, so they are not repeated behind the
// caller's back.
func (c *partnerClient) do(ctx context.Context, method, path string, body []byte, header http.Header, limit int64) (*http.Response, []byte, error) {
	attempts := 1
	if method == http.MethodGet {
		attempts = 3
	}
	var lastErr error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			case <-time.After(time.Duration(200<<i) * time.Millisecond):
			}
		}
		rctx, cancel := context.WithTimeout(ctx, c.m.cfg.RequestTimeout)
		req, err := http.NewRequestWithContext(rctx, method, c.p.URL+PathPrefix+path, bytes.NewReader(body))
		if err != nil {
			cancel()
			return nil, nil, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			cancel()
			lastErr = fmt.Errorf("federation: partner %s: %w", c.p.ID, err)
			if ctx.Err() != nil {
				return nil, nil, lastErr
			}
			continue
		}
		if resp.ContentLength > limit {
			resp.Body.Close()
			cancel()
			return nil, nil, fmt.Errorf("federation: partner %s: answer of %d bytes, above %d", c.p.ID, resp.ContentLength, limit)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		resp.Body.Close()
		cancel()
		if err != nil {
			lastErr = fmt.Errorf("federation: partner %s: reading the answer: %w", c.p.ID, err)
			continue
		}
		if int64(len(data)) > limit {
			return nil, nil, fmt.Errorf("federation: partner %s: answer above %d bytes", c.p.ID, limit)
		}
		if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotModified {
			re := &RemoteError{Partner: c.p.ID, Status: resp.StatusCode}
			var ae apiError
			if json.Unmarshal(data, &ae) == nil {
				re.Code, re.Message = ae.Error, ae.Message
			}
			lastErr = re
			if resp.StatusCode >= 500 {
				continue
			}
			return nil, nil, re
		}
		return resp, data, nil
	}
	return nil, nil, lastErr
}

// refresh fetches the partner's filter if it changed, verifies it, and
// returns a querier for it.
func (c *partnerClient) refresh(ctx context.Context) (*match.Querier, error) {
	c.mu.Lock()
	etag, q := c.etag, c.querier
	c.mu.Unlock()
	h := http.Header{}
	if etag != "" {
		h.Set("If-None-Match", etag)
	}
	resp, data, err := c.do(ctx, http.MethodGet, "filter", nil, h, responseLimit("filter", 0))
	if err != nil {
		return nil, err
	}
	now := c.m.cfg.Now()
	if resp.StatusCode == http.StatusNotModified && q != nil {
		if !q.Filter().ValidAt(now) {
			return nil, fmt.Errorf("%w: partner %s", ErrFilterExpired, c.p.ID)
		}
		return q, nil
	}
	f, err := verifyFilter(data, c.p, now)
	if err != nil {
		return nil, fmt.Errorf("partner %s: %w", c.p.ID, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.Epoch() < c.epoch {
		return nil, fmt.Errorf("%w: partner %s sent epoch %d after %d", ErrFilterRollback, c.p.ID, f.Epoch(), c.epoch)
	}
	q, err = match.NewQuerier(f, &match.QuerierOptions{})
	if err != nil {
		return nil, fmt.Errorf("partner %s: %w", c.p.ID, err)
	}
	c.etag, c.querier, c.epoch = resp.Header.Get("ETag"), q, f.Epoch()
	return q, nil
}

// Match matches indicators against every partner's filter concurrently:
// for each partner it fetches and verifies the signed filter, sends the
// indicators kind by kind in batches of Config.MaxBatch, verifies the
// evaluations, and confirms the candidates. A partner that fails does not
// affect the others; its PartnerResult.Err says why. The results are in
// the order of Config.Partners.
func (m *Matcher) Match(ctx context.Context, inds []indicator.Indicator) []PartnerResult {
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
	q, err := c.refresh(ctx)
	if err != nil {
		res.Err = err
		return
	}
	var errs []error
	for _, k := range kinds {
		for batch := range slices.Chunk(byKind[k], m.cfg.MaxBatch) {
			hits, cands, epoch, err := c.query(ctx, q, batch)
			var se *stageError
			var re *RemoteError
			if errors.As(err, &se) && se.stage == "evaluate" && errors.As(err, &re) && re.Code == CodeUnknownKey {
				// The partner rotated while we held its old filter. The
				// refused evaluation spent no budget, so it is sent again
				// under the new filter; nothing else is ever repeated.
				if q, err = c.refresh(ctx); err == nil {
					hits, cands, epoch, err = c.query(ctx, q, batch)
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k.Name(), err))
				break
			}
			res.Hits = append(res.Hits, hits...)
			res.Queried += len(batch)
			res.Candidates += cands
			res.Epoch = epoch
		}
		if ctx.Err() != nil {
			break
		}
	}
	res.Err = errors.Join(errs...)
}

// A stageError says which request of a query failed.
type stageError struct {
	stage string
	err   error
}

func (e *stageError) Error() string { return e.stage + ": " + e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

// query runs one batch through evaluation and confirmation.
func (c *partnerClient) query(ctx context.Context, q *match.Querier, batch []indicator.Indicator) ([]match.Hit, int, uint64, error) {
	qu, req, err := q.Blind(batch)
	if err != nil {
		return nil, 0, 0, err
	}
	var resp match.EvalResponse
	if err := c.post(ctx, "evaluate", "evaluation", req.Len(), req, &resp); err != nil {
		return nil, 0, 0, err
	}
	creq, err := qu.Finalize(&resp)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("federation: partner %s: %w", c.p.ID, err)
	}
	var cresp match.ConfirmResponse
	if err := c.post(ctx, "confirm", "confirmation", creq.Len(), creq, &cresp); err != nil {
		return nil, 0, 0, err
	}
	hits, err := qu.Hits(&cresp)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("federation: partner %s: %w", c.p.ID, err)
	}
	return hits, qu.Candidates(), q.Filter().Epoch(), nil
}

// post sends req, of n elements or tags, to the endpoint and decodes the
// answer into resp; what names the answer in a decoding error.
func (c *partnerClient) post(ctx context.Context, endpoint, what string, n int,
	req encoding.BinaryMarshaler, resp encoding.BinaryUnmarshaler) error {
	body, err := req.MarshalBinary()
	if err != nil {
		return err
	}
	_, data, err := c.do(ctx, http.MethodPost, endpoint, body, nil, responseLimit(endpoint, n))
	if err != nil {
		return &stageError{endpoint, err}
	}
	if err := resp.UnmarshalBinary(data); err != nil {
		return fmt.Errorf("federation: partner %s: %s: %w", c.p.ID, what, err)
	}
	return nil
}
