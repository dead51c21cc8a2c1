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

// Batched changes (Config.ChangeInterval, Config.ChangePadding). A
// partner that follows a node's filter sees each new version, when it
// comes and how much it grew (PROTOCOL.md 2.8). With an interval, Node.Add
// queues its entries and the node publishes the queue at ticks, the
// epoch's start + k·interval: a partner sees the ticks, not the Adds.
// With padding, every tick publishes a version of exactly ChangePadding
// insertions, real or padding, so that it sees the same at every tick
// whether or not anything was added. Removals are applied at once: they
// make no version.

// A changeQueue holds the additions waiting for the next tick, and the
// last tick published.
type changeQueue struct {
	mu      sync.Mutex
	pending []*changeRequest
	closed  bool
	epoch   uint64 // the epoch of tick
	tick    uint64 // the last tick published, or due when the node started
}

// A changeRequest is one Node.Add waiting for its tick.
type changeRequest struct {
	entries []match.Entry
	done    chan changeResult // buffered: the tick never waits
}

type changeResult struct {
	added int
	err   error
}

// start records the tick due at now in epoch ref as published, so that a
// node that starts mid-epoch publishes the next tick, not one it may have
// published before it stopped.
func (q *changeQueue) start(ref epochRef, now time.Time, interval time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if interval > 0 && ref.number != 0 {
		q.epoch, q.tick = ref.number, tickIndex(ref.start, now, interval)
	}
}

// push queues r, unless the node is closed.
func (q *changeQueue) push(r *changeRequest) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errClosed
	}
	q.pending = append(q.pending, r)
	return nil
}

// withdraw removes r from the queue, and reports whether it was still
// there (no tick has taken it).
func (q *changeQueue) withdraw(r *changeRequest) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := slices.Index(q.pending, r)
	if i < 0 {
		return false
	}
	q.pending = slices.Delete(q.pending, i, i+1)
	return true
}

// due reports whether a tick of epoch ref is due at now that was not
// published, and if so takes it: it returns the tick's number and the
// requests queued for it.
func (q *changeQueue) due(ref epochRef, now time.Time, interval time.Duration) (tick uint64, reqs []*changeRequest, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.epoch != ref.number {
		q.epoch, q.tick = ref.number, 0 // a new epoch: ticks from its start
	}
	k := tickIndex(ref.start, now, interval)
	if k <= q.tick {
		return 0, nil, false
	}
	q.tick = k
	reqs, q.pending = q.pending, nil
	return k, reqs, true
}

// close fails the requests waiting, and any later one, with errClosed.
func (q *changeQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for _, r := range q.pending {
		r.done <- changeResult{err: errClosed}
	}
	q.pending = nil
}

// tickIndex is the number of ticks of an epoch started at start, every
// interval, up to now: 0 before the first.
func tickIndex(start, now time.Time, interval time.Duration) uint64 {
	if !now.After(start) {
		return 0
	}
	return uint64(now.Sub(start) / interval)
}

// nextTick is when the tick after now comes, for an epoch started at
// start; it is zero without an interval or an epoch.
func nextTick(start, now time.Time, interval time.Duration) time.Time {
	if interval <= 0 || start.IsZero() {
		return time.Time{}
	}
	return start.Add(time.Duration(tickIndex(start, now, interval)+1) * interval)
}

// ticksPerEpoch is the number of ticks an epoch's filter keeps padding
// for: ⌈length/interval⌉, the ticks before the rotation and one more (a
// late rotation, or a tick that a refusal split).
func ticksPerEpoch(length, interval time.Duration) int {
	return int((length + interval - 1) / interval)
}

// epochPadding is the room, in insertions, an epoch's filter keeps for
// the padding of its ticks.
func (c *Config) epochPadding() int {
	if c.ChangePadding == 0 {
		return 0
	}
	return ticksPerEpoch(c.EpochLength, c.ChangeInterval) * c.ChangePadding
}

