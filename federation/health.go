package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Health is a node's answer to GET /fedmatch/v1/health (PROTOCOL.md 5.3):
// who it is, its epoch, and the limits it applies to the partner asking,
// so that a partner can size its requests before one is refused. Fields
// are only ever added to it within format version 1; a reader ignores the
// ones it does not know.
type Health struct {
	Node      string `json:"node"`
	Epoch     uint64 `json:"epoch"` // 0 before the first publication
	Published bool   `json:"published"`
	// Limits is nil in the answer of a node that predates it; the
	// defaults of PROTOCOL.md 5.3 then apply.
	Limits *Limits `json:"limits,omitempty"`
}

// Limits are the limits a node applies to one partner's requests
// (PROTOCOL.md 5.3), as its health endpoint tells that partner.
type Limits struct {
	// MaxBatch is the most elements of an evaluation or count request,
	// and tags of a confirm request, the node takes: beyond, 413
	// too_large.
	MaxBatch int `json:"maxBatch"`
	// MaxRequestBytes is the longest body of an evaluate, count or
	// confirm request: beyond, 413 too_large.
	MaxRequestBytes int64 `json:"maxRequestBytes"`
	// Requests is the most evaluate, count and confirm requests of the partner
	// served at once, and BodyBytes the most bytes of its request bodies
	// held at once: beyond either, 503 busy. The node's totals over all
	// partners may refuse sooner.
	Requests  int   `json:"requests"`
	BodyBytes int64 `json:"bodyBytes"`
	// LongPolls is the most long polls (GET filter with wait) of the
	// partner waiting at once, beyond which 503 busy; MaxWaitSeconds the
	// longest wait.
	LongPolls      int `json:"longPolls"`
	MaxWaitSeconds int `json:"maxWaitSeconds"`
	// Budget is the partner's evaluations per epoch (a count request
	// spends one per element, as an evaluation), BudgetLeft what is
	// left of it in the current epoch (429 budget_exhausted beyond), and
	// Confirmable the tags it may still confirm: its evaluations in the
	// epochs still served, less its confirmations. A concurrent request
	// may spend some before the partner's next one.
	Budget      int    `json:"budget"`
	BudgetLeft  int    `json:"budgetLeft"`
	Confirmable uint64 `json:"confirmable"`
	// Count says whether the partner may count (Partner.Cardinality:
	// GET count-filter, POST count); false, and absent, otherwise.
	Count bool `json:"count,omitempty"`
}

// maxHealthBody bounds the health answer a client reads: a few hundred
// bytes today, room for fields added later.
const maxHealthBody = 16 << 10

func (n *Node) serveHealth(w http.ResponseWriter, r *http.Request, p *Partner) {
	epoch := n.Epoch()
	h := Health{Node: n.cfg.ID, Epoch: epoch, Published: epoch != 0, Limits: &Limits{
		MaxBatch:        n.cfg.MaxBatch,
		MaxRequestBytes: requestBodyLimit(n.cfg.MaxBatch),
		Requests:        n.srv.lim.partnerRequests,
		BodyBytes:       n.srv.lim.partnerBodyBytes,
		LongPolls:       maxWaiting,
		MaxWaitSeconds:  int(maxWait / time.Second),
		Budget:          p.Budget,
		BudgetLeft:      n.budgets.left(p.ID, epoch, p.Budget),
		Confirmable:     n.budgets.confirmable(p.ID),
		Count:           p.Cardinality,
	}}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(h)
}

// parseHealth decodes a health answer of at most maxHealthBody bytes. It
// refuses anything but one JSON object with a node id, and negative
// limits; it ignores fields it does not know.
func parseHealth(data []byte) (*Health, error) {
	if len(data) > maxHealthBody {
		return nil, fmt.Errorf("health answer of %d bytes, above %d", len(data), maxHealthBody)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var h Health
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("health answer: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("health answer: data after the object")
	}
	if !validID(h.Node) {
		return nil, errors.New("health answer: no valid node id")
	}
	if l := h.Limits; l != nil && (l.MaxBatch < 0 || l.MaxRequestBytes < 0 || l.Requests < 0 || l.BodyBytes < 0 ||
		l.LongPolls < 0 || l.MaxWaitSeconds < 0 || l.Budget < 0 || l.BudgetLeft < 0) {
		return nil, errors.New("health answer: a negative limit")
	}
	return &h, nil
}

// Health asks partner's node for its health answer: its epoch and the
// limits it applies to this node's requests (PROTOCOL.md 5.3). It is
// retried as any GET; a node that predates the limits answers with
// Limits nil. The answer must name the partner's configured id. A
// partner blocked for misbehaviour is not asked (ErrPartnerBlocked).
func (m *Matcher) Health(ctx context.Context, partner string) (*Health, error) {
	var p *Partner
	for i := range m.cfg.Partners {
		if m.cfg.Partners[i].ID == partner {
			p = &m.cfg.Partners[i]
		}
	}
	if p == nil {
		return nil, fmt.Errorf("federation: no partner %q", partner)
	}
	c := m.client(p)
	if err := c.blockedNow(); err != nil {
		return nil, err // not even a health request to a partner blocked for misbehaviour
	}
	var h *Health
	err := c.do(ctx, http.MethodGet, "health", nil, nil, maxHealthBody, func(resp *http.Response, r io.Reader) error {
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if h, err = parseHealth(data); err != nil {
			return fmt.Errorf("federation: partner %s: %w", p.ID, err)
		}
		if h.Node != p.ID {
			return fmt.Errorf("federation: partner %s: health answer of node %q", p.ID, h.Node)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}
