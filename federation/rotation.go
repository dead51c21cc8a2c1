package federation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

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
	ref, cur := n.sched.current, n.current
	n.mu.RUnlock()
	if cur == nil {
		return n.rotate(ctx)
	}
	pub, err := n.build(ctx, cur.key, ref)
	if err != nil {
		return err
	}
	e, err := n.newEpoch(cur.number, cur.key, pub)
	if err == nil {
		err = n.withCount(e, pub.CountFilter())
	}
	if err != nil {
		return err
	}
	if err := n.savePublisher(e, 0); err != nil {
		// epoch-N.pub may be the new publication's: serve what is on disk.
		return n.reload(cur, ref, err)
	}
	n.mu.Lock()
	n.current = e
	n.bump()
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
	return n.rotate(ctx)
}

// build publishes the watchlist under key for the epoch ref, valid from
// its start for EpochLength + Grace.
func (n *Node) build(ctx context.Context, key *match.PrivateKey, ref epochRef) (*match.Publisher, error) {
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
	// The list now is about the list published last: presizing the tag
	// index for it (and 1/32 more) spares the build the index's growth,
	// about 40 MiB of peak memory a million entries.
	hint := 0
	n.mu.RLock()
	if n.current != nil {
		live := n.current.pub.Entries() - n.current.pub.Removed()
		hint = min(live+live/32, match.MaxEntries)
	}
	n.mu.RUnlock()
	room := match.PublishOptions{}
	if n.cfg.Headroom > 0 {
		room = match.PublishOptions{Capacity: minCapacity, Headroom: n.cfg.Headroom}
	}
	pub, err := match.Publish(key, entries, &match.PublishOptions{
		Mode:              n.cfg.Mode,
		FalsePositiveRate: n.cfg.FalsePositiveRate,
		Capacity:          room.Capacity,
		Headroom:          room.Headroom,
		Padding:           n.cfg.epochPadding(), // Config.ChangePadding at every tick
		SizeHint:          hint,
		Epoch:             ref.number,
		NotBefore:         ref.start,
		NotAfter:          ref.start.Add(n.cfg.EpochLength + n.cfg.Grace),
		Progress:          func(int) error { return ctx.Err() },
		Count:             n.cfg.counting(), // a count filter for partners that may count
	})
	if err == nil && listErr != nil {
		err = fmt.Errorf("federation: watchlist: %w (nothing published)", listErr)
	}
	return pub, err
}

// savePublisher writes e's publisher whole as epoch-N.pub, including the
// changes up to applied, then starts its journal afresh after them
// (journal.go): at a publication or a rotation (a new line, applied 0),
// and to fold the journal in.
func (n *Node) savePublisher(e *epoch, applied uint64) error {
	b, err := e.pub.MarshalBinary()
	if err != nil {
		return err
	}
	mark := e.pub.Mark() // opMu is held: nothing changes the publisher meanwhile
	// With its line of versions, so that a restart continues the line
	// (and a partner refuses an older version of it, PROTOCOL.md 5.3).
	// The count filter, if any, goes in the same file, written with it
	// atomically: a restored publisher has none (match.RestorePublisher).
	typ, cb := statePublisherJournal, []byte(nil)
	if e.count != nil {
		if cb, err = e.count.MarshalBinary(); err != nil {
			return err
		}
		typ = statePublisherCount
	}
	file := encodeState(typ, encodePublisherFile(e.gen, applied, cb, b))
	if err := n.store.write(pubFile(e.number), file); err != nil {
		return err
	}
	jr := e.jr
	if jr == nil || jr.gen != e.gen || applied == 0 {
		jr = &journal{gen: e.gen, sum: chgHeaderSum(e.number, e.gen, 0), mark: mark}
		e.jr = jr
	}
	jr.applied, jr.base, jr.legacy = applied, int64(len(file)), false
	// If this fails, the journal is the previous one: of another line,
	// ignored at load, or of this one, whose changes up to applied the
	// state now includes.
	hdr := chgHeader(e.number, e.gen, applied)
	if err := n.store.write(chgFile(e.number), hdr); err != nil {
		return err
	}
	jr.from, jr.seq, jr.size, jr.sum, jr.mark, jr.ok, jr.unaudited = applied, applied, int64(len(hdr)), chgHeaderSum(e.number, e.gen, applied), mark, true, nil
	return nil
}

