package federation

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// Metrics is a snapshot of a node's counters and gauges, for the metrics
// system of the team that operates it. [Node.Metrics] makes a new one at
// each call: it shares nothing with the node and may be kept. It holds
// counts, times, partner IDs, kind names and error codes: never an
// indicator value, a label, a tag or a key.
//
// Counters count from the start of the node (New), and start again from
// zero with the process, as a metrics system expects of counters. Each
// value is read atomically, but requests go on while a snapshot is taken,
// so two values may be a request apart: a budget is spent when an
// evaluation is reserved, the evaluation counted once it is answered.
type Metrics struct {
	// Time is when the snapshot was taken (Config.Now).
	Time time.Time

	// Epoch is the node's current epoch; 0 before its first publication.
	Epoch uint64
	// Version is the version of the filter the node serves, its number
	// of distinct indicators, which each addition increases
	// ([match.Filter.Version]); 0 before the first publication.
	Version uint64
	// Entries is the number of entries of the list the filter holds:
	// published or added since ([Node.Add]), duplicates included, less
	// those removed ([Node.Remove]).
	Entries int
	// CapacityLeft is how many more distinct indicators Node.Add can add
	// before the filter is full (Config.Headroom) and a publication is
	// needed.
	CapacityLeft int
	// Changed is when the filter served was made: by a publication, a
	// rotation or a change of the list, or, for one loaded from the
	// state directory, by New. Zero before the first publication.
	Changed time.Time

	// Partners are the metrics of each partner, in the order of
	// Config.Partners.
	Partners []PartnerMetrics
}

// PartnerMetrics are the metrics of one partner in both of its roles:
// as querier of this node, which serves it, and as publisher of the
// filter this node follows.
type PartnerMetrics struct {
	// Partner is the partner's ID.
	Partner string

	// Evaluations are the evaluations (indicators) this node answered
	// to the partner, by kind name. Past the 64th kind name a partner
	// declares, the others are counted together under "_other", which no
	// kind name can be.
	Evaluations map[string]uint64
	// Budget is the partner's budget of evaluations per epoch
	// (Partner.Budget), and BudgetLeft what is left of it in the current
	// epoch.
	Budget, BudgetLeft int
	// ConfirmedTags are the tags the partner had this node confirm, and
	// ConfirmedHits those that were on this node's list.
	ConfirmedTags, ConfirmedHits uint64
	// Refusals are the partner's requests that this node refused, by
	// error code (the Code constants): the counts that the audit log
	// records once a period (AuditRefusal), summed since start.
	Refusals map[string]uint64
	// Latency is the time this node took to answer the partner's
	// requests, by endpoint: "filter", "filter_wait" (a GET filter that
	// waits for a new version, up to a minute: PROTOCOL.md 5.3),
	// "evaluate", "confirm", "health", "count_filter" and "count"
	// (cardinality-only queries); a request is counted once its
	// answer is written. Requests refused before they name a partner
	// (without a certificate, or with a certificate of no partner) are
	// not counted.
	Latency map[string]Histogram

	// PartnerEpoch and PartnerVersion are those of the partner's filter
	// that this node accepted last, whole or as a delta, and
	// PartnerAccepted when (Config.Now); zeros if it accepted none since
	// start. Time less PartnerAccepted is the time since this node last
	// received a new version of the partner's filter; it grows when the
	// partner's list does not change, and when the partner cannot be
	// reached.
	PartnerEpoch, PartnerVersion uint64
	PartnerAccepted              time.Time
	// Blocked says that this node does not contact the partner now: it
	// misbehaved in its current epoch ([ErrPartnerBlocked]).
	Blocked bool
	// Queried are the evaluations this node had the partner make (its
	// own indicators, blinded), by kind name, and Hits the hits the
	// partner confirmed to it.
	Queried map[string]uint64
	Hits    uint64
}

// A Histogram counts durations in fixed buckets, as a Prometheus
// histogram does.
type Histogram struct {
	// Bounds are the buckets' upper bounds, in ascending order; the last
	// bucket, without a bound (+Inf), is implicit.
	Bounds []time.Duration
	// Counts[i] is the number of durations at most Bounds[i]: the
	// counts are cumulative.
	Counts []uint64
	// Count is the number of durations, all buckets included, and Sum
	// their total.
	Count uint64
	Sum   time.Duration
}

