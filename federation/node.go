package federation

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// A Node is one agency's fedmatch node: it publishes the agency's filter,
// serves its partners' queries under policy, budgets and audit, rotates
// its keys, and matches the agency's indicators against its partners'
// filters. Its methods may be called concurrently.
//
// Everything a node keeps lives in Config.StateDir, which is all it needs
// to be given; how the directory is laid out is internal.
type Node struct {
	*Matcher
	cfg   *Config
	byPin map[[32]byte]*Partner
	log   *slog.Logger

	store   store
	audit   *auditLog
	budgets *budgets
	srv     *serverState               // limits, fairness and refusal counts of the server
	served  map[string]*servedCounters // by partner, for Metrics; made in New, never changed

	opMu   sync.Mutex // serialises publication, rotation and destruction
	closed atomic.Bool
	last   uint64 // the highest epoch ever started; guarded by opMu

	mu       sync.RWMutex  // guards the fields below
	sched    schedule      // the epochs served, as in node.state
	current  *epoch        // sched.current's key and publisher; nil before the first publication
	previous *epoch        // sched.previous's; nil if none
	changed  chan struct{} // closed when current changes (bump), for long polls

	waitMu  sync.Mutex
	waiting map[string]int // long polls waiting, by partner

	changes changeQueue // Node.Add's entries waiting for a tick (Config.ChangeInterval)
}

// bump tells long polls that the current filter changed. n.mu is held.
func (n *Node) bump() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// An epoch is a key and the publisher built with it.
type epoch struct {
	number uint64
	key    *match.PrivateKey
	pub    *match.Publisher
	signed *signedFilter // the filter served to partners, in both envelopes
	// gen names the publisher's line of versions (PROTOCOL.md 5.3): a new
	// publication under the same key starts another, whose versions (its
	// n) may repeat or go below the last one's.
	gen  string
	made time.Time // when this version was made or loaded (Metrics)
	// jr is the journal of the epoch's changes (journal.go), shared by
	// its versions.
	jr *journal
	// count is the count filter of the list as published in the epoch
	// (match.Publisher.CountFilter), kept in epoch-N.pub beside the
	// publisher's state, and countSigned the same signed for partners;
	// both nil if the epoch was published without one.
	count       *match.Filter
	countSigned *signedFilter
}