// rotate starts the next epoch. The order makes a crash at any point
// safe: the key and the publisher are written first, then node.state
// (the commit point), then the audit record; a crash before the commit
// leaves files that load removes, a crash after it leaves a committed
// rotation whose audit record load adds.
func (n *Node) rotate(ctx context.Context) error {
	now := n.cfg.Now()
	n.mu.RLock()
	s, old, older := n.sched, n.current, n.previous
	n.mu.RUnlock()
	next := s.rotated(now, n.cfg.Grace, n.last)
	number := next.current.number
	key, err := match.GenerateKey(n.cfg.Suite)
	if err != nil {
		return err
	}
	pub, err := n.build(ctx, key, next.current)
	if err != nil {
		return err
	}
	e, err := n.newEpoch(number, key, pub)
	if err == nil {
		err = n.withCount(e, pub.CountFilter())
	}
	if err != nil {
		return err
	}
	kb, err := key.MarshalBinary()
	if err != nil {
		return err
	}
	if err := writeState(n.store, keyFile(number), stateKey, kb); err != nil {
		return err
	}
	if err := n.savePublisher(e, 0); err != nil {
		return err
	}
	if err := n.saveSchedule(next); err != nil {
		return err
	}
	n.mu.Lock()
	n.sched, n.current, n.previous = next, e, old
	n.bump()
	n.mu.Unlock()
	n.last = number
	n.log.Info("rotated", "epoch", number, "entries", pub.Filter().Len())
	if err := n.audit.append(AuditRecord{Time: now, Type: AuditRotation, Epoch: number,
		Count: uint64(pub.Entries()), Detail: "key " + key.KeyID().String()}); err != nil {
		return err
	}
	if older != nil {
		if err := n.destroy(older); err != nil {
			return err
		}
	}
	return n.keepLive(next)
}

// destroy removes an epoch's key and publisher from the store.
func (n *Node) destroy(e *epoch) error {
	for _, name := range epochFiles(e.number) {
		if err := n.store.destroy(name); err != nil {
			return err
		}
	}
	n.log.Info("destroyed epoch key", "epoch", e.number)
	return n.audit.append(AuditRecord{Time: n.cfg.Now(), Type: AuditDestruction, Epoch: e.number,
		Detail: "key " + e.key.KeyID().String()})
}

// dropPrevious ends the previous epoch's grace period: node.state first,
// then its key and publisher, then its budgets.
func (n *Node) dropPrevious() error {
	n.mu.RLock()
	s, prev := n.sched, n.previous
	n.mu.RUnlock()
	next := s.dropped()
	if err := n.saveSchedule(next); err != nil {
		return err
	}
	n.mu.Lock()
	n.sched, n.previous = next, nil
	n.mu.Unlock()
	if err := n.destroy(prev); err != nil {
		return err
	}
	return n.keepLive(next)
}

// Maintain does what is due at Config.Now: it records the refusals
// counted so far, destroys the previous key once its grace period is
// over, rotates when the current epoch has lasted Config.EpochLength,
// and publishes a tick of Config.ChangeInterval when one is due.
// [Node.Run] calls it on schedule.
func (n *Node) Maintain(ctx context.Context) error {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	if n.closed.Load() {
		return errClosed
	}
	n.flushRefusals(true)
	now := n.cfg.Now()
	n.mu.RLock()
	due := n.sched.due(now, n.cfg.EpochLength)
	n.mu.RUnlock()
	if due.drop != 0 {
		if err := n.dropPrevious(); err != nil {
			return err
		}
	}
	if due.rotate {
		return n.rotate(ctx)
	}
	err := n.publishChanges(now) // a tick of Config.ChangeInterval, if due
	if n.cfg.TLSCertificate == nil && now.After(n.certificate().Leaf.NotAfter.Add(-30*24*time.Hour)) {
		err = errors.Join(err, n.renewCertificate())
	}
	return err
}

// Run calls Maintain when something is due, until ctx is cancelled. It
// publishes first if nothing was ever published.
func (n *Node) Run(ctx context.Context) error {
	if n.Epoch() == 0 {
		if err := n.Publish(ctx); err != nil {
			return err
		}
	}
	for {
		if err := n.Maintain(ctx); err != nil {
			n.log.Error("maintenance failed", "err", err)
		}
		now := n.cfg.Now()
		n.mu.RLock()
		next := earliest(n.sched.due(now, n.cfg.EpochLength).next, nextTick(n.sched.current.start, now, n.cfg.ChangeInterval))
		n.mu.RUnlock()
		wait := max(next.Sub(now), time.Second)
		wait = min(wait, time.Hour) // re-check the certificate now and then
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}
