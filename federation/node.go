package federation

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/match"
)

// A Node is one agency's fedmatch node: it publishes the agency's filter,
// serves its partners' queries under policy, budgets and audit, rotates
// its keys, and matches the agency's indicators against its partners'
// filters. Its methods may be called concurrently.
type Node struct {
	*Matcher
	cfg   *Config
	byPin map[[32]byte]*Partner
	byID  map[string]*Partner
	log   *slog.Logger

	lock    *os.File
	audit   *auditLog
	budgets *budgets

	opMu   sync.Mutex // serialises publication, rotation and destruction
	closed atomic.Bool

	mu         sync.RWMutex // guards the epochs below
	current    *epoch
	previous   *epoch
	graceUntil time.Time
}

// An epoch is a key and the publisher built with it.
type epoch struct {
	number uint64
	start  time.Time
	key    *match.PrivateKey
	pub    *match.Publisher
	signed []byte // the signed filter served to partners
	etag   string
}

const nodeStateFile = "node.state"

func keyFile(n uint64) string { return fmt.Sprintf("epoch-%d.key", n) }
func pubFile(n uint64) string { return fmt.Sprintf("epoch-%d.pub", n) }

// New opens the node's state directory, creating it if needed, and loads
// its state: keys, publishers, budgets, audit log. A corrupted, foreign or
// inconsistent state file is an error (errors.Is(err, ErrCorruptState) or
// an *AuditError), never a silent reset. An epoch whose grace period ended
// while the node was down has its key destroyed. Files left by a crash in
// the middle of a rotation, which the rotation never acknowledged, are
// removed. The node serves no filter until [Node.Publish] has run once.
func New(c *Config) (*Node, error) {
	cfg, err := c.check(true)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(cfg.StateDir, 0o700); err != nil {
		return nil, err
	}
	m, err := newMatcher(cfg)
	if err != nil {
		return nil, err
	}
	lock, err := lockDir(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	n := &Node{Matcher: m, cfg: cfg, byPin: map[[32]byte]*Partner{}, byID: map[string]*Partner{}, log: cfg.Logger, lock: lock}
	ok := false
	defer func() {
		if !ok && lock != nil {
			lock.Close()
		}
	}()
	for i := range cfg.Partners {
		p := &cfg.Partners[i]
		n.byPin[p.SPKI], n.byID[p.ID] = p, p
	}
	var notes []string
	audit, sum, err := openAudit(cfg.StateDir, cfg.ID, cfg.Identity)
	if err != nil {
		return nil, err
	}
	audit.crash = cfg.crash
	n.audit = audit
	if sum.recovered != "" {
		notes = append(notes, sum.recovered)
	}
	budgetsMissing := false
	if n.budgets, err = loadBudgets(cfg.StateDir); errors.Is(err, os.ErrNotExist) {
		budgetsMissing, err = true, nil
	}
	if err != nil {
		audit.close()
		return nil, err
	}
	more, removed, expired, err := n.load(sum)
	if err != nil {
		audit.close()
		return nil, err
	}
	notes = append(notes, more...)
	var ep uint64
	if n.current != nil {
		ep = n.current.number
	}
	if budgetsMissing && (sum.evaluated[ep] || n.previous != nil && sum.evaluated[n.previous.number]) {
		audit.close()
		return nil, fmt.Errorf("%w: budgets is missing, but the audit log records evaluations in epoch %d (budgets would be refunded)", ErrCorruptState, ep)
	}
	if err := n.audit.append(AuditRecord{Time: cfg.Now(), Type: AuditStart, Epoch: ep, Detail: strings.Join(notes, "; ")}); err != nil {
		audit.close()
		return nil, err
	}
	for _, e := range removed {
		if err := n.audit.append(AuditRecord{Time: cfg.Now(), Type: AuditDestruction, Epoch: e,
			Detail: "key file removed at start: not live after a crash"}); err != nil {
			audit.close()
			return nil, err
		}
	}
	if n.current != nil && n.current.number > sum.rotated {
		// A rotation was committed (node.state written) but the node
		// stopped before its audit record: record it now.
		if err := n.audit.append(AuditRecord{Time: cfg.Now(), Type: AuditRotation, Epoch: n.current.number,
			Count: uint64(n.current.pub.Entries()), Detail: "key " + n.current.key.KeyID().String() + " (recorded at start after a crash)"}); err != nil {
			audit.close()
			return nil, err
		}
	}
	if expired != 0 {
		if err := n.audit.append(AuditRecord{Time: cfg.Now(), Type: AuditDestruction, Epoch: expired,
			Detail: "grace period ended while the node was stopped"}); err != nil {
			audit.close()
			return nil, err
		}
	}
	n.log.Info("fedmatch node started", "id", cfg.ID, "epoch", ep, "partners", len(cfg.Partners))
	ok = true
	return n, nil
}

// Close waits for a publication, rotation or maintenance in progress,
// then releases the node's files and its lock on the state directory;
// requests still being served after it are refused. It does not stop
// servers started with ListenAndServe: cancel their context first.
func (n *Node) Close() error {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	if n.closed.Swap(true) {
		return nil
	}
	n.budgets.close()
	err := n.audit.close()
	if n.lock != nil {
		n.lock.Close()
	}
	return err
}

// nodeState is the content of node.state: which epochs are live.
type nodeState struct {
	id         string
	current    *epochRef
	previous   *epochRef
	graceUntil time.Time
}

type epochRef struct {
	number uint64
	start  time.Time
}

func (s *nodeState) encode() []byte {
	b := []byte{byte(len(s.id))}
	b = append(b, s.id...)
	for _, e := range []*epochRef{s.current, s.previous} {
		if e == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.BigEndian.AppendUint64(b, e.number)
		b = binary.BigEndian.AppendUint64(b, uint64(e.start.UnixNano()))
	}
	return binary.BigEndian.AppendUint64(b, uint64(s.graceUntil.UnixNano()))
}

func decodeNodeState(data []byte) (*nodeState, error) {
	s := cryptobyte.String(data)
	var st nodeState
	var id cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&id) {
		return nil, fmt.Errorf("%w: node.state", ErrCorruptState)
	}
	st.id = string(id)
	for _, dst := range []**epochRef{&st.current, &st.previous} {
		var present uint8
		if !s.ReadUint8(&present) || present > 1 {
			return nil, fmt.Errorf("%w: node.state", ErrCorruptState)
		}
		if present == 0 {
			continue
		}
		var num, start uint64
		if !s.ReadUint64(&num) || !s.ReadUint64(&start) {
			return nil, fmt.Errorf("%w: node.state", ErrCorruptState)
		}
		*dst = &epochRef{number: num, start: time.Unix(0, int64(start))}
	}
	var grace uint64
	if !s.ReadUint64(&grace) || !s.Empty() {
		return nil, fmt.Errorf("%w: node.state", ErrCorruptState)
	}
	st.graceUntil = time.Unix(0, int64(grace))
	if st.current == nil && st.previous != nil || st.previous != nil && st.previous.number >= st.current.number {
		return nil, fmt.Errorf("%w: node.state: inconsistent epochs", ErrCorruptState)
	}
	return &st, nil
}

