package federation

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/cryptobyte"
)

const budgetsFile = "budgets"

// budgets counts, per partner and epoch, the evaluations granted and the
// tags confirmed. Evaluations are charged to the epoch current when they
// arrive (the budget); confirmations to the epoch whose key they use, so
// that they end with the evaluations that paid for them.
//
// A change is made in memory under the mutex, so concurrent requests
// never oversubscribe, and written to disk by group commit: one writer
// goroutine at a time writes every change made since its last write, with
// one fsync, outside the mutex. A reservation is granted only once the
// write that holds it is durable, so a restart never gives a partner
// budget back; if that write fails, the changes it held are rolled back
// and their requests refused.
type budgets struct {
	mu      sync.Mutex
	idle    sync.Cond // signalled when the writer stops
	s       store
	used    map[budgetKey]counters
	closed  bool
	pending *commit // changes not yet handed to the writer; nil if none
	writing bool    // the writer goroutine runs
}

type budgetKey struct {
	partner string
	epoch   uint64
}

type counters struct {
	evaluated, confirmed uint64
}

// A commit is the changes one write of the budgets file makes durable.
type commit struct {
	done chan struct{} // closed when the write is over
	err  error         // set before done is closed
	undo []change      // what to roll back if the write fails
}

// A change adds to a partner's counters in one epoch.
type change struct {
	k budgetKey
	d counters
}

// A reservation is a change to the counters, made in memory, durable once
// wait returns nil.
type reservation struct {
	b  *budgets
	c  *commit
	ch change
}

// wait waits for the reservation's write; on an error the reservation
// was rolled back.
func (r *reservation) wait() error {
	<-r.c.done
	return r.c.err
}

// release gives back a durable reservation whose request was answered
// with an error (nothing was delivered), and records that; it does not
// wait for the write. If the write fails, the counters on disk keep the
// reservation: a partner may lose budget, never gain any.
func (r *reservation) release() {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sub(r.ch)
	if !b.closed {
		b.enqueue(change{})
	}
}

// errClosed reports a use of a closed node.
var errClosed = errors.New("federation: node closed")

// loadBudgets reads the budgets file of s. If there is none, it returns
// empty budgets and an error wrapping os.ErrNotExist.
func loadBudgets(s store) (*budgets, error) {
	b := &budgets{s: s, used: map[budgetKey]counters{}}
	b.idle.L = &b.mu
	data, err := readState(s, budgetsFile, stateBudgets)
	if errors.Is(err, os.ErrNotExist) {
		return b, err
	}
	if err != nil {
		return nil, err
	}
	if b.used, err = decodeBudgets(data); err != nil {
		return nil, err
	}
	return b, nil
}

// decodeBudgets decodes the budgets payload; the count is checked against
// the length (each entry takes at least 25 bytes) before allocating.
func decodeBudgets(data []byte) (map[budgetKey]counters, error) {
	s := cryptobyte.String(data)
	var n uint32
	if !s.ReadUint32(&n) || uint64(n)*25 > uint64(len(s)) {
		return nil, fmt.Errorf("%w: budgets", ErrCorruptState)
	}
	used := make(map[budgetKey]counters, n)
	for range n {
		var p cryptobyte.String
		var k budgetKey
		var c counters
		if !s.ReadUint8LengthPrefixed(&p) || !s.ReadUint64(&k.epoch) || !s.ReadUint64(&c.evaluated) || !s.ReadUint64(&c.confirmed) {
			return nil, fmt.Errorf("%w: budgets", ErrCorruptState)
		}
		k.partner = string(p)
		if _, dup := used[k]; dup {
			return nil, fmt.Errorf("%w: budgets: a counter twice", ErrCorruptState)
		}
		used[k] = c
	}
	if !s.Empty() {
		return nil, fmt.Errorf("%w: budgets: trailing bytes", ErrCorruptState)
	}
	return used, nil
}

// encode writes the counters in a canonical order.
func (b *budgets) encode() []byte {
	keys := make([]budgetKey, 0, len(b.used))
	for k := range b.used {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y budgetKey) int {
		if c := strings.Compare(x.partner, y.partner); c != 0 {
			return c
		}
		return cmp.Compare(x.epoch, y.epoch)
	})
	out := binary.BigEndian.AppendUint32(nil, uint32(len(keys)))
	for _, k := range keys {
		out = append(out, byte(len(k.partner)))
		out = append(out, k.partner...)
		out = binary.BigEndian.AppendUint64(out, k.epoch)
		out = binary.BigEndian.AppendUint64(out, b.used[k].evaluated)
		out = binary.BigEndian.AppendUint64(out, b.used[k].confirmed)
	}
	return out
}