// New opens the node's state directory, creating it if needed, and loads
// its state: keys, publishers, budgets, audit log. A corrupted, foreign or
// inconsistent state file is an error (errors.Is(err, ErrCorruptState) or
// an *AuditError), never a silent reset; so is a state directory that is
// not the node's alone (ErrUnsafeState). An epoch whose grace period ended
// while the node was down has its key destroyed and its budgets dropped.
// Files left by a crash in the middle of a rotation, which the rotation
// never acknowledged, are removed. An epoch of another suite or mode than
// the configuration, or whose labels [match.CheckLabel] refuses (an older
// version published it), is retired: recorded in the audit log, its key
// destroyed. The node serves no filter until [Node.Publish] has run once.
func New(c *Config) (*Node, error) {
	cfg, err := c.check(true)
	if err != nil {
		return nil, err
	}
	s, err := openFS(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	return newNode(cfg, s)
}

// newNode is New on a store: cfg is checked, and s, which the node owns
// from now on, is closed if newNode fails.
func newNode(cfg *Config, s store) (_ *Node, err error) {
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	m, err := newMatcher(cfg)
	if err != nil {
		return nil, err
	}
	n := &Node{Matcher: m, cfg: cfg, byPin: map[[32]byte]*Partner{}, store: s, srv: newServerState(cfg),
		served: newServedCounters(cfg.Partners), changed: make(chan struct{}), waiting: map[string]int{}}
	n.log = slog.New(n.srv.logs)
	for i := range cfg.Partners {
		n.byPin[cfg.Partners[i].SPKI] = &cfg.Partners[i]
	}
	audit, sum, err := openAudit(s, cfg.ID, cfg.Identity)
	if err != nil {
		return nil, err
	}
	n.audit = audit
	m.audit = audit // the querying half records partners' misbehaviour
	m.store = s
	if m.seen, err = loadSeen(s); err != nil {
		return nil, err
	}
	budgetsMissing := false
	if n.budgets, err = loadBudgets(s); errors.Is(err, os.ErrNotExist) {
		budgetsMissing, err = true, nil
	}
	if err != nil {
		return nil, err
	}
	rec, err := n.load(sum)
	if err != nil {
		return nil, err
	}
	notes, err := n.repairJournals()
	if err != nil {
		return nil, err
	}
	rec.notes = append(rec.notes, notes...)
	if cur, prev := n.sched.current.number, n.sched.previous.number; budgetsMissing && (sum.evaluated[cur] || prev != 0 && sum.evaluated[prev]) {
		return nil, fmt.Errorf("%w: budgets is missing, but the audit log records evaluations in epoch %d (budgets would be refunded)", ErrCorruptState, cur)
	}
	if err := n.recordStart(sum, rec); err != nil {
		return nil, err
	}
	if err := n.auditJournals(); err != nil {
		return nil, err
	}
	n.changes.start(n.sched.current, cfg.Now(), cfg.ChangeInterval)
	// Counters of epochs that ended while the node was stopped would
	// still allow confirmations.
	if err := n.keepLive(n.sched); err != nil {
		return nil, err
	}
	n.log.Info("fedmatch node started", "id", cfg.ID, "epoch", n.sched.current.number, "partners", len(cfg.Partners))
	return n, nil
}

// A recovery is what load found and repaired, for the audit log.
type recovery struct {
	notes   []string // for the start record
	removed []uint64 // epochs whose key files a crash left, removed
	expired uint64   // an epoch whose grace period ended while the node was stopped (0: none)
}

// recordStart appends the start record and the records of what load
// repaired.
func (n *Node) recordStart(sum auditSummary, rec recovery) error {
	now, cur := n.cfg.Now(), n.sched.current
	notes := rec.notes
	if sum.recovered != "" {
		notes = append([]string{sum.recovered}, notes...)
	}
	recs := []AuditRecord{{Time: now, Type: AuditStart, Epoch: cur.number, Detail: strings.Join(notes, "; ")}}
	for _, e := range rec.removed {
		recs = append(recs, AuditRecord{Time: now, Type: AuditDestruction, Epoch: e,
			Detail: "key file removed at start: not live after a crash"})
	}
	if cur.number > sum.rotated {
		// A rotation was committed (node.state written) but the node
		// stopped before its audit record: record it now.
		recs = append(recs, AuditRecord{Time: now, Type: AuditRotation, Epoch: cur.number,
			Count: uint64(n.current.pub.Entries()), Detail: "key " + n.current.key.KeyID().String() + " (recorded at start after a crash)"})
	}
	if rec.expired != 0 {
		recs = append(recs, AuditRecord{Time: now, Type: AuditDestruction, Epoch: rec.expired,
			Detail: "grace period ended while the node was stopped"})
	}
	for _, r := range recs {
		if err := n.audit.append(r); err != nil {
			return err
		}
	}
	return nil
}

// Close waits for a publication, rotation or maintenance in progress,
// records the refusals counted so far, then releases the node's files and its lock on the state directory;
// requests still being served after it are refused. It does not stop
// servers started with ListenAndServe: cancel their context first.
func (n *Node) Close() error {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	if n.closed.Swap(true) {
		return nil
	}
	n.changes.close() // Adds waiting for a tick fail
	n.mu.Lock()
	n.bump() // long polls answer now
	n.mu.Unlock()
	n.stopRefusals()
	n.log.Info("fedmatch node closed", "epoch", n.Epoch())
	n.budgets.close()
	n.audit.close()
	return n.store.close()
}

// load reads node.state and the epochs it names, retires those the
// configuration no longer allows, destroys what is no longer live, and
// removes files a crash left behind; it says what it repaired. It
// refuses, before removing anything, a store whose node.state is missing
// while the audit log records epochs, or whose audit log is empty while
// node.state exists: either is a deletion, not a fresh start.
func (n *Node) load(sum auditSummary) (recovery, error) {
	var rec recovery
	s, err := n.readSchedule(sum)
	if err != nil {
		return rec, err
	}
	n.last = max(sum.rotated, s.current.number)
	if s.current.number != 0 {
		n.current, err = n.loadEpoch(s.current)
		var ce *configChangedError
		if errors.As(err, &ce) {
			// The previous epoch goes with it: a schedule is never a
			// previous epoch without a current one.
			s, err = n.retire(s, schedule{}, sum, ce)
		}
		if err != nil {
			return rec, err
		}
	}
	if d := s.due(n.cfg.Now(), n.cfg.EpochLength); d.drop != 0 {
		// The grace period ended while the node was down; its files are
		// destroyed below, as no longer live.
		rec.expired, s = d.drop, s.dropped()
		if err := n.saveSchedule(s); err != nil {
			return rec, err
		}
	} else if s.previous.number != 0 {
		n.previous, err = n.loadEpoch(s.previous)
		var ce *configChangedError
		if errors.As(err, &ce) {
			s, err = n.retire(s, s.dropped(), sum, ce)
		}
		if err != nil {
			return rec, err
		}
	}
	n.sched = s
	rec.notes, rec.removed, err = n.removeLeftovers(rec.expired)
	return rec, err
}

// A configChangedError says that an epoch's key or filter is of another
// suite or mode than the configuration: the epoch must not serve (one key
// never serves two modes, and a kind policy needs the mode it was checked
// for), so load retires it.
type configChangedError struct {
	key    match.KeyID
	reason string
}

func (e *configChangedError) Error() string { return e.reason }

// retire ends the epochs of s that are not in next, because the
// configuration changed (why says how): their ends are recorded, next is
// committed, and their keys and publishers are destroyed, in an order
// that a crash at any point leaves safe. The audit records come first,
// with the rotation record of a current epoch that a crash kept out of
// the log: they keep the epoch numbers, which continue after the
// retired epochs (see [schedule.rotated]). A crash after them, before
// node.state, retires the epochs again at the next start; a crash after
// node.state leaves files that removeLeftovers destroys.
func (n *Node) retire(s, next schedule, sum auditSummary, why *configChangedError) (schedule, error) {
	if c := s.current.number; !next.live(c) && c > sum.rotated {
		if err := n.audit.append(AuditRecord{Time: n.cfg.Now(), Type: AuditRotation, Epoch: c,
			Detail: "key " + why.key.String() + " (recorded at start after a crash)"}); err != nil {
			return s, err
		}
	}
	for _, e := range []epochRef{s.current, s.previous} {
		if e.number == 0 || next.live(e.number) {
			continue
		}
		detail := fmt.Sprintf("retired at start: %s", why.reason)
		if e.number == s.current.number {
			detail = "key " + why.key.String() + " " + detail
		}
		n.log.Warn("epoch retired at start: the configuration changed", "epoch", e.number, "reason", why.reason)
		if err := n.audit.append(AuditRecord{Time: n.cfg.Now(), Type: AuditDestruction, Epoch: e.number, Detail: detail}); err != nil {
			return s, err
		}
	}
	if err := n.saveSchedule(next); err != nil {
		return s, err
	}
	for _, e := range []epochRef{s.current, s.previous} {
		if e.number == 0 || next.live(e.number) {
			continue
		}
		for _, name := range epochFiles(e.number) {
			if err := n.store.destroy(name); err != nil {
				return next, err
			}
		}
	}
	if !next.live(s.current.number) {
		n.current = nil
		n.bump()
	}
	n.previous = nil
	return next, nil
}

// readSchedule reads node.state, or starts an empty schedule if there is
// none and the audit log agrees.
func (n *Node) readSchedule(sum auditSummary) (schedule, error) {
	data, err := readState(n.store, nodeStateFile, stateNode)
	if errors.Is(err, os.ErrNotExist) {
		if sum.rotated > 0 {
			return schedule{}, fmt.Errorf("%w: node.state is missing, but the audit log records epoch %d", ErrCorruptState, sum.rotated)
		}
		return schedule{}, nil
	}
	if err != nil {
		return schedule{}, err
	}
	id, s, err := decodeNodeState(data)
	switch {
	case err != nil:
		return schedule{}, err
	case id != n.cfg.ID:
		return schedule{}, fmt.Errorf("%w: state directory of node %q, not %q", ErrCorruptState, id, n.cfg.ID)
	case s.current.number != 0 && sum.records == 0:
		return schedule{}, fmt.Errorf("%w: the audit log is missing or empty, but node.state holds epoch %d", ErrCorruptState, s.current.number)
	}
	return s, nil
}

// removeLeftovers destroys the epoch files n.sched does not name: keys
// and filters of a rotation cut short, and of expired epochs. It returns
// notes for the audit log and the epochs whose key files it removed,
// other than expired.
func (n *Node) removeLeftovers(expired uint64) (notes []string, removed []uint64, err error) {
	names, err := n.store.list()
	if err != nil {
		return nil, nil, err
	}
	for _, name := range names {
		if !strings.HasPrefix(name, "epoch-") {
			continue
		}
		var e uint64
		_, scanErr := fmt.Sscanf(name, "epoch-%d.", &e)
		if scanErr == nil && n.sched.live(e) && slices.Contains(epochFiles(e), name) {
			continue
		}
		if err := n.store.destroy(name); err != nil {
			return nil, nil, err
		}
		notes = append(notes, "removed "+name)
		if name == keyFile(e) && e != expired {
			removed = append(removed, e)
		}
	}
	return notes, removed, nil
}

func (n *Node) loadEpoch(ref epochRef) (*epoch, error) {
	kb, err := readState(n.store, keyFile(ref.number), stateKey)
	if err != nil {
		return nil, fmt.Errorf("federation: epoch %d: %w", ref.number, err)
	}
	key, err := match.ParsePrivateKey(kb)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorruptState, keyFile(ref.number), err)
	}
	if key.Suite() != n.cfg.Suite {
		return nil, &configChangedError{key.KeyID(), fmt.Sprintf("its key is %v, Config.Suite is %v", key.Suite(), n.cfg.Suite)}
	}
	data, err := n.store.read(pubFile(ref.number))
	if err != nil {
		return nil, fmt.Errorf("federation: epoch %d: %w", ref.number, err)
	}
	// The line of versions, if the file records it (a file of an earlier
	// release may not, and is retired below), and the changes of the
	// journal it includes.
	typ, pb, err := decodeStateOf(data, statePublisherJournal, statePublisherLine, statePublisher, statePublisherCount)
	if err != nil {
		return nil, fmt.Errorf("federation: epoch %d: %s: %w", ref.number, pubFile(ref.number), err)
	}
	gen, applied, cb, pb, ok := decodePublisherFile(typ, pb)
	if !ok {
		return nil, fmt.Errorf("%w: %s: line of versions", ErrCorruptState, pubFile(ref.number))
	}
	pub, err := match.RestorePublisher(key, pb, &match.PublishOptions{Mode: n.cfg.Mode})
	if errors.Is(err, match.ErrWrongMode) {
		return nil, &configChangedError{key.KeyID(), fmt.Sprintf("its filter's mode is not Config.Mode (%v): one key never serves two modes", err)}
	}
	if errors.Is(err, match.ErrInvalidLabel) { // a rule changed, not the configuration
		return nil, &configChangedError{key.KeyID(), "its labels break the label rule (no control characters), which the version that published it did not check"}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorruptState, pubFile(ref.number), err)
	}
	if typ == statePublisher {
		// Written by a release before filter seeds (PROTOCOL.md 1.3),
		// whose deltas carried confirm tags: a partner may hold tags of
		// indicators it never had, which confirm under this key. The key
		// is retired rather than served on.
		return nil, &configChangedError{key.KeyID(), "its state is of a release whose deltas carried confirm tags (before filter seeds, PROTOCOL.md 1.3): its key is not served on"}
	}
	if pub.Filter().Epoch() != ref.number {
		return nil, fmt.Errorf("%w: %s holds epoch %d", ErrCorruptState, pubFile(ref.number), pub.Filter().Epoch())
	}
	count, err := decodeCountFilter(cb, pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorruptState, pubFile(ref.number), err)
	}
	jr := &journal{legacy: true, gen: gen}
	if typ == statePublisherJournal || typ == statePublisherCount {
		if jr, err = n.replayJournal(ref.number, pub, gen, applied); err != nil {
			return nil, err
		}
		jr.base = int64(len(data))
	}
	e, err := n.newEpoch(ref.number, key, pub) // signs the version the journal brought it to
	if err == nil {
		err = n.withCount(e, count) // which a restored publisher lacks
	}
	if err != nil {
		return nil, err
	}
	if gen != "" {
		e.gen = gen
	}
	jr.gen, e.jr = e.gen, jr
	return e, nil
}

