package federation

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// A refusalLog counts the requests refused to each partner, by error
// code, and records them once per period: one audit record (AuditRefusal,
// Count: the refusals, Detail: how many of each code) and one log line
// per partner refused anything, instead of one per request, so that a
// partner sending requests that cost nothing cannot grow the audit log or
// the node's log by request.
//
// A period opens with the first refusal after the last record. The
// counts are recorded when it is over: by a timer, by the next refusal,
// by Maintain, and by Close, so that a clean shutdown loses nothing. A
// crash loses the counts of the period still open (at most one period,
// a minute by default); refusals change no budget, and every request
// that spends one is recorded on its own, before it is answered.
type refusalLog struct {
	mu      sync.Mutex
	period  time.Duration
	start   time.Time                    // of the open period; zero if none
	counts  map[string]map[string]uint64 // partner -> code -> refusals
	total   map[string]map[string]uint64 // the same since start (metrics.go)
	timer   *time.Timer
	stopped bool

	writeMu sync.Mutex // serialises recording
}

func newRefusalLog(period time.Duration) *refusalLog {
	return &refusalLog{period: period, counts: map[string]map[string]uint64{}}
}

// countRefusal counts one refusal of partner with code, recording the
// previous period first if it is over.
func (n *Node) countRefusal(partner, code string) {
	rl := n.srv.refusals
	now := n.cfg.Now()
	rl.mu.Lock()
	over := !rl.start.IsZero() && now.Sub(rl.start) >= rl.period
	rl.mu.Unlock()
	if over {
		n.flushRefusals(false)
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.stopped {
		return
	}
	if rl.start.IsZero() {
		rl.start = now
		rl.timer = time.AfterFunc(rl.period, func() { n.flushRefusals(false) })
	}
	if rl.counts[partner] == nil {
		rl.counts[partner] = map[string]uint64{}
	}
	rl.counts[partner][code]++
	rl.countTotal(partner, code) // since start, for Metrics
}

// take ends the open period and returns its counts. rl.mu is held.
func (rl *refusalLog) take() (map[string]map[string]uint64, time.Time) {
	counts, from := rl.counts, rl.start
	rl.counts, rl.start = map[string]map[string]uint64{}, time.Time{}
	if rl.timer != nil {
		rl.timer.Stop()
		rl.timer = nil
	}
	return counts, from
}

// flushRefusals records the counts of the open period: if it is over,
// or at once if force is set.
func (n *Node) flushRefusals(force bool) {
	rl := n.srv.refusals
	rl.writeMu.Lock()
	defer rl.writeMu.Unlock()
	now := n.cfg.Now()
	rl.mu.Lock()
	if rl.start.IsZero() || rl.stopped {
		rl.mu.Unlock()
		return
	}
	if !force && now.Sub(rl.start) < rl.period {
		// The timer ran ahead of Config.Now: look again later.
		rl.timer = time.AfterFunc(rl.period, func() { n.flushRefusals(false) })
		rl.mu.Unlock()
		return
	}
	due, from := rl.take()
	rl.mu.Unlock()
	n.recordRefusals(due, from, now)
}

// stopRefusals records what is counted and stops counting, and reports
// the log records held back: at Close, before the audit log closes. Refusals counted by requests that are
// still being answered after it are not recorded.
func (n *Node) stopRefusals() {
	rl := n.srv.refusals
	rl.writeMu.Lock()
	defer rl.writeMu.Unlock()
	rl.mu.Lock()
	due, from := rl.take()
	rl.stopped = true
	rl.mu.Unlock()
	if len(due) > 0 {
		n.recordRefusals(due, from, n.cfg.Now())
	}
	n.srv.logs.st.flush(true)
}

// recordRefusals appends one audit record and logs one line per partner
// of counts, the refusals from from to to. If the audit log fails, the
// log line still says what was refused. rl.writeMu is held.
func (n *Node) recordRefusals(counts map[string]map[string]uint64, from, to time.Time) {
	epoch := n.Epoch()
	for _, partner := range slices.Sorted(maps.Keys(counts)) {
		byCode := counts[partner]
		var total uint64
		var parts []string
		for _, code := range slices.Sorted(maps.Keys(byCode)) {
			total += byCode[code]
			parts = append(parts, fmt.Sprintf("%s %d", code, byCode[code]))
		}
		reasons := strings.Join(parts, ", ")
		span := to.Sub(from).Round(time.Second)
		detail := fmt.Sprintf("%s (in %v from %s)", reasons, span, from.UTC().Format(time.RFC3339))
		n.log.Info("refused requests", "partner", partner, "count", total, "reasons", reasons, "since", from, "for", span)
		if err := n.audit.append(AuditRecord{Time: to, Type: AuditRefusal, Partner: partner, Epoch: epoch,
			Count: total, Detail: detail}); err != nil {
			n.log.Error("audit: refusals not recorded", "partner", partner, "count", total, "err", err)
		}
	}
}
