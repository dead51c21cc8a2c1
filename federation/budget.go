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

// budgets counts the evaluations each partner used in each epoch. A
// reservation is written to disk before it is granted, so a restart never
// gives a partner budget back, and the mutex serialises reservations, so
// concurrent requests never oversubscribe.
type budgets struct {
	mu   sync.Mutex
	dir  string
	used map[budgetKey]uint64
}

type budgetKey struct {
	partner string
	epoch   uint64
}

func loadBudgets(dir string) (*budgets, error) {
	b := &budgets{dir: dir, used: map[budgetKey]uint64{}}
	data, err := readState(dir, budgetsFile, stateBudgets)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
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
// the length (each counter takes at least 17 bytes) before allocating.
func decodeBudgets(data []byte) (map[budgetKey]uint64, error) {
	s := cryptobyte.String(data)
	var n uint32
	if !s.ReadUint32(&n) || uint64(n)*17 > uint64(len(s)) {
		return nil, fmt.Errorf("%w: budgets", ErrCorruptState)
	}
	used := make(map[budgetKey]uint64, n)
	for range n {
		var p cryptobyte.String
		var k budgetKey
		var u uint64
		if !s.ReadUint8LengthPrefixed(&p) || !s.ReadUint64(&k.epoch) || !s.ReadUint64(&u) {
			return nil, fmt.Errorf("%w: budgets", ErrCorruptState)
		}
		k.partner = string(p)
		if _, dup := used[k]; dup {
			return nil, fmt.Errorf("%w: budgets: a counter twice", ErrCorruptState)
		}
		used[k] = u
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
		out = binary.BigEndian.AppendUint64(out, b.used[k])
	}
	return out
}

// reserve takes n evaluations from the partner's budget for the epoch, if
// limit allows, and makes the reservation durable before granting it. It
// returns what is left.
func (b *budgets) reserve(partner string, epoch uint64, n, limit int) (left int, ok bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := budgetKey{partner, epoch}
	used := b.used[k]
	if used+uint64(n) > uint64(limit) {
		return int(uint64(limit) - min(used, uint64(limit))), false, nil
	}
	b.used[k] = used + uint64(n)
	if err := writeState(b.dir, budgetsFile, stateBudgets, b.encode()); err != nil {
		b.used[k] = used
		return 0, false, fmt.Errorf("federation: recording budget: %w", err)
	}
	return limit - int(used) - n, true, nil
}

func (b *budgets) usedBy(partner string, epoch uint64) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used[budgetKey{partner, epoch}]
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
	return writeState(b.dir, budgetsFile, stateBudgets, b.encode())
}