// Metrics returns a snapshot of the node's counters and gauges. It holds
// each lock it takes only to copy a few numbers, so that a metrics system
// may call it at every scrape.
func (n *Node) Metrics() Metrics {
	now := n.cfg.Now()
	n.mu.RLock()
	e, epoch := n.current, n.sched.current.number
	n.mu.RUnlock()
	m := Metrics{Time: now, Epoch: epoch}
	if e != nil {
		f := e.pub.Filter()
		m.Version, m.Changed = f.Version(), e.made
		m.Entries = e.pub.Entries() - e.pub.Removed()
		m.CapacityLeft = max(0, e.pub.Capacity()-f.Len())
	}
	refusals := n.srv.refusals.totals()
	for i := range n.cfg.Partners {
		p := &n.cfg.Partners[i]
		s := n.served[p.ID]
		pm := PartnerMetrics{
			Partner:       p.ID,
			Evaluations:   s.evaluations.snapshot(),
			Budget:        p.Budget,
			BudgetLeft:    n.budgets.left(p.ID, epoch, p.Budget),
			ConfirmedTags: s.tags.Load(),
			ConfirmedHits: s.hits.Load(),
			Refusals:      refusals[p.ID],
			Latency:       make(map[string]Histogram, numEndpoints),
		}
		if pm.Refusals == nil {
			pm.Refusals = map[string]uint64{}
		}
		for j, name := range endpointNames {
			pm.Latency[name] = s.latency[j].snapshot()
		}
		n.Matcher.followed(p, now, &pm)
		m.Partners = append(m.Partners, pm)
	}
	return m
}

// servedCounters are what a node counts of the requests of one partner.
type servedCounters struct {
	evaluations kindCounters
	tags, hits  atomic.Uint64 // confirmed
	latency     [numEndpoints]histogram
}

func newServedCounters(partners []Partner) map[string]*servedCounters {
	m := make(map[string]*servedCounters, len(partners))
	for _, p := range partners {
		m[p.ID] = &servedCounters{}
	}
	return m
}

// evaluated counts an evaluation answered to p, of count indicators of
// kind, and logs that it leaves p no budget in epoch, the epoch charged.
func (n *Node) evaluated(p *Partner, kind string, count int, epoch uint64, left int) {
	n.served[p.ID].evaluations.add(kind, uint64(count))
	if left == 0 {
		n.log.Info("budget exhausted", "partner", p.ID, "epoch", epoch, "budget", p.Budget)
	}
}

// confirmed counts a confirmation of tags tags for p, hits of them hits.
func (n *Node) confirmed(p *Partner, tags, hits int) {
	s := n.served[p.ID]
	s.tags.Add(uint64(tags))
	s.hits.Add(uint64(hits))
}

// observe counts the latency of p's request r, which started at start.
func (n *Node) observe(p *Partner, r *http.Request, start time.Time) {
	if i := endpointOf(r); i >= 0 {
		n.served[p.ID].latency[i].observe(time.Since(start))
	}
}

// The endpoints whose latency a node measures, and their names in
// PartnerMetrics.Latency.
const (
	endpointFilter = iota
	endpointFilterWait
	endpointEvaluate
	endpointConfirm
	endpointHealth
	endpointCountFilter
	endpointCount
	numEndpoints
)

var endpointNames = [numEndpoints]string{"filter", "filter_wait", "evaluate", "confirm", "health", "count_filter", "count"}

// endpointOf returns the endpoint of a request that the node's handler
// routed (its ServeMux pattern), or -1.
func endpointOf(r *http.Request) int {
	switch strings.TrimPrefix(r.Pattern, PathPrefix) {
	case "filter":
		if r.URL.Query().Has("wait") {
			return endpointFilterWait
		}
		return endpointFilter
	case "evaluate":
		return endpointEvaluate
	case "confirm":
		return endpointConfirm
	case "health":
		return endpointHealth
	case "count-filter":
		return endpointCountFilter
	case "count":
		return endpointCount
	}
	return -1
}

// latencyBounds are the upper bounds of the latency buckets: from a
// health check on a local network to the longest long poll and the
// evaluation of the largest batch on a busy node.
var latencyBounds = [...]time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute,
}

// A histogram counts durations in the buckets of latencyBounds, without a
// lock.
type histogram struct {
	counts [len(latencyBounds) + 1]atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    atomic.Int64                          // nanoseconds
}