// load reads node.state and the epochs it names, destroys what is no
// longer live, and removes files a crash left behind. It returns notes for
// the audit log, the epochs whose key files it removed as left over from a
// crash, and the number of an epoch whose grace period ended while the
// node was stopped (0 if none). It refuses, before removing anything, a
// directory whose node.state is missing while the audit log records
// epochs, or whose audit log is empty while node.state exists: either is
// a deletion, not a fresh start.
func (n *Node) load(sum auditSummary) (notes []string, removed []uint64, expired uint64, err error) {
	data, err := readState(n.cfg.StateDir, nodeStateFile, stateNode)
	var st *nodeState
	switch {
	case errors.Is(err, os.ErrNotExist):
		if sum.rotated > 0 {
			return nil, nil, 0, fmt.Errorf("%w: node.state is missing, but the audit log records epoch %d", ErrCorruptState, sum.rotated)
		}
		st = &nodeState{id: n.cfg.ID}
	case err != nil:
		return nil, nil, 0, err
	default:
		if st, err = decodeNodeState(data); err != nil {
			return nil, nil, 0, err
		}
		if st.id != n.cfg.ID {
			return nil, nil, 0, fmt.Errorf("%w: state directory of node %q, not %q", ErrCorruptState, st.id, n.cfg.ID)
		}
		if st.current != nil && sum.records == 0 {
			return nil, nil, 0, fmt.Errorf("%w: the audit log is missing or empty, but node.state holds epoch %d", ErrCorruptState, st.current.number)
		}
	}
	if st.current != nil {
		if n.current, err = n.loadEpoch(st.current); err != nil {
			return nil, nil, 0, err
		}
	}
	if st.previous != nil {
		if n.cfg.Now().Before(st.graceUntil) {
			if n.previous, err = n.loadEpoch(st.previous); err != nil {
				return nil, nil, 0, err
			}
			n.graceUntil = st.graceUntil
		} else {
			// The grace period ended while the node was down; its files are
			// destroyed below, as no longer live.
			expired = st.previous.number
			st.previous = nil
			if err := writeState(n.cfg.StateDir, nodeStateFile, stateNode, st.encode()); err != nil {
				return nil, nil, 0, err
			}
		}
	}
	// Remove what no committed state names: keys and filters of a rotation
	// cut short, expired epochs, temporary files.
	entries, err := os.ReadDir(n.cfg.StateDir)
	if err != nil {
		return nil, nil, 0, err
	}
	live := map[string]bool{}
	for _, e := range []*epoch{n.current, n.previous} {
		if e != nil {
			live[keyFile(e.number)], live[pubFile(e.number)] = true, true
		}
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-"):
			os.Remove(filepath.Join(n.cfg.StateDir, name))
		case strings.HasPrefix(name, "epoch-") && !live[name]:
			if err := destroyFile(n.cfg.StateDir, name); err != nil {
				return nil, nil, 0, err
			}
			notes = append(notes, "removed "+name)
			var e uint64
			if _, err := fmt.Sscanf(name, "epoch-%d.key", &e); err == nil && e != expired {
				removed = append(removed, e)
			}
		}
	}
	return notes, removed, expired, nil
}