// epochFiles are the files of an epoch: its key, its publisher and the
// publisher's journal.
func epochFiles(n uint64) []string { return []string{keyFile(n), pubFile(n), chgFile(n)} }

func (n *Node) newEpoch(number uint64, key *match.PrivateKey, pub *match.Publisher) (*epoch, error) {
	signed, err := newSignedFilter(n.cfg.ID, n.cfg.Identity, pub.Filter())
	if err != nil {
		return nil, err
	}
	var g [8]byte
	rand.Read(g[:])
	return &epoch{number: number, key: key, pub: pub, signed: signed, gen: hex.EncodeToString(g[:]), made: n.cfg.Now()}, nil
}

// withCount gives e the count filter cf, signed; nil gives it none. The
// versions of an epoch share theirs (commit): it is signed once.
func (n *Node) withCount(e *epoch, cf *match.Filter) error {
	if cf == nil {
		return nil
	}
	signed, err := newSignedFilter(n.cfg.ID, n.cfg.Identity, cf)
	if err != nil {
		return err
	}
	e.count, e.countSigned = cf, signed
	return nil
}

// Epoch returns the current epoch number, 0 before the first publication.
func (n *Node) Epoch() uint64 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sched.current.number
}

// Filter returns the current filter, or nil before the first publication.
func (n *Node) Filter() *match.Filter {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.current == nil {
		return nil
	}
	return n.current.pub.Filter()
}