func (h *histogram) observe(d time.Duration) {
	i, _ := slices.BinarySearch(latencyBounds[:], d) // the first bound ≥ d
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

func (h *histogram) snapshot() Histogram {
	s := Histogram{Bounds: slices.Clone(latencyBounds[:]), Counts: make([]uint64, len(latencyBounds))}
	for i := range h.counts {
		s.Count += h.counts[i].Load()
		if i < len(s.Counts) {
			s.Counts[i] = s.Count
		}
	}
	s.Sum = time.Duration(h.sum.Load())
	return s
}

// maxMetricKinds bounds the kind names counted apart in a kindCounters;
// beyond, they are counted under otherKinds, which no kind name can be
// (indicator.CheckKindName).
const (
	maxMetricKinds = 64
	otherKinds     = "_other"
)

// kindCounters count by kind name. A count of a kind already seen takes
// no lock.
type kindCounters struct {
	m     sync.Map      // kind name -> *atomic.Uint64
	mu    sync.Mutex    // serialises adding a kind name to m
	n     int           // kind names in m; guarded by mu
	other atomic.Uint64 // beyond maxMetricKinds
}

func (k *kindCounters) add(kind string, v uint64) {
	k.counter(kind).Add(v)
}

func (k *kindCounters) counter(kind string) *atomic.Uint64 {
	if c, ok := k.m.Load(kind); ok {
		return c.(*atomic.Uint64)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.m.Load(kind); ok {
		return c.(*atomic.Uint64)
	}
	if k.n >= maxMetricKinds {
		return &k.other
	}
	c := new(atomic.Uint64)
	k.m.Store(kind, c)
	k.n++
	return c
}

func (k *kindCounters) snapshot() map[string]uint64 {
	out := map[string]uint64{}
	k.m.Range(func(kind, c any) bool {
		out[kind.(string)] = c.(*atomic.Uint64).Load()
		return true
	})
	if v := k.other.Load(); v > 0 {
		out[otherKinds] = v
	}
	return out
}

// countTotal counts a refusal in the totals since start. rl.mu is held.
func (rl *refusalLog) countTotal(partner, code string) {
	if rl.total == nil {
		rl.total = map[string]map[string]uint64{}
	}
	if rl.total[partner] == nil {
		rl.total[partner] = map[string]uint64{}
	}
	rl.total[partner][code]++
}

// totals returns a copy of the refusals counted since start, by partner
// and code.
func (rl *refusalLog) totals() map[string]map[string]uint64 {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	out := make(map[string]map[string]uint64, len(rl.total))
	for p, byCode := range rl.total {
		out[p] = maps.Clone(byCode)
	}
	return out
}

// clientStats are what a partnerClient counts for Node.Metrics: queried
// and hits without a lock, the filter accepted under the client's mu.
type clientStats struct {
	queried        kindCounters  // evaluations asked, by kind
	hits           atomic.Uint64 // hits the partner confirmed
	epoch, version uint64        // of the filter accepted last
	accepted       time.Time     // when
}

// accept records that c accepted f, whole or from a delta, and logs it.
// c.mu is held.
func (c *partnerClient) accept(f *match.Filter, delta bool) {
	s := &c.stats
	s.epoch, s.version, s.accepted = f.Epoch(), f.Version(), c.m.cfg.Now()
	c.m.cfg.Logger.Info("partner filter accepted", "partner", c.p.ID, "epoch", f.Epoch(), "version", f.Version(), "delta", delta)
}

// followed fills in pm what m knows of partner p's filter and the
// queries m sent it.
func (m *Matcher) followed(p *Partner, now time.Time, pm *PartnerMetrics) {
	m.clientsMu.Lock()
	c := m.clients[p.ID]
	m.clientsMu.Unlock()
	if c == nil { // never contacted
		pm.Queried = map[string]uint64{}
		return
	}
	c.mu.Lock()
	pm.PartnerEpoch, pm.PartnerVersion, pm.PartnerAccepted = c.stats.epoch, c.stats.version, c.stats.accepted
	pm.Blocked = c.blocked != nil && !now.After(c.blocked.until)
	c.mu.Unlock()
	pm.Queried, pm.Hits = c.stats.queried.snapshot(), c.stats.hits.Load()
}