func (n *Node) loadEpoch(ref *epochRef) (*epoch, error) {
	kb, err := readState(n.cfg.StateDir, keyFile(ref.number), stateKey)
	if err != nil {
		return nil, fmt.Errorf("federation: epoch %d: %w", ref.number, err)
	}
	key, err := match.ParsePrivateKey(kb)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorruptState, keyFile(ref.number), err)
	}
	pb, err := readState(n.cfg.StateDir, pubFile(ref.number), statePublisher)
	if err != nil {
		return nil, fmt.Errorf("federation: epoch %d: %w", ref.number, err)
	}
	pub, err := match.RestorePublisher(key, pb, &match.PublishOptions{Mode: n.cfg.Mode})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorruptState, pubFile(ref.number), err)
	}
	if pub.Filter().Epoch() != ref.number {
		return nil, fmt.Errorf("%w: %s holds epoch %d", ErrCorruptState, pubFile(ref.number), pub.Filter().Epoch())
	}
	return n.newEpoch(ref.number, ref.start, key, pub)
}

func (n *Node) newEpoch(number uint64, start time.Time, key *match.PrivateKey, pub *match.Publisher) (*epoch, error) {
	signed, err := signFilter(n.cfg.ID, n.cfg.Identity, pub.Filter())
	if err != nil {
		return nil, err
	}
	return &epoch{number: number, start: start, key: key, pub: pub, signed: signed, etag: etagOf(signed)}, nil
}