// BudgetUsed returns the evaluations partner has used in epoch.
func (n *Node) BudgetUsed(partner string, epoch uint64) int {
	return int(n.budgets.usedBy(partner, epoch))
}

// publisherFor returns the epoch of key id if it still serves (the
// current one, or the previous one within its grace period) and the
// current epoch's number, to which requests are charged (0 before the
// first publication).
//
// With count, id is a count key's (a count request's, PROTOCOL.md 1.3):
// the epoch's count key, derived from its key, is what it must name.
func (n *Node) publisherFor(id match.KeyID, count bool) (e *epoch, current uint64) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.current == nil {
		return nil, 0
	}
	keyOf := func(e *epoch) match.KeyID {
		if count {
			return e.pub.CountPublicKey().KeyID()
		}
		return e.key.KeyID()
	}
	if keyOf(n.current) == id {
		return n.current, n.current.number
	}
	if n.previous != nil && keyOf(n.previous) == id && n.sched.previousServes(n.cfg.Now()) {
		return n.previous, n.current.number
	}
	return nil, n.current.number
}

// etagOf is the entity tag of a signed filter's envelope: a quoted hash.
func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return strconv.Quote(hex.EncodeToString(sum[:16]))
}

// saveSchedule writes node.state: the commit point of a rotation and of
// the end of a grace period.
func (n *Node) saveSchedule(s schedule) error {
	return writeState(n.store, nodeStateFile, stateNode, encodeNodeState(n.cfg.ID, s))
}

// keepLive drops the budgets of epochs s no longer serves.
func (n *Node) keepLive(s schedule) error {
	return n.budgets.keepEpochs(s.live)
}
