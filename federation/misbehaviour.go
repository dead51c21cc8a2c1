package federation

import (
	"errors"
	"fmt"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// A partner that answers "not an entry" at confirm about more of this
// node's indicators than its filter's false-positive rate explains
// (match.ErrMisbehaviour; PROTOCOL.md, section 2.5) has listed values to
// learn which of them this node holds while showing it no hit. The
// Matcher reports it in PartnerResult.Err, records it in the audit log
// (a Node's), and sends it nothing more, not even a filter request,
// until the end of the validity window of the filter it misbehaved
// under; then only a filter of a later epoch is accepted from it. A
// partner cannot shorten that by rotating early.

// ErrPartnerBlocked reports a partner that Match does not contact because
// it misbehaved in its current epoch. The error also wraps the
// *match.MisbehaviourError that caused it.
var ErrPartnerBlocked = errors.New("federation: partner not queried: it misbehaved in this epoch")

// A block is what a partnerClient remembers of its partner's
// misbehaviour.
type block struct {
	epoch uint64    // the partner's epoch
	until time.Time // the end of that epoch's filter's validity window
	err   error     // the misbehaviour
}

// blockedNow returns an error if the partner is blocked at this time: it
// is not to be contacted.
func (c *partnerClient) blockedNow() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b := c.blocked; b != nil && !c.m.cfg.Now().After(b.until) {
		return fmt.Errorf("%w (until %v): %w", ErrPartnerBlocked, b.until.UTC(), b.err)
	}
	return nil
}

// blockedEpoch returns an error if the partner is blocked in filter f's
// epoch: one not after the epoch it misbehaved in, unless f is valid only
// from after the block ends (the partner numbers its epochs afresh);
// c.mu is held.
func (c *partnerClient) blockedEpoch(f *match.Filter) error {
	if b := c.blocked; b != nil && f.Epoch() <= b.epoch && !f.NotBefore().After(b.until) {
		return fmt.Errorf("%w: %w", ErrPartnerBlocked, b.err)
	}
	return nil
}

// misbehaved blocks the partner for filter f's epoch, records me in the
// audit log if there is one, and returns the error for the partner's
// result; note, if not empty, says which queries me sums.
func (m *Matcher) misbehaved(c *partnerClient, f *match.Filter, me *match.MisbehaviourError, note string) error {
	err := fmt.Errorf("federation: partner %s, epoch %d%s: %w", c.p.ID, f.Epoch(), note, me)
	c.mu.Lock()
	first := c.blocked == nil || c.blocked.epoch < f.Epoch()
	if first {
		c.blocked = &block{epoch: f.Epoch(), until: f.NotAfter(), err: err}
	}
	c.etag, c.querier = "", nil
	c.mu.Unlock()
	if !first { // recorded already, by a concurrent Match
		return err
	}
	m.cfg.Logger.Warn("partner misbehaviour at confirm: not queried again in its epoch", "partner", c.p.ID, "epoch", f.Epoch(),
		"queried", me.Queried, "candidates", me.Candidates, "hits", me.Hits, "bound", me.Bound, "until", f.NotAfter())
	if m.audit == nil {
		return err
	}
	rec := AuditRecord{Time: m.cfg.Now(), Type: AuditMisbehaviour, Partner: c.p.ID, Epoch: f.Epoch(),
		Count: uint64(me.Queried), Hits: uint64(me.Hits),
		Detail: fmt.Sprintf("%d candidates, %d not entries, at most %d explained (%.3g expected)",
			me.Candidates, me.Candidates-me.Hits, me.Bound, me.Expected)}
	if aerr := m.audit.append(rec); aerr != nil {
		m.cfg.Logger.Error("audit", "err", aerr)
		return errors.Join(err, fmt.Errorf("federation: recording the misbehaviour: %w", aerr))
	}
	return err
}

// A tally sums the queries of one Match sent under one filter, for
// match.CheckConfirmations: its bound on the sums is tighter than the sum
// of the bounds of each query.
type tally struct {
	q                         *match.Querier
	queried, candidates, hits int
	queries                   int
}

func (t *tally) add(queried, candidates, hits int) {
	t.queried += queried
	t.candidates += candidates
	t.hits += hits
	t.queries++
}

// checkTally applies the misbehaviour rule to the sums of t, when there
// are several queries (one is checked by match already).
func (m *Matcher) checkTally(c *partnerClient, t tally) error {
	if t.queries < 2 {
		return nil
	}
	f := t.q.Filter()
	err := match.CheckConfirmations(t.queried, t.candidates, t.hits, f.EstimatedFalsePositiveRate())
	var me *match.MisbehaviourError
	if errors.As(err, &me) {
		return m.misbehaved(c, f, me, fmt.Sprintf(", the sums of %d queries", t.queries))
	}
	return err
}
