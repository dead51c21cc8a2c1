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
// tags confirmed. A reservation is written to disk before it is granted,
// so a restart never gives a partner budget back, and the mutex
// serialises reservations, so concurrent requests never oversubscribe.
type budgets struct {
	mu     sync.Mutex
	s      store
	used   map[budgetKey]counters
	closed bool
}

type budgetKey struct {
	partner string
	epoch   uint64
}

type counters struct {
	evaluated, confirmed uint64
}

// errClosed reports a use of a closed node.
var errClosed = errors.New("federation: node closed")

// loadBudgets reads the budgets file of s. If there is none, it returns
// empty budgets and an error wrapping os.ErrNotExist.
func loadBudgets(s store) (*budgets, error) {
	b := &budgets{s: s, used: map[budgetKey]counters{}}
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

// save writes the counters; on failure the caller restores what it
// changed.
func (b *budgets) save() error {
	if b.closed {
		return errClosed
	}
	if err := writeState(b.s, budgetsFile, stateBudgets, b.encode()); err != nil {
		return fmt.Errorf("federation: recording budget: %w", err)
	}
	return nil
}

// reserve takes n evaluations from the partner's budget for the epoch, if
// limit allows, and makes the reservation durable before granting it. It
// returns what is left.
func (b *budgets) reserve(partner string, epoch uint64, n, limit int) (left int, ok bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := budgetKey{partner, epoch}
	old := b.used[k]
	if old.evaluated+uint64(n) > uint64(limit) {
		return int(uint64(limit) - min(old.evaluated, uint64(limit))), false, nil
	}
	c := old
	c.evaluated += uint64(n)
	b.used[k] = c
	if err := b.save(); err != nil {
		b.used[k] = old
		return 0, false, err
	}
	return limit - int(c.evaluated), true, nil
}

// reserveConfirm allows a confirmation of n tags if the partner has not
// confirmed more tags than it had evaluated, over the epochs still kept
// (the current one and, in its grace period, the previous one); it is
// charged to epoch. A partner cannot confirm what it never had evaluated,
// nor replay confirmations beyond its evaluations.
func (b *budgets) reserveConfirm(partner string, epoch uint64, n int) (ok bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var evaluated, confirmed uint64
	for k, c := range b.used {
		if k.partner == partner {
			evaluated += c.evaluated
			confirmed += c.confirmed
		}
	}
	if confirmed+uint64(n) > evaluated {
		return false, nil
	}
	k := budgetKey{partner, epoch}
	old := b.used[k]
	c := old
	c.confirmed += uint64(n)
	b.used[k] = c
	if err := b.save(); err != nil {
		b.used[k] = old
		return false, err
	}
	return true, nil
}

func (b *budgets) usedBy(partner string, epoch uint64) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used[budgetKey{partner, epoch}].evaluated
}

func (b *budgets) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

// keepEpochs drops the counters of epochs no longer served.
func (b *budgets) keepEpochs(keep func(epoch uint64) bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	changed := false
	for k := range b.used {
		if !keep(k.epoch) {
			delete(b.used, k)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return b.save()
}
