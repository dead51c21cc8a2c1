package federation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// A StandingHit is what a standing match reports: an indicator of this
// node's that a partner holds, found when either side's list changed.
type StandingHit struct {
	Partner string
	Epoch   uint64 // the partner's epoch
	Version uint64 // the version of the partner's filter that listed it
	Hit     match.Hit
	// Withdrawn: the partner answered "withdrawn" (PROTOCOL.md 2.8): the
	// indicator was on its list and every entry holding it was removed.
	// Not a hit; reported as visibly.
	Withdrawn bool
}

// StandingOptions configure [Matcher.Stand].
type StandingOptions struct {
	// OnHit is called, from the partner's goroutine, with each hit (and
	// each withdrawn answer) the first time it is found under a partner's
	// epoch. Required.
	OnHit func(StandingHit)
	// OnError, if not nil, is called with what goes wrong with a partner
	// (unreachable, misbehaving, out of budget); the standing match of
	// that partner retries with a backoff up to a minute.
	OnError func(partner string, err error)
	// Wait is how long a long poll for a partner's next version lasts;
	// zero means 30 seconds. It must be below Config.RequestTimeout.
	Wait time.Duration
}

// A Standing keeps indicators matched against every partner, the
// continuous counterpart of [Matcher.Match]: it evaluates each indicator
// once per partner key, keeps the outputs (match.Watch), long-polls each
// partner for new versions of its filter and re-tests the outputs
// against each version's delta without any evaluation, and evaluates only
// the indicators added with [Standing.Add]. Each hit is reported once per
// partner epoch, to OnHit here and, through the confirmation, to the
// partner's Config.OnHit. At a partner's rotation every indicator is
// evaluated again under its new key.
type Standing struct {
	m    *Matcher
	opts StandingOptions

	mu     sync.Mutex
	inds   []indicator.Indicator
	have   map[indicator.Indicator]bool
	notify []chan struct{} // one per partner: the list grew

	wg sync.WaitGroup
}

// Stand starts a standing match of inds against every partner, which runs
// until ctx is done; [Standing.Wait] waits for its goroutines.
func (m *Matcher) Stand(ctx context.Context, inds []indicator.Indicator, opts StandingOptions) (*Standing, error) {
	if opts.OnHit == nil {
		return nil, errors.New("federation: StandingOptions.OnHit is nil")
	}
	if opts.Wait == 0 {
		opts.Wait = 30 * time.Second
	}
	if opts.Wait < time.Second || opts.Wait > maxWait || opts.Wait >= m.cfg.RequestTimeout {
		return nil, fmt.Errorf("federation: standing wait %v not in [1s, %v] and below Config.RequestTimeout", opts.Wait, maxWait)
	}
	s := &Standing{m: m, opts: opts, have: map[indicator.Indicator]bool{}}
	s.add(inds)
	for i := range m.cfg.Partners {
		ch := make(chan struct{}, 1)
		s.notify = append(s.notify, ch)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.follow(ctx, &m.cfg.Partners[i], ch)
		}()
	}
	return s, nil
}

