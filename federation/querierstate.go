package federation

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/match"
)

// What the querying half of a Node keeps in its state directory, so that
// a restart neither accepts a partner's older filter nor pays again for
// evaluations:
//
//	partners.state   (statePartnersFrom) for each partner, the last
//	                 filter accepted: count:u16, count × (idLen:u8 id
//	                 epoch:u64 keyID[16] genLen:u8 gen version:u64
//	                 notBefore:i64), sorted by id; notBefore is the
//	                 filter's, Unix seconds. A file of type statePartners
//	                 (an earlier release) has no notBefore.
//	standing-ID      (stateStanding) partner ID's standing match: genLen:u8
//	                 gen, then the match.Watch encoding (type 0x0D)
const (
	partnersFile   = "partners.state"
	standingPrefix = "standing-"
)

// A seen is the last filter accepted from a partner: a later filter of
// an older epoch, or of an older version of the same line, is a rollback
// (ErrFilterRollback), across restarts too.
type seen struct {
	epoch     uint64
	key       match.KeyID
	gen       string
	version   uint64
	notBefore int64 // the filter's, Unix seconds; 0: not known
}

// rollback reports whether f, of line gen, is older than what s says was
// accepted.
func (s seen) rollback(f *match.Filter, gen string) error {
	switch {
	case f.Epoch() < s.epoch && !s.renumbered(f):
		return fmt.Errorf("epoch %d after %d", f.Epoch(), s.epoch)
	case f.Epoch() == s.epoch && f.KeyID() != s.key && !s.renumbered(f):
		// Epochs are never numbered twice but by a fresh start.
		return fmt.Errorf("epoch %d under another key, valid from no later than the one accepted", f.Epoch())
	case f.Epoch() == s.epoch && f.KeyID() == s.key && gen != "" && gen == s.gen && f.Version() < s.version:
		return fmt.Errorf("version %d of epoch %d after version %d", f.Version(), f.Epoch(), s.version)
	}
	return nil
}

// renumbered reports whether f, of an epoch not above s's, is a partner's
// fresh start (a node that lost its state numbers its epochs from 1
// again) rather than an older filter: it is under another key and valid
// only from after the time the filter s records was valid from. An older
// filter, or a copy of one restored from a backup, is valid from before:
// it was signed then.
func (s seen) renumbered(f *match.Filter) bool {
	return s.notBefore != 0 && f.KeyID() != s.key && f.NotBefore().Unix() > s.notBefore
}

// seenBook keeps the seen of every partner of a Matcher, on disk if it has
// a store.
type seenBook struct {
	st store // nil: in memory only

	mu   sync.Mutex
	seen map[string]seen // as on disk, with a store
}

func loadSeen(st store) (*seenBook, error) {
	b := &seenBook{st: st, seen: map[string]seen{}}
	if st == nil {
		return b, nil
	}
	data, err := st.read(partnersFile)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	typ, payload, err := decodeStateOf(data, statePartnersFrom, statePartners)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", partnersFile, err)
	}
	s := cryptobyte.String(payload)
	var count uint16
	if !s.ReadUint16(&count) {
		return nil, fmt.Errorf("%s: %w: truncated", partnersFile, ErrCorruptState)
	}
	prev := ""
	for i := range int(count) {
		var id, gen cryptobyte.String
		var kid []byte
		var sn seen
		var from uint64
		if !s.ReadUint8LengthPrefixed(&id) || !s.ReadUint64(&sn.epoch) || !s.ReadBytes(&kid, match.KeyIDSize) ||
			!s.ReadUint8LengthPrefixed(&gen) || !s.ReadUint64(&sn.version) ||
			typ == statePartnersFrom && !s.ReadUint64(&from) {
			return nil, fmt.Errorf("%s: %w: partner %d truncated", partnersFile, ErrCorruptState, i)
		}
		sn.notBefore = int64(from)
		if i > 0 && string(id) <= prev {
			return nil, fmt.Errorf("%s: %w: partners out of order", partnersFile, ErrCorruptState)
		}
		prev = string(id)
		copy(sn.key[:], kid)
		sn.gen = string(gen)
		b.seen[prev] = sn
	}
	if !s.Empty() {
		return nil, fmt.Errorf("%s: %w: %d trailing bytes", partnersFile, ErrCorruptState, len(s))
	}
	return b, nil
}