// checkChanges checks ChangeInterval and ChangePadding, once EpochLength
// has its default.
func (c *Config) checkChanges() error {
	if c.ChangeInterval == 0 {
		if c.ChangePadding > 0 {
			return errors.New("federation: ChangePadding needs ChangeInterval: padding hides additions only at fixed times")
		}
		return nil
	}
	switch {
	case c.ChangeInterval < time.Second:
		return fmt.Errorf("federation: ChangeInterval %v below a second", c.ChangeInterval)
	case 2*c.ChangeInterval > c.EpochLength:
		return fmt.Errorf("federation: ChangeInterval %v above half of EpochLength %v: an epoch would have no tick", c.ChangeInterval, c.EpochLength)
	case c.ChangePadding > match.MaxDeltaLen:
		return fmt.Errorf("federation: ChangePadding %d above %d, the largest delta", c.ChangePadding, match.MaxDeltaLen)
	}
	ticks := ticksPerEpoch(c.EpochLength, c.ChangeInterval)
	if c.ChangePadding == 0 {
		return nil
	}
	if float64(ticks)*float64(c.ChangePadding) > match.MaxEntries {
		return fmt.Errorf("federation: ChangePadding %d at %d ticks an epoch needs room for %d insertions, above %d",
			c.ChangePadding, ticks, uint64(ticks)*uint64(c.ChangePadding), uint64(match.MaxEntries))
	}
	// The bits of a filter with room for the padding alone (PROTOCOL.md 1.4).
	fpr := c.FalsePositiveRate
	if fpr == 0 {
		fpr = match.DefaultFalsePositiveRate
	}
	if bits := -float64(ticks*c.ChangePadding) * math.Log(fpr) / (math.Ln2 * math.Ln2); bits > match.MaxFilterBits {
		return fmt.Errorf("federation: ChangePadding %d at %d ticks an epoch needs a filter of %.3g bits, above %d",
			c.ChangePadding, ticks, bits, uint64(match.MaxFilterBits))
	}
	return nil
}

// addBatched is Node.Add with Config.ChangeInterval: it queues the entries
// for the next tick and waits for it.
func (n *Node) addBatched(ctx context.Context, entries []match.Entry) (int, error) {
	if n.closed.Load() {
		return 0, errClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		return 0, nil
	}
	// What the publisher would refuse for one entry alone is refused here,
	// so that it does not fail the batch it would share.
	for i, e := range entries {
		if e.Indicator.IsZero() {
			return 0, fmt.Errorf("%w: entry %d: zero indicator", indicator.ErrInvalid, i)
		}
		if err := match.CheckLabel(e.Label); err != nil {
			return 0, fmt.Errorf("federation: entry %d: label: %w", i, err)
		}
		if err := match.CheckLabel(e.Ref); err != nil {
			return 0, fmt.Errorf("federation: entry %d: reference: %w", i, err)
		}
	}
	if n.Filter() == nil {
		return 0, errors.New("federation: nothing published yet: Publish first")
	}
	r := &changeRequest{entries: entries, done: make(chan changeResult, 1)}
	if err := n.changes.push(r); err != nil {
		return 0, err
	}
	select {
	case res := <-r.done:
		return res.added, res.err
	case <-ctx.Done():
		if n.changes.withdraw(r) {
			return 0, ctx.Err()
		}
		res := <-r.done // a tick has it: its outcome is the answer
		return res.added, res.err
	}
}

// A published is what one call to the publisher added at a tick: for the
// audit log.
type published struct {
	from, to uint64 // versions
	entries  int
	fresh    int
}