// Add adds indicators to the standing match: each partner evaluates only
// these, at once.
func (s *Standing) Add(inds ...indicator.Indicator) {
	if s.add(inds) {
		for _, ch := range s.notify {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

func (s *Standing) add(inds []indicator.Indicator) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	grew := false
	for _, ind := range inds {
		if !ind.IsZero() && !s.have[ind] {
			s.have[ind] = true
			s.inds = append(s.inds, ind)
			grew = true
		}
	}
	return grew
}

func (s *Standing) list() []indicator.Indicator {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.inds)
}

// Wait waits until the standing match has stopped (its ctx is done).
func (s *Standing) Wait() { s.wg.Wait() }

// partnerStanding is the state of one partner's standing match.
type partnerStanding struct {
	s        *Standing
	c        *partnerClient
	w        *match.Watch
	reported map[indicator.Indicator]uint64 // the epoch each was reported in
	refused  map[*indicator.Kind]bool       // kinds the partner does not take from us
	gen      string                         // the partner's line of versions w follows
}

func (s *Standing) follow(ctx context.Context, p *Partner, grew chan struct{}) {
	ps := &partnerStanding{s: s, c: s.m.client(p), reported: map[indicator.Indicator]uint64{}, refused: map[*indicator.Kind]bool{}}
	backoff := time.Second
	for ctx.Err() == nil {
		err := ps.step(ctx, grew)
		if err == nil {
			backoff = time.Second
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if s.opts.OnError != nil {
			s.opts.OnError(p.ID, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// step brings the partner's standing match up to date, then long-polls
// for its next version, or until the list grows.
func (ps *partnerStanding) step(ctx context.Context, grew chan struct{}) error {
	c := ps.c
	if err := c.blockedNow(); err != nil {
		return err
	}
	c.mu.Lock()
	q, gen := c.querier, c.gen
	c.mu.Unlock()
	if q == nil {
		var err error
		if q, err = c.refresh(ctx); err != nil {
			return err
		}
		c.mu.Lock()
		gen = c.gen
		c.mu.Unlock()
	}
	f := q.Filter()
	switch {
	case ps.w == nil || ps.w.Filter().KeyID() != f.KeyID():
		ps.w = match.NewWatch(q) // a new key: everything is evaluated under it
	case gen != ps.gen:
		// Published afresh under the same key: the outputs stand, the
		// filter is not a later version.
		if err := ps.w.Replace(f); err != nil {
			ps.w = nil
			return err
		}
	case f.Version() > ps.w.Filter().Version():
		if err := ps.w.Update(f); err != nil { // no delta at hand: one hash per indicator
			ps.w = nil
			return err
		}
	}
	ps.gen = gen
	if err := ps.evaluate(ctx, q); err != nil {
		return err
	}
	if err := ps.confirm(ctx); err != nil {
		return err
	}
	// Long poll, cut short when the list grows.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-grew:
			cancel()
		case <-pctx.Done():
		}
	}()
	_, d, err := c.refreshWait(pctx, ps.s.opts.Wait)
	if pctx.Err() != nil && ctx.Err() == nil {
		return nil // the list grew
	}
	if err != nil {
		return err
	}
	if d != nil && ps.w != nil && d.KeyID() == ps.w.Filter().KeyID() && d.From() == ps.w.Filter().Version() {
		return ps.w.Apply(d) // the change alone: no evaluation, no hash of the others
	}
	return nil
}

// evaluate evaluates the indicators the watch does not keep, kind by
// kind, in batches, and keeps them.
func (ps *partnerStanding) evaluate(ctx context.Context, q *match.Querier) error {
	missing := ps.w.Missing(ps.s.list())
	if len(missing) == 0 {
		return nil
	}
	kinds, byKind := groupByKind(missing)
	for _, k := range kinds {
		if ps.refused[k] {
			continue
		}
		for batch := range slices.Chunk(byKind[k], ps.s.m.cfg.MaxBatch) {
			br, err := ps.c.query(ctx, q, batch)
			if me := (*match.MisbehaviourError)(nil); errors.As(err, &me) {
				ps.report(q.Filter(), br.hits, br.withdrawn)
				return ps.s.m.misbehaved(ps.c, q.Filter(), me, "")
			}
			if re := (*RemoteError)(nil); errors.As(err, &re) && re.Code == CodeKindNotAllowed {
				// The partner does not take this kind from us: not asked
				// again (it spent nothing).
				ps.refused[k] = true
				if ps.s.opts.OnError != nil {
					ps.s.opts.OnError(ps.c.p.ID, err)
				}
				break
			}
			if err != nil {
				return err
			}
			if err := ps.w.Keep(br.qu); err != nil {
				return err
			}
			ps.report(q.Filter(), br.hits, br.withdrawn)
		}
	}
	return nil
}

// confirm confirms the watch's candidates, if any.
func (ps *partnerStanding) confirm(ctx context.Context) error {
	pend, creq := ps.w.Pending()
	if pend == nil {
		return nil
	}
	var cresp match.ConfirmResponse
	if err := ps.c.post(ctx, "confirm", "confirmation", creq.Len(), creq, &cresp); err != nil {
		return err
	}
	hits, withdrawn, err := pend.Hits(&cresp)
	ps.c.stats.hits.Add(uint64(len(hits)))
	ps.report(ps.w.Filter(), hits, withdrawn)
	if me := (*match.MisbehaviourError)(nil); errors.As(err, &me) {
		return ps.s.m.misbehaved(ps.c, ps.w.Filter(), me, "")
	}
	return err
}

func (ps *partnerStanding) report(f *match.Filter, hits []match.Hit, withdrawn []indicator.Indicator) {
	for _, h := range hits {
		if e, ok := ps.reported[h.Indicator]; !ok || e != f.Epoch() {
			ps.reported[h.Indicator] = f.Epoch()
			ps.s.m.cfg.Logger.Info("standing hit found", "partner", ps.c.p.ID, "kind", h.Indicator.Kind().Name(), "epoch", f.Epoch(), "version", f.Version())
			ps.s.opts.OnHit(StandingHit{Partner: ps.c.p.ID, Epoch: f.Epoch(), Version: f.Version(), Hit: h})
		}
	}
	for _, ind := range withdrawn {
		ps.s.m.cfg.Logger.Info("standing hit withdrawn", "partner", ps.c.p.ID, "kind", ind.Kind().Name(), "epoch", f.Epoch(), "version", f.Version())
		ps.s.opts.OnHit(StandingHit{Partner: ps.c.p.ID, Epoch: f.Epoch(), Version: f.Version(),
			Hit: match.Hit{Indicator: ind}, Withdrawn: true})
	}
}
