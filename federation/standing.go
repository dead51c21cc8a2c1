package federation

import (
	"context"
	"errors"
	"fmt"
	"math"
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
// partner's Config.OnHit. A hit that stays a hit across a partner's
// rotation is not reported again.
//
// At a partner's rotation every indicator is evaluated again under its
// new key, spread evenly over half of what remains of the previous
// filter's validity (the partner's grace period), at most half this
// node's own Config.Grace, in batches of at least
// [SpreadBatch]: neither side's processors nor the partner's budget see
// the whole list at once. Indicators added meanwhile are evaluated at
// once. An indicator the partner adds during the spread is found as soon
// as the matching indicator of ours has been evaluated under the new key:
// at once if it already was, and otherwise by the end of the spread; none
// is missed.
//
// A Matcher of a Node keeps each partner's standing state in the node's
// state directory (one standing match at a time: the first running):
// the outputs, the hits reported and the end of a spread under way,
// written at most every [StandingSaveInterval] and when the standing
// match stops. After a restart, Stand tests the kept outputs against the
// partner's current filter (one hash per indicator, no evaluation) and
// evaluates only what it does not hold: at once, or, if it stopped in
// the middle of a spread, spread over what is left of it (an indicator
// added to the list while the node was stopped then waits its turn in
// the spread too). A state that holds indicators no longer in the list
// is not used. What was evaluated since the last write is evaluated
// again, and a hit confirmed since then is reported again.
//
// A partner that starts again without its state numbers its epochs from
// 1: its new filter is taken (see PROTOCOL.md 5.2), evaluated at once
// rather than spread (the filter it replaces is no longer served), and
// its hits are reported again.
type Standing struct {
	m    *Matcher
	opts StandingOptions

	mu     sync.Mutex
	inds   []indicator.Indicator
	have   map[indicator.Indicator]bool
	notify []chan struct{} // one per partner: the list grew

	persist bool // the state of this standing match is kept (the Matcher's store)

	wg sync.WaitGroup
}

// SpreadBatch is the least number of indicators a standing match
// evaluates at once while it spreads a partner's rotation.
const SpreadBatch = 1024

// StandingSaveInterval is the longest a Node's standing match keeps
// outputs it paid for without writing them to the state directory.
const StandingSaveInterval = 10 * time.Second

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
	// One standing match at a time keeps its state in the directory.
	s.persist = m.store != nil && m.standing.CompareAndSwap(false, true)
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
	if s.persist {
		go func() {
			s.wg.Wait()
			m.standing.Store(false)
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

// list returns the indicators so far. The list only grows, and its
// elements never change, so the slice (capped at its length) is shared,
// not copied.
func (s *Standing) list() []indicator.Indicator {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inds[:len(s.inds):len(s.inds)]
}

// Wait waits until the standing match has stopped (its ctx is done).
func (s *Standing) Wait() { s.wg.Wait() }

// partnerStanding is the state of one partner's standing match.
type partnerStanding struct {
	s        *Standing
	c        *partnerClient
	w        *match.Watch
	reported map[indicator.Indicator]uint64 // the epoch each was last confirmed a hit in
	refused  map[*indicator.Kind]bool       // kinds the partner does not take from us
	gen      string                         // the partner's line of versions w follows
	spread   *spread                        // the re-evaluation of a rotation, while it lasts
	done     int                            // the list's first done indicators were given to w (or its spread)
	resume   time.Time                      // the end of a spread restored with w, until the first step

	dirty bool      // w holds outputs or answers not yet written
	saved time.Time // when w was last written
}

// A spread is the re-evaluation, under a partner's new key, of the
// indicators held when it rotated: list[:at] are done, the rest are due
// evenly from start to start+window.
type spread struct {
	list   []indicator.Indicator
	at     int
	start  time.Time
	window time.Duration
}

// due returns how many of the list should be evaluated by now.
func (sp *spread) due(now time.Time) int {
	el := now.Sub(sp.start)
	if sp.window <= 0 || el >= sp.window {
		return len(sp.list)
	}
	if el <= 0 {
		return 0
	}
	return int(float64(len(sp.list)) * float64(el) / float64(sp.window))
}

// next returns when the next batch is due.
func (sp *spread) next() time.Time {
	n := min(sp.at+SpreadBatch, len(sp.list))
	return sp.start.Add(time.Duration(math.Ceil(float64(sp.window) * float64(n) / float64(len(sp.list)))))
}

func (s *Standing) follow(ctx context.Context, p *Partner, grew chan struct{}) {
	ps := &partnerStanding{s: s, c: s.m.client(p), reported: map[indicator.Indicator]uint64{}, refused: map[*indicator.Kind]bool{}}
	ps.restore()
	defer ps.save(true)
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
		// A new key: everything is evaluated under it, spread over the
		// grace period if it replaces a key still valid.
		list := ps.s.list()
		sp := &spread{list: list, start: ps.s.m.cfg.Now()}
		if ps.w != nil && f.Epoch() > ps.w.Filter().Epoch() {
			// Half of what the old filter has left, and at most half of
			// this node's own grace period: the old filter's validity is
			// the partner's to sign, and the old outputs are dropped now.
			sp.window = min(ps.w.Filter().NotAfter().Sub(sp.start), ps.s.m.cfg.Grace) / 2
		}
		ps.w, ps.spread, ps.done, ps.dirty = match.NewWatch(q), sp, len(list), true
	case gen != ps.gen:
		// Published afresh under the same key: the outputs stand, the
		// filter is not a later version.
		if err := ps.w.Replace(f); err != nil {
			ps.w = nil
			return err
		}
		ps.dirty = true
	case f.Version() > ps.w.Filter().Version():
		if err := ps.w.Update(f); err != nil { // no delta at hand: one hash per indicator
			ps.w = nil
			return err
		}
		ps.dirty = true
	}
	ps.gen = gen
	if err := ps.evaluateDue(ctx, q); err != nil {
		return err
	}
	if err := ps.confirm(ctx); err != nil {
		return err
	}
	ps.save(false)
	// Long poll, cut short when the list grows or the spread's next
	// batch is due.
	wait := ps.s.opts.Wait
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if sp := ps.spread; sp != nil {
		// At least a second: batches due sooner are evaluated together,
		// and the partner's changes are never left unpolled.
		wait = min(wait, max(sp.next().Sub(ps.s.m.cfg.Now()), time.Second))
	}
	go func() {
		select {
		case <-grew:
			cancel()
		case <-pctx.Done():
		}
	}()
	_, d, err := c.refreshWait(pctx, wait)
	if pctx.Err() != nil && ctx.Err() == nil {
		return nil // the list grew
	}
	if err != nil {
		return err
	}
	if d != nil && ps.w != nil && d.KeyID() == ps.w.Filter().KeyID() && d.From() == ps.w.Filter().Version() {
		ps.dirty = true
		return ps.w.Apply(d) // the change alone: no evaluation, no hash of the others
	}
	return nil
}

// evaluateDue evaluates what is due: the indicators of the list not yet
// given to the watch, at once (all of them after a restore, then only
// those added since: no pass over the whole list per step), and the
// spread's batches that are due.
func (ps *partnerStanding) evaluateDue(ctx context.Context, q *match.Querier) error {
	list := ps.s.list()
	if end, now := ps.resume, ps.s.m.cfg.Now(); ps.spread == nil && end.After(now) {
		// Restored in the middle of a spread: what the watch lacks is
		// spread over what is left of it. (An indicator added to the
		// list while the node was stopped is among them.)
		ps.spread = &spread{list: ps.w.Missing(list[ps.done:]), start: now, window: end.Sub(now)}
		ps.done = len(list)
	}
	ps.resume = time.Time{}
	if err := ps.evaluate(ctx, q, list[ps.done:]); err != nil {
		return err
	}
	ps.done = len(list)
	sp := ps.spread
	if sp != nil && len(sp.list) == 0 {
		ps.spread, sp = nil, nil
	}
	if sp == nil {
		return nil
	}
	due := sp.due(ps.s.m.cfg.Now())
	if due < len(sp.list) && due-sp.at < SpreadBatch {
		return nil
	}
	if err := ps.evaluate(ctx, q, sp.list[sp.at:due]); err != nil {
		return err
	}
	sp.at = due
	if sp.at == len(sp.list) {
		ps.spread = nil
	}
	return nil
}

// evaluate evaluates those of inds the watch does not keep, kind by kind,
// in batches, and keeps them.
func (ps *partnerStanding) evaluate(ctx context.Context, q *match.Querier, inds []indicator.Indicator) error {
	missing := ps.w.Missing(inds)
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
			ps.dirty = true
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
	ps.dirty = true
	ps.c.stats.hits.Add(uint64(len(hits)))
	ps.report(ps.w.Filter(), hits, withdrawn)
	if me := (*match.MisbehaviourError)(nil); errors.As(err, &me) {
		return ps.s.m.misbehaved(ps.c, ps.w.Filter(), me, "")
	}
	return err
}

// report reports each hit not reported under this epoch or, if it was a
// hit under the epoch before too, under that one (a hit that stays a hit
// across a rotation is not new).
func (ps *partnerStanding) report(f *match.Filter, hits []match.Hit, withdrawn []indicator.Indicator) {
	ps.dirty = ps.dirty || len(hits) > 0 || len(withdrawn) > 0
	for _, h := range hits {
		e, ok := ps.reported[h.Indicator]
		ps.reported[h.Indicator] = f.Epoch()
		if !ok || (e != f.Epoch() && e+1 != f.Epoch()) {
			ps.s.m.cfg.Logger.Info("standing hit found", "partner", ps.c.p.ID, "kind", h.Indicator.Kind().Name(), "epoch", f.Epoch(), "version", f.Version())
			ps.s.opts.OnHit(StandingHit{Partner: ps.c.p.ID, Epoch: f.Epoch(), Version: f.Version(), Hit: h})
		}
	}
	for _, ind := range withdrawn {
		delete(ps.reported, ind) // listed again later, it is new
		ps.s.m.cfg.Logger.Info("standing hit withdrawn", "partner", ps.c.p.ID, "kind", ind.Kind().Name(), "epoch", f.Epoch(), "version", f.Version())
		ps.s.opts.OnHit(StandingHit{Partner: ps.c.p.ID, Epoch: f.Epoch(), Version: f.Version(),
			Hit: match.Hit{Indicator: ind}, Withdrawn: true})
	}
}
