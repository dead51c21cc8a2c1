package federation

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
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
//	standing-ID      (stateStandingMarks) partner ID's standing match:
//	                 genLen:u8 gen, spreadEnd:i64 (Unix nanoseconds, 0: no
//	                 spread), count:u32 × (kindLen:u8 kind valueLen:u16
//	                 value epoch:u64) the hits reported and the epoch of
//	                 each, then the match.Watch encoding (type 0x0D). A
//	                 file of type stateStanding (an earlier release) holds
//	                 only gen and the watch.
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
	case s.behind(f) && !s.renumbered(f) && f.Epoch() < s.epoch:
		return fmt.Errorf("epoch %d after %d", f.Epoch(), s.epoch)
	case s.behind(f) && !s.renumbered(f):
		// Epochs are never numbered twice but by a fresh start.
		return fmt.Errorf("epoch %d under another key, valid from no later than the one accepted", f.Epoch())
	case f.Epoch() == s.epoch && f.KeyID() == s.key && gen != "" && gen == s.gen && f.Version() < s.version:
		return fmt.Errorf("version %d of epoch %d after version %d", f.Version(), f.Epoch(), s.version)
	}
	return nil
}

// countRollback reports why a count filter f would take the partner back,
// or nil. A count filter is under its epoch's count key, not the key s
// records, so it is judged by epoch and validity alone: refused if of an
// epoch below s's, or of s's valid from earlier, unless it is valid from
// later than s (a partner's fresh start numbers epochs from 1 again).
func (s seen) countRollback(f *match.Filter) error {
	nb := f.NotBefore().Unix()
	switch {
	case s.notBefore != 0 && nb > s.notBefore:
		return nil
	case f.Epoch() < s.epoch:
		return fmt.Errorf("epoch %d after %d", f.Epoch(), s.epoch)
	case f.Epoch() == s.epoch && nb < s.notBefore:
		return fmt.Errorf("epoch %d valid from before the one accepted", f.Epoch())
	}
	return nil
}

// behind reports whether f is of an epoch below s's, or of s's under
// another key: an older filter or a partner's fresh start (renumbered
// tells them apart).
func (s seen) behind(f *match.Filter) bool {
	return f.Epoch() < s.epoch || f.Epoch() == s.epoch && f.KeyID() != s.key
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
	data, err := st.read(standingPrefix + ps.c.p.ID)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var ss standingState
	if err == nil {
		var typ stateType
		var payload []byte
		if typ, payload, err = decodeStateOf(data, stateStandingMarks, stateStanding); err == nil {
			ss, err = decodeStanding(payload, typ == stateStandingMarks, ps.c.p.querierOptions())
		}
	}
	if err == nil {
		// A watch that holds indicators no longer in the list would
		// confirm (and report) them: it is not used.
		list := ps.s.list()
		if kept := len(list) - len(ss.w.Missing(list)); kept != ss.w.Len() {
			err = fmt.Errorf("it holds %d indicators no longer watched", ss.w.Len()-kept)
		}
	}
	if err != nil {
		if ps.s.opts.OnError != nil {
			ps.s.opts.OnError(ps.c.p.ID, fmt.Errorf("standing state not restored (its indicators are evaluated again): %w", err))
		}
		return
	}
	ps.w, ps.gen, ps.resume, ps.saved = ss.w, ss.gen, ss.spreadEnd, ps.s.m.cfg.Now()
	maps.Copy(ps.reported, ss.reported)
}

// A standingState is what a standing-ID file holds.
type standingState struct {
	gen       string
	spreadEnd time.Time                      // zero: no spread
	reported  map[indicator.Indicator]uint64 // nil in a file of an earlier release
	w         *match.Watch
}

// minReported is the size of the shortest reported hit's encoding.
const minReported = 1 + 1 + 2 + 1 + 8

// decodeStanding decodes a standing-ID file's payload; marks says whether
// it has the spread's end and the reported hits (stateStandingMarks).
func decodeStanding(payload []byte, marks bool, opts *match.QuerierOptions) (standingState, error) {
	var ss standingState
	s := cryptobyte.String(payload)
	var gen cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&gen) {
		return ss, fmt.Errorf("%w: truncated", ErrCorruptState)
	}
	ss.gen = string(gen)
	if marks {
		var end uint64
		var count uint32
		if !s.ReadUint64(&end) || !s.ReadUint32(&count) {
			return ss, fmt.Errorf("%w: truncated", ErrCorruptState)
		}
		if end != 0 {
			ss.spreadEnd = time.Unix(0, int64(end))
		}
		if uint64(count)*minReported > uint64(len(s)) {
			return ss, fmt.Errorf("%w: %d reported hits in %d bytes", ErrCorruptState, count, len(s))
		}
		ss.reported = make(map[indicator.Indicator]uint64, count)
		for i := range count {
			var kind, value cryptobyte.String
			var epoch uint64
			if !s.ReadUint8LengthPrefixed(&kind) || !s.ReadUint16LengthPrefixed(&value) || !s.ReadUint64(&epoch) {
				return ss, fmt.Errorf("%w: reported hit %d truncated", ErrCorruptState, i)
			}
			k, err := indicator.Lookup(string(kind))
			if err != nil {
				return ss, fmt.Errorf("%w: reported hit %d: kind not known", ErrCorruptState, i)
			}
			ind, err := indicator.New(k, string(value))
			if err != nil || ind.Value() != string(value) {
				return ss, fmt.Errorf("%w: reported hit %d: not a canonical %s", ErrCorruptState, i, k.Name())
			}
			ss.reported[ind] = epoch
		}
	}
	w, err := match.UnmarshalWatch(s, opts)
	if err != nil {
		return ss, err
	}
	ss.w = w
	return ss, nil
}

// encodeStanding is the payload of a standing-ID file (stateStandingMarks).
func encodeStanding(ss standingState) ([]byte, error) {
	wb, err := ss.w.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddUint8LengthPrefixed(func(c *cryptobyte.Builder) { c.AddBytes([]byte(ss.gen)) })
	var end uint64
	if !ss.spreadEnd.IsZero() {
		end = uint64(ss.spreadEnd.UnixNano())
	}
	b.AddUint64(end)
	b.AddUint32(uint32(len(ss.reported)))
	for _, ind := range slices.SortedFunc(maps.Keys(ss.reported), compareIndicators) {
		b.AddUint8LengthPrefixed(func(c *cryptobyte.Builder) { c.AddBytes([]byte(ind.Kind().Name())) })
		b.AddUint16LengthPrefixed(func(c *cryptobyte.Builder) { c.AddBytes([]byte(ind.Value())) })
		b.AddUint64(ss.reported[ind])
	}
	b.AddBytes(wb)
	return b.Bytes()
}

func compareIndicators(a, b indicator.Indicator) int {
	if c := strings.Compare(a.Kind().Name(), b.Kind().Name()); c != 0 {
		return c
	}
	return strings.Compare(a.Value(), b.Value())
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
	ss := standingState{gen: ps.gen, reported: ps.reported, w: ps.w}
	if sp := ps.spread; sp != nil {
		ss.spreadEnd = sp.start.Add(sp.window)
	}
	payload, err := encodeStanding(ss)
	if err == nil {
		err = writeState(st, standingPrefix+ps.c.p.ID, stateStandingMarks, payload)
	}
	if err != nil {
		if ps.s.opts.OnError != nil {
			ps.s.opts.OnError(ps.c.p.ID, fmt.Errorf("standing state not saved: %w", err))
		}
		return
	}
	ps.dirty, ps.saved = false, t
}
