package federation

import (
	"context"
	"errors"
	"fmt"

	"github.com/fedmatch/fedmatch/match"
)

// DefaultHeadroom is the room a published filter keeps for additions when
// Config.Headroom is zero: a quarter of the watchlist.
const DefaultHeadroom = 0.25

// minCapacity is the least number of distinct indicators a filter with
// headroom is sized for.
const minCapacity = 1024

// Add adds entries to the current epoch's list without a new key or a
// whole publication: the publisher evaluates only them (match.Publisher.Add),
// the new version of the filter is signed and served, and partners that
// fetch the filter get it (If-None-Match tells them it changed). It
// returns once the new version and an audit record of the change are on
// disk. It fails with match.ErrCapacity when the filter has no room left
// (Config.Headroom): call Publish or Rotate. The entries are not added to
// Config.Watchlist: the next Publish or Rotate reads the watchlist as it
// is then, so a caller keeps the two in step (examples/node re-reads its
// watchlist file).
//
// With Config.ChangeInterval the entries wait for the next tick, which
// publishes every Add queued since in one version (with
// Config.ChangePadding, in versions padded to a fixed size), and Add
// returns once that version is on disk, with the number of indicators
// new to the filter in the whole batch; if ctx is done first, the entries
// are withdrawn unless the tick has taken them, and Close fails the Adds
// still waiting. Config.Now must reach the tick and Node.Run (or
// Node.Maintain) publish it.
func (n *Node) Add(ctx context.Context, entries []match.Entry) (added int, err error) {
	if n.cfg.ChangeInterval > 0 {
		return n.addBatched(ctx, entries)
	}
	return n.change(ctx, "added", func(pub *match.Publisher) (int, error) { return pub.Add(entries) }, len(entries), 0)
}

// Remove removes entries of the current epoch's list, by their numbers
// (their positions in the watchlist as published, then in the order Add
// added them): they are never confirmed again. Their bits stay in the
// filter until the next epoch; a partner that asks about one is answered
// "withdrawn" (PROTOCOL.md section 2.8). It returns once the change and
// an audit record are on disk. It is applied at once even with
// Config.ChangeInterval: a removal makes no new version, so no filter or
// delta shows when it happened; only a partner holding a removed
// indicator learns of it, when it asks and is answered "withdrawn".
func (n *Node) Remove(ctx context.Context, entries ...int) error {
	_, err := n.change(ctx, "removed", func(pub *match.Publisher) (int, error) { return 0, pub.Remove(entries...) }, 0, len(entries))
	return err
}

// RemoveEntries removes entries of the current epoch's list by what they
// hold rather than by number (match.Publisher.RemoveEntries): for each of
// entries, one listed entry with the same indicator, label and reference,
// the oldest first. A caller that keeps its own list, such as a watchlist
// file, removes what left it without knowing how the node numbered its
// entries, which changes with every publication and rotation. It
// evaluates each distinct indicator of entries once, under the current
// key; no partner's budget pays for it. It removes all of entries or
// none: an entry not listed fails with match.ErrNotListed, named by its
// position in entries. The lookup and the removal happen in one step
// that no publication or rotation can come between: the entries are
// found and removed in the same epoch, the one current when the step
// began (a rotation after it publishes Config.Watchlist afresh).
//
// A removal is what [Node.Remove] does, and is applied at once even with
// Config.ChangeInterval; the entries of an Add still waiting for its tick
// are not listed yet. It returns the number of entries removed, once the
// change and an audit record are on disk.
func (n *Node) RemoveEntries(ctx context.Context, entries []match.Entry) (removed int, err error) {
	if len(entries) == 0 {
		return 0, ctx.Err()
	}
	return n.change(ctx, "removed", func(pub *match.Publisher) (int, error) {
		r, err := pub.RemoveEntries(entries)
		return len(r), err
	}, 0, len(entries))
}

// change applies fn to the current publisher, then writes it, serves the
// new filter version and audits the change. If writing fails, the
// publisher is restored from disk, so that what is served is what is on
// disk.
func (n *Node) change(ctx context.Context, verb string, fn func(*match.Publisher) (int, error), added, removed int) (int, error) {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	if n.closed.Load() {
		return 0, errClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n.mu.RLock()
	cur, ref := n.current, n.sched.current
	n.mu.RUnlock()
	if cur == nil {
		return 0, errors.New("federation: nothing published yet: Publish first")
	}
	before := cur.pub.Filter().Version()
	fresh, err := fn(cur.pub)
	if err != nil {
		return 0, err // the publisher refused it and is unchanged
	}
	version := cur.pub.Filter().Version()
	detail := fmt.Sprintf("version %d", version)
	if version != before {
		detail = fmt.Sprintf("version %d after %d", version, before)
	}
	if removed > 0 {
		detail += fmt.Sprintf(", %d entries removed", removed)
	}
	e, err := n.commit(cur, ref, []AuditRecord{{Type: AuditChange, Epoch: cur.number, Count: uint64(added), Detail: detail}})
	if err != nil {
		return 0, err
	}
	n.log.Info("list changed", "epoch", e.number, verb, max(added, removed), "version", version)
	return fresh, n.auditChange(e)
}

// commit journals the change a change made to cur's publisher in memory,
// with the audit records that auditChange then appends (journal.go), and
// serves it as the next version of cur's line. If writing fails, the
// epoch ref is reloaded from disk, so that what is served is what is on
// disk. opMu is held.
func (n *Node) commit(cur *epoch, ref epochRef, recs []AuditRecord) (*epoch, error) {
	e, err := n.newEpoch(cur.number, cur.key, cur.pub)
	if err == nil {
		e.gen, e.jr = cur.gen, cur.jr // the same line of versions, and its journal
		// The count filter as published, unchanged by the change.
		e.count, e.countSigned = cur.count, cur.countSigned
		err = n.journalChange(e, recs)
	}
	if err != nil {
		return nil, n.reload(cur, ref, err)
	}
	n.mu.Lock()
	n.current = e
	n.bump()
	n.mu.Unlock()
	return e, nil
}

// reload serves the current epoch ref as it is on disk, after err, a
// failure to write cur's publisher, which changed in memory; it returns
// err, and the failure to reload, if any. opMu is held.
func (n *Node) reload(cur *epoch, ref epochRef, err error) error {
	old, lerr := n.loadEpoch(ref)
	if lerr != nil {
		return errors.Join(err, fmt.Errorf("federation: reloading epoch %d: %w", cur.number, lerr))
	}
	n.mu.Lock()
	n.current = old
	n.bump()
	n.mu.Unlock()
	return err
}