// publishChanges publishes the tick of ChangeInterval due at now, if any:
// the additions queued, and with ChangePadding the padding, in versions of
// exactly ChangePadding insertions, at least one. The queued requests are
// answered once the versions and their audit records are on disk. opMu
// is held.
func (n *Node) publishChanges(now time.Time) error {
	if n.cfg.ChangeInterval == 0 {
		return nil
	}
	n.mu.RLock()
	cur, ref := n.current, n.sched.current
	n.mu.RUnlock()
	if cur == nil {
		return nil
	}
	tick, reqs, ok := n.changes.due(ref, now, n.cfg.ChangeInterval)
	if !ok {
		return nil
	}
	results := make([]changeResult, len(reqs))
	defer func() {
		for i, r := range reqs {
			r.done <- results[i]
		}
	}()
	// What the publisher took, versions or only labels (an indicator it
	// held), to write and audit.
	var pubs []published
	add := func(entries []match.Entry) (int, error) {
		v := cur.pub.Filter().Version()
		fresh, err := n.addAtTick(cur.pub, entries, tick)
		if err == nil {
			pubs = append(pubs, published{from: v, to: cur.pub.Filter().Version(), entries: len(entries), fresh: fresh})
		}
		return fresh, err
	}
	before := cur.pub.Filter().Version()
	// The whole queue at once; if the publisher refuses it, each Add
	// alone, so that one Add's refusal (an indicator withdrawn, too many
	// repeats, no room) is not another's. Each is then its own versions.
	if all := slices.Concat(entriesOf(reqs)...); len(all) > 0 {
		fresh, err := add(all)
		switch {
		case err == nil:
			for i := range results {
				results[i].added = fresh
			}
		case len(reqs) == 1:
			results[0].err = err
		default:
			for i, r := range reqs {
				results[i].added, results[i].err = add(r.entries)
			}
		}
	}
	var padErr error
	if n.cfg.ChangePadding > 0 && cur.pub.Filter().Version() == before {
		if _, padErr = add(nil); padErr != nil {
			padErr = fmt.Errorf("federation: padding of tick %d of epoch %d: %w", tick, cur.number, padErr)
			n.log.Error("padding not published", "epoch", cur.number, "err", padErr)
		}
	}
	if len(pubs) == 0 {
		return padErr
	}
	e, err := n.commit(cur, ref, n.tickRecords(cur.number, tick, pubs))
	if err != nil {
		for i := range results {
			if results[i].err == nil {
				results[i] = changeResult{err: err}
			}
		}
		return err
	}
	version, entries := e.pub.Filter().Version(), 0
	for _, p := range pubs {
		entries += p.entries
	}
	n.log.Info("list changed", "epoch", e.number, "added", entries, "version", version, "tick", tick)
	if err := n.auditChange(e); err != nil {
		for i := range results {
			if results[i].err == nil {
				results[i].err = err
			}
		}
		return err
	}
	return padErr
}

func entriesOf(reqs []*changeRequest) [][]match.Entry {
	out := make([][]match.Entry, len(reqs))
	for i, r := range reqs {
		out[i] = r.entries
	}
	return out
}

// addAtTick adds entries to pub at tick, padded with ChangePadding. The
// padding of the epoch's later ticks is kept: entries get the room left
// beyond it.
func (n *Node) addAtTick(pub *match.Publisher, entries []match.Entry, tick uint64) (int, error) {
	size := n.cfg.ChangePadding
	if size == 0 {
		return pub.Add(entries)
	}
	if len(entries) == 0 {
		return pub.AddPadded(nil, size, 1)
	}
	later := 0 // ticks of the epoch after this one
	if t := uint64(ticksPerEpoch(n.cfg.EpochLength, n.cfg.ChangeInterval)); tick < t {
		later = int(t - tick)
	}
	room := pub.Capacity() - int(pub.Filter().Version()) - later*size
	if room < size {
		return 0, fmt.Errorf("%w: no room left beyond the padding kept for the epoch's %d later ticks", match.ErrCapacity, later)
	}
	fresh, err := pub.AddPadded(entries, size, room/size)
	if errors.Is(err, match.ErrPadding) {
		err = fmt.Errorf("%w: beyond the padding kept for the epoch's %d later ticks: %w", match.ErrCapacity, later, err)
	}
	return fresh, err
}

// tickRecords are the audit records of the versions a tick published:
// for each, its insertions, how many are new indicators and how many
// padding; and for entries that made no version (their indicators were
// held), one. Counts only.
func (n *Node) tickRecords(epoch, tick uint64, pubs []published) []AuditRecord {
	var recs []AuditRecord
	size := uint64(n.cfg.ChangePadding)
	for _, p := range pubs {
		if p.to == p.from {
			recs = append(recs, AuditRecord{Type: AuditChange, Epoch: epoch,
				Count: uint64(p.entries), Detail: fmt.Sprintf("version %d, tick %d", p.to, tick)})
			continue
		}
		fresh := uint64(p.fresh)
		step := p.to - p.from // one version without padding
		if size > 0 {
			step = size
		}
		for v := p.from; v < p.to; v += step {
			real := min(fresh, step)
			fresh -= real
			count := 0
			if v == p.from {
				count = p.entries
			}
			detail := fmt.Sprintf("version %d after %d, tick %d", v+step, v, tick)
			if size > 0 {
				detail += fmt.Sprintf(", padded: %d new indicators, %d padding", real, step-real)
			}
			recs = append(recs, AuditRecord{Type: AuditChange, Epoch: epoch, Count: uint64(count), Detail: detail})
		}
	}
	return recs
}

// earliest returns the earlier of two times, a zero one being none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}
