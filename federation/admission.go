package federation

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// serverLimits bound what the node's server takes on, so that excess load
// is refused at once (503 busy) instead of growing memory, and so that one
// partner cannot starve another. They are derived from the configuration
// (PROTOCOL.md 5.3 lists them).
type serverLimits struct {
	// requests and partnerRequests bound the evaluation and confirm
	// requests served at once, in total and per partner, from their
	// header to their answer.
	requests, partnerRequests int
	// bodyBytes and partnerBodyBytes bound the request bodies held in
	// memory at once, in total and per partner.
	bodyBytes, partnerBodyBytes int64
	// workers bounds the evaluation workers (goroutines) one partner's
	// evaluations use at once, and totalWorkers those of all partners;
	// beyond them evaluations wait their turn, partner by partner.
	workers, totalWorkers int
	// conns and partnerConns bound the connections of ListenAndServe:
	// all of them (idle, slow and still in the handshake included), and
	// those of one partner.
	conns, partnerConns int
	// failedBurst and failedRate bound, per address, the connections that
	// end without a partner's handshake: a burst, then a rate a second.
	failedBurst int
	failedRate  float64
	// openBurst and openRate bound the connections a partner opens: a
	// burst, then a rate a second. A partner whose requests close their
	// connection (a refusal whose body is not read does) would otherwise
	// make the node pay a handshake for each.
	openBurst int
	openRate  float64
	// refusedBurst and refusedRate bound the connections closed before
	// their handshake, of all addresses: beyond, new connections wait to
	// be accepted.
	refusedBurst int
	refusedRate  float64
	// Timeouts of ListenAndServe: the handshake and the request header,
	// the whole request body, the answer, and an idle connection.
	readHeader, read, write, idle time.Duration
	// retryAfter is the Retry-After of a busy answer.
	retryAfter time.Duration
	// period is how long refusals and repeated log lines are counted
	// before they are recorded.
	period time.Duration
}

func defaultLimits(cfg *Config) serverLimits {
	maxBody := requestBodyLimit(cfg.MaxBatch)
	procs := runtime.GOMAXPROCS(0)
	l := serverLimits{
		requests:        256,
		partnerRequests: 32,
		bodyBytes:       max(64<<20, 4*maxBody),
		workers:         procs,
		totalWorkers:    8 * procs,
		conns:           max(256, 8*len(cfg.Partners)),
		partnerConns:    16,
		failedBurst:     64,
		failedRate:      16,
		openBurst:       64,
		openRate:        16,
		refusedBurst:    256,
		refusedRate:     256,
		readHeader:      5 * time.Second,
		// A body of the largest batch at 128 KiB/s.
		read:       max(30*time.Second, time.Duration(maxBody>>17)*time.Second),
		write:      10 * time.Minute,
		idle:       30 * time.Second,
		retryAfter: time.Second,
		period:     time.Minute,
	}
	l.partnerBodyBytes = l.bodyBytes / 4
	return l
}

// admission counts what the requests being served hold: slots and body
// bytes, in total and per partner. It never blocks: a request beyond a
// limit is refused.
type admission struct {
	mu       sync.Mutex
	lim      *serverLimits
	requests int
	bytes    int64
	partners map[string]*partnerLoad
}

type partnerLoad struct {
	requests int
	bytes    int64
}

func newAdmission(lim *serverLimits) *admission {
	return &admission{lim: lim, partners: map[string]*partnerLoad{}}
}

// admit takes a request slot for partner, if there is one.
func (a *admission) admit(partner string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	pl := a.partners[partner]
	if pl == nil {
		pl = &partnerLoad{}
		a.partners[partner] = pl
	}
	if a.requests >= a.lim.requests || pl.requests >= a.lim.partnerRequests {
		return false
	}
	a.requests++
	pl.requests++
	return true
}

// hold takes n bytes of body for partner, if they are within the limits.
func (a *admission) hold(partner string, n int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	pl := a.partners[partner]
	if a.bytes+n > a.lim.bodyBytes || pl.bytes+n > a.lim.partnerBodyBytes {
		return false
	}
	a.bytes += n
	pl.bytes += n
	return true
}

// done gives back a request's slot and the n bytes it held.
func (a *admission) done(partner string, n int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pl := a.partners[partner]
	a.requests--
	a.bytes -= n
	pl.requests--
	pl.bytes -= n
	if pl.requests == 0 {
		delete(a.partners, partner)
	}
}