// enqueue adds ch to the changes of the next write, starting the writer if
// none runs, and returns that write. b.mu is held.
func (b *budgets) enqueue(ch change) *commit {
	if b.pending == nil {
		b.pending = &commit{done: make(chan struct{})}
	}
	c := b.pending
	if ch.d != (counters{}) {
		c.undo = append(c.undo, ch)
	}
	if !b.writing {
		b.writing = true
		go b.writer()
	}
	return c
}

// writer writes the pending changes until there are none: each write
// holds every change made while the previous one was on its way to disk.
func (b *budgets) writer() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.pending != nil {
		c := b.pending
		b.pending = nil
		data := b.encode()
		b.mu.Unlock()
		err := writeState(b.s, budgetsFile, stateBudgets, data)
		b.mu.Lock()
		if err != nil {
			for _, ch := range c.undo {
				b.sub(ch)
			}
			c.err = fmt.Errorf("federation: recording budget: %w", err)
		}
		close(c.done)
	}
	b.writing = false
	b.idle.Broadcast()
}

// sub takes a change back from the counters. b.mu is held.
func (b *budgets) sub(ch change) {
	c, ok := b.used[ch.k]
	if !ok {
		return // dropped with its epoch meanwhile
	}
	c.evaluated -= min(c.evaluated, ch.d.evaluated)
	c.confirmed -= min(c.confirmed, ch.d.confirmed)
	b.used[ch.k] = c
}

// add makes a change in memory and queues it for the next write. b.mu is
// held.
func (b *budgets) add(ch change) *reservation {
	c := b.used[ch.k]
	c.evaluated += ch.d.evaluated
	c.confirmed += ch.d.confirmed
	b.used[ch.k] = c
	return &reservation{b: b, c: b.enqueue(ch), ch: ch}
}

// reserveAsync takes n evaluations from the partner's budget for the
// epoch, if limit allows, in memory at once: concurrent requests see it.
// The caller waits for the reservation to be durable before it answers.
// left is what remains of the budget.
func (b *budgets) reserveAsync(partner string, epoch uint64, n, limit int) (r *reservation, left int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, 0, errClosed
	}
	k := budgetKey{partner, epoch}
	used := b.used[k].evaluated
	if used+uint64(n) > uint64(limit) {
		return nil, int(uint64(limit) - min(used, uint64(limit))), nil
	}
	r = b.add(change{k, counters{evaluated: uint64(n)}})
	return r, limit - int(used) - n, nil
}

// reserve is reserveAsync, waiting for the reservation to be durable: ok
// says whether it was granted.
func (b *budgets) reserve(partner string, epoch uint64, n, limit int) (left int, ok bool, err error) {
	r, left, err := b.reserveAsync(partner, epoch, n, limit)
	if r == nil || err != nil {
		return left, false, err
	}
	if err := r.wait(); err != nil {
		return 0, false, err
	}
	return left, true, nil
}

// left returns what is left of the partner's budget for the epoch.
func (b *budgets) left(partner string, epoch uint64, limit int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return int(uint64(limit) - min(b.used[budgetKey{partner, epoch}].evaluated, uint64(limit)))
}

// confirmable returns how many more tags the partner may confirm: the
// evaluations it had in the epochs still kept (the current one and, in
// its grace period, the previous one), less its confirmations.
func (b *budgets) confirmable(partner string) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.confirmableLocked(partner)
}

func (b *budgets) confirmableLocked(partner string) uint64 {
	var evaluated, confirmed uint64
	for k, c := range b.used {
		if k.partner == partner {
			evaluated += c.evaluated
			confirmed += c.confirmed
		}
	}
	return evaluated - min(evaluated, confirmed)
}

// reserveConfirm allows a confirmation of n tags if the partner has not
// confirmed more tags than it had evaluated, over the epochs still kept,
// and returns the reservation to wait for, or nil if it is not allowed. It
// is charged to epoch, the epoch of the key the tags were made with. A
// partner cannot confirm what it never had evaluated, nor replay
// confirmations beyond its evaluations; its confirmations under a key
// end with the key's epoch, as the evaluations under it do.
func (b *budgets) reserveConfirm(partner string, epoch uint64, n int) (*reservation, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	if uint64(n) > b.confirmableLocked(partner) {
		return nil, nil
	}
	return b.add(change{budgetKey{partner, epoch}, counters{confirmed: uint64(n)}}), nil
}

func (b *budgets) usedBy(partner string, epoch uint64) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used[budgetKey{partner, epoch}].evaluated
}

// close waits for the writer, and makes later changes fail.
func (b *budgets) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for b.writing {
		b.idle.Wait()
	}
}

// keepEpochs drops the counters of epochs no longer served, and waits
// until that is on disk.
func (b *budgets) keepEpochs(keep func(epoch uint64) bool) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errClosed
	}
	var c *commit
	for k := range b.used {
		if !keep(k.epoch) {
			delete(b.used, k)
			c = b.enqueue(change{})
		}
	}
	b.mu.Unlock()
	if c == nil {
		return nil
	}
	<-c.done
	return c.err
}