func (b *seenBook) get(id string) (seen, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sn, ok := b.seen[id]
	return sn, ok
}

// accept records f, of line gen, as partner id's last accepted filter,
// on disk first if the book has a store.
func (b *seenBook) accept(id string, f *match.Filter, gen string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	sn := seen{epoch: f.Epoch(), key: f.KeyID(), gen: gen, version: f.Version(), notBefore: max(f.NotBefore().Unix(), 0)}
	if old, ok := b.seen[id]; ok && old == sn {
		return nil
	}
	if b.st == nil {
		b.seen[id] = sn
		return nil
	}
	next := maps.Clone(b.seen)
	next[id] = sn
	ids := slices.Sorted(maps.Keys(next))
	var out cryptobyte.Builder
	out.AddUint16(uint16(len(ids)))
	for _, id := range ids {
		sn := next[id]
		out.AddUint8LengthPrefixed(func(c *cryptobyte.Builder) { c.AddBytes([]byte(id)) })
		out.AddUint64(sn.epoch)
		out.AddBytes(sn.key[:])
		out.AddUint8LengthPrefixed(func(c *cryptobyte.Builder) { c.AddBytes([]byte(sn.gen)) })
		out.AddUint64(sn.version)
		out.AddUint64(uint64(sn.notBefore))
	}
	payload, err := out.Bytes()
	if err != nil {
		return err
	}
	if err := writeState(b.st, partnersFile, statePartnersFrom, payload); err != nil {
		return err
	}
	b.seen = next
	return nil
}

// restore loads the partner's standing state, if its Matcher keeps one.
// A file that does not decode is reported to OnError and ignored: the
// outputs it held are evaluated again.
func (ps *partnerStanding) restore() {
	st := ps.s.m.store
	if !ps.s.persist {
		return
	}
	payload, err := readState(st, standingPrefix+ps.c.p.ID, stateStanding)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var w *match.Watch
	var gen cryptobyte.String
	if err == nil {
		s := cryptobyte.String(payload)
		if !s.ReadUint8LengthPrefixed(&gen) {
			err = fmt.Errorf("%w: truncated", ErrCorruptState)
		} else {
			w, err = match.UnmarshalWatch(s, ps.c.p.querierOptions())
		}
	}
	if err == nil {
		// A watch that holds indicators no longer in the list would
		// confirm (and report) them: it is not used.
		list := ps.s.list()
		if kept := len(list) - len(w.Missing(list)); kept != w.Len() {
			err = fmt.Errorf("it holds %d indicators no longer watched", w.Len()-kept)
		}
	}
	if err != nil {
		if ps.s.opts.OnError != nil {
			ps.s.opts.OnError(ps.c.p.ID, fmt.Errorf("standing state not restored (its indicators are evaluated again): %w", err))
		}
		return
	}
	ps.w, ps.gen, ps.saved = w, string(gen), ps.s.m.cfg.Now()
}

// save writes the partner's standing state if it changed, at most every
// StandingSaveInterval unless now.
func (ps *partnerStanding) save(now bool) {
	st := ps.s.m.store
	if !ps.s.persist || ps.w == nil || !ps.dirty {
		return
	}
	t := ps.s.m.cfg.Now()
	if !now && t.Sub(ps.saved) < StandingSaveInterval {
		return
	}
	wb, err := ps.w.MarshalBinary()
	if err == nil {
		b := append([]byte{byte(len(ps.gen))}, ps.gen...)
		err = writeState(st, standingPrefix+ps.c.p.ID, stateStanding, append(b, wb...))
	}
	if err != nil {
		if ps.s.opts.OnError != nil {
			ps.s.opts.OnError(ps.c.p.ID, fmt.Errorf("standing state not saved: %w", err))
		}
		return
	}
	ps.dirty, ps.saved = false, t
}