// Publish builds the filter of the current epoch from Config.Watchlist and
// serves it: after a change of the watchlist, or to publish for the first
// time (which creates epoch 1 and its key). It returns once the filter,
// the tag index and the audit record are on disk. Cancelling ctx stops a
// long build.
func (n *Node) Publish(ctx context.Context) error {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	if n.closed.Load() {
		return errClosed
	}
	n.mu.RLock()
	cur := n.current
	n.mu.RUnlock()
	if cur == nil {
		return n.rotate(ctx, 1)
	}
	pub, err := n.build(ctx, cur.key, cur.number, cur.start)
	if err != nil {
		return err
	}
	e, err := n.newEpoch(cur.number, cur.start, cur.key, pub)
	if err != nil {
		return err
	}
	if err := n.savePublisher(e); err != nil {
		return err
	}
	n.mu.Lock()
	n.current = e
	n.mu.Unlock()
	n.log.Info("published", "epoch", e.number, "entries", pub.Filter().Len())
	return n.audit.append(AuditRecord{Time: n.cfg.Now(), Type: AuditPublication, Epoch: e.number,
		Count: uint64(pub.Entries()), Detail: "key " + e.key.KeyID().String()})
}

// Rotate starts a new epoch now: a new key, the watchlist published under
// it, the previous key kept serving evaluations for Config.Grace so that
// queries in flight finish, and any older key destroyed.
func (n *Node) Rotate(ctx context.Context) error {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	if n.closed.Load() {
		return errClosed
	}
	next := uint64(1)
	n.mu.RLock()
	if n.current != nil {
		next = n.current.number + 1
	}
	n.mu.RUnlock()
	return n.rotate(ctx, next)
}

func (n *Node) build(ctx context.Context, key *match.PrivateKey, number uint64, start time.Time) (*match.Publisher, error) {
	var entries func(func(match.Entry) bool)
	var listErr error
	if n.cfg.Watchlist != nil {
		src := n.cfg.Watchlist()
		entries = func(yield func(match.Entry) bool) {
			for e, err := range src {
				if err != nil {
					listErr = err
					return
				}
				if !yield(e) {
					return
				}
			}
		}
	}
	pub, err := match.Publish(key, entries, &match.PublishOptions{
		Mode:              n.cfg.Mode,
		FalsePositiveRate: n.cfg.FalsePositiveRate,
		Epoch:             number,
		NotBefore:         start,
		NotAfter:          start.Add(n.cfg.EpochLength + n.cfg.Grace),
		Progress:          func(int) error { return ctx.Err() },
	})
	if err == nil && listErr != nil {
		err = fmt.Errorf("federation: watchlist: %w (nothing published)", listErr)
	}
	return pub, err
}

func (n *Node) savePublisher(e *epoch) error {
	b, err := e.pub.MarshalBinary()
	if err != nil {
		return err
	}
	return writeState(n.cfg.StateDir, pubFile(e.number), statePublisher, b)
}

// rotate makes epoch number current. The order makes a crash at any point
// safe: the key and the publisher are written first, then node.state
// (the commit point), then the audit record; a crash before the commit
// leaves files that load removes, a crash after it leaves a committed
// rotation whose audit record load adds.
func (n *Node) rotate(ctx context.Context, number uint64) error {
	now := n.cfg.Now()
	key, err := match.GenerateKey(n.cfg.Suite)
	if err != nil {
		return err
	}
	pub, err := n.build(ctx, key, number, now)
	if err != nil {
		return err
	}
	e, err := n.newEpoch(number, now, key, pub)
	if err != nil {
		return err
	}
	kb, err := key.MarshalBinary()
	if err != nil {
		return err
	}
	if err := writeState(n.cfg.StateDir, keyFile(number), stateKey, kb); err != nil {
		return err
	}
	n.cfg.crash("rotate: key written")
	if err := n.savePublisher(e); err != nil {
		return err
	}
	n.cfg.crash("rotate: publisher written")
	n.mu.RLock()
	old, older := n.current, n.previous
	n.mu.RUnlock()
	st := &nodeState{id: n.cfg.ID, current: &epochRef{number, now}}
	grace := now.Add(n.cfg.Grace)
	if old != nil {
		st.previous, st.graceUntil = &epochRef{old.number, old.start}, grace
	}
	if err := writeState(n.cfg.StateDir, nodeStateFile, stateNode, st.encode()); err != nil {
		return err
	}
	n.cfg.crash("rotate: committed")
	n.mu.Lock()
	n.current, n.previous, n.graceUntil = e, old, grace
	n.mu.Unlock()
	n.log.Info("rotated", "epoch", number, "entries", pub.Filter().Len())
	if err := n.audit.append(AuditRecord{Time: now, Type: AuditRotation, Epoch: number,
		Count: uint64(pub.Entries()), Detail: "key " + key.KeyID().String()}); err != nil {
		return err
	}
	n.cfg.crash("rotate: audited")
	if older != nil {
		if err := n.destroy(older); err != nil {
			return err
		}
	}
	return n.budgets.keepEpochs(func(ep uint64) bool { return ep == number || old != nil && ep == old.number })
}