// A fairGate is the weighted semaphore in front of the evaluation
// workers. An evaluation holds as many units as it keeps workers busy;
// each partner may hold at most perPartner units, all partners together
// total. Waiting evaluations are queued per partner and served in turn,
// one partner after the other, each partner's in order of arrival. Since
// one partner's evaluations together never use more workers than one
// evaluation does, partners with work share the processors equally,
// however many requests each sends: a partner sending one small batch
// waits for no other partner's bulk query, it only shares the processors
// with it.
type fairGate struct {
	mu         sync.Mutex
	perPartner int
	total      int
	used       int
	held       map[string]int       // units held, by partner
	queues     map[string][]*waiter // waiting, by partner
	turn       []string             // partners with waiters, in the order they are served
}

type waiter struct {
	units int
	ready chan struct{} // closed when granted
}

func newFairGate(perPartner, total int) *fairGate {
	return &fairGate{perPartner: perPartner, total: total, held: map[string]int{}, queues: map[string][]*waiter{}}
}

// acquire waits until partner may run an evaluation of units workers
// (clipped to the limits) or ctx is done, and returns the function that
// gives the units back.
func (g *fairGate) acquire(ctx context.Context, partner string, units int) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		// Already given up: never granted, even if a unit is free (the
		// select below picks at random between two ready cases).
		return nil, err
	}
	units = max(1, min(units, g.perPartner, g.total))
	w := &waiter{units: units, ready: make(chan struct{})}
	g.mu.Lock()
	if len(g.queues[partner]) == 0 {
		g.turn = append(g.turn, partner)
	}
	g.queues[partner] = append(g.queues[partner], w)
	g.dispatch()
	g.mu.Unlock()
	select {
	case <-w.ready:
		return g.releaser(partner, units), nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		select {
		case <-w.ready: // granted meanwhile: give it back
			g.release(partner, units)
		default:
			g.remove(partner, w)
		}
		return nil, ctx.Err()
	}
}

func (g *fairGate) fits(partner string, units int) bool {
	return g.used+units <= g.total && g.held[partner]+units <= g.perPartner
}

func (g *fairGate) grant(partner string, units int) {
	g.used += units
	g.held[partner] += units
}

func (g *fairGate) releaser(partner string, units int) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.release(partner, units)
		})
	}
}

// release gives units back and serves the waiters that now fit, in turn.
// g.mu is held.
func (g *fairGate) release(partner string, units int) {
	g.used -= units
	if g.held[partner] -= units; g.held[partner] == 0 {
		delete(g.held, partner)
	}
	g.dispatch()
}

// dispatch grants, partner after partner in turn, the first waiter of
// each whose units fit, until none fits. A partner served goes to the
// back of the turn. g.mu is held.
func (g *fairGate) dispatch() {
	for progress := true; progress; {
		progress = false
		for i := 0; i < len(g.turn); i++ {
			p := g.turn[i]
			w := g.queues[p][0]
			if !g.fits(p, w.units) {
				continue
			}
			g.grant(p, w.units)
			close(w.ready)
			g.turn = append(g.turn[:i], g.turn[i+1:]...)
			if g.queues[p] = g.queues[p][1:]; len(g.queues[p]) == 0 {
				delete(g.queues, p)
			} else {
				g.turn = append(g.turn, p)
			}
			progress = true
			break
		}
	}
}

// remove takes a waiter that gave up out of its queue. g.mu is held.
func (g *fairGate) remove(partner string, w *waiter) {
	q := g.queues[partner]
	for i, x := range q {
		if x == w {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	if len(q) > 0 {
		g.queues[partner] = q
	} else {
		delete(g.queues, partner)
		for i, p := range g.turn {
			if p == partner {
				g.turn = append(g.turn[:i], g.turn[i+1:]...)
				break
			}
		}
	}
	g.dispatch() // the waiters behind it may fit now
}

// serverState is what the node's server shares between its requests.
type serverState struct {
	lim      serverLimits
	adm      *admission
	gate     *fairGate
	refusals *refusalLog
	logs     *repeatHandler // the node's log handler
}

func newServerState(cfg *Config) *serverState {
	s := &serverState{lim: defaultLimits(cfg)}
	s.adm = newAdmission(&s.lim)
	s.gate = newFairGate(s.lim.workers, s.lim.totalWorkers)
	s.refusals = newRefusalLog(s.lim.period)
	s.logs = newRepeatHandler(cfg.Logger.Handler(), s.lim.period, cfg.Now)
	return s
}