// destroy removes an epoch's key and publisher from disk.
func (n *Node) destroy(e *epoch) error {
	for _, name := range []string{keyFile(e.number), pubFile(e.number)} {
		if err := destroyFile(n.cfg.StateDir, name); err != nil {
			return err
		}
	}
	n.log.Info("destroyed epoch key", "epoch", e.number)
	return n.audit.append(AuditRecord{Time: n.cfg.Now(), Type: AuditDestruction, Epoch: e.number,
		Detail: "key " + e.key.KeyID().String()})
}

// Maintain does what is due at Config.Now: it destroys the previous key
// once its grace period is over, and rotates when the current epoch has
// lasted Config.EpochLength. [Node.Run] calls it on schedule.
func (n *Node) Maintain(ctx context.Context) error {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	if n.closed.Load() {
		return errClosed
	}
	now := n.cfg.Now()
	n.mu.RLock()
	cur, prev, grace := n.current, n.previous, n.graceUntil
	n.mu.RUnlock()
	if prev != nil && !now.Before(grace) {
		st := &nodeState{id: n.cfg.ID, current: &epochRef{cur.number, cur.start}}
		if err := writeState(n.cfg.StateDir, nodeStateFile, stateNode, st.encode()); err != nil {
			return err
		}
		n.mu.Lock()
		n.previous = nil
		n.mu.Unlock()
		if err := n.destroy(prev); err != nil {
			return err
		}
		if err := n.budgets.keepEpochs(func(ep uint64) bool { return ep == cur.number }); err != nil {
			return err
		}
	}
	if cur != nil && !now.Before(cur.start.Add(n.cfg.EpochLength)) {
		return n.rotate(ctx, cur.number+1)
	}
	if n.cfg.TLSCertificate == nil && now.After(n.certificate().Leaf.NotAfter.Add(-30*24*time.Hour)) {
		return n.renewCertificate()
	}
	return nil
}

// Run calls Maintain when something is due, until ctx is cancelled. It
// publishes first if nothing was ever published.
func (n *Node) Run(ctx context.Context) error {
	n.mu.RLock()
	published := n.current != nil
	n.mu.RUnlock()
	if !published {
		if err := n.Publish(ctx); err != nil {
			return err
		}
	}
	for {
		if err := n.Maintain(ctx); err != nil {
			n.log.Error("maintenance failed", "err", err)
		}
		n.mu.RLock()
		next := n.current.start.Add(n.cfg.EpochLength)
		if n.previous != nil && n.graceUntil.Before(next) {
			next = n.graceUntil
		}
		n.mu.RUnlock()
		wait := max(next.Sub(n.cfg.Now()), time.Second)
		wait = min(wait, time.Hour) // re-check the certificate now and then
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Epoch returns the current epoch number, 0 before the first publication.
func (n *Node) Epoch() uint64 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.current == nil {
		return 0
	}
	return n.current.number
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
func (n *Node) publisherFor(id match.KeyID) (e *epoch, current uint64) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.current == nil {
		return nil, 0
	}
	if n.current.key.KeyID() == id {
		return n.current, n.current.number
	}
	if n.previous != nil && n.previous.key.KeyID() == id && n.cfg.Now().Before(n.graceUntil) {
		return n.previous, n.current.number
	}
	return nil, n.current.number
}

// etagOf is the entity tag of a signed filter: a quoted hash.
func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return strconv.Quote(hex.EncodeToString(sum[:16]))
}
