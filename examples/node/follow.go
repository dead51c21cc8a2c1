package main

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"sync"

	"github.com/fedmatch/fedmatch/federation"
	"github.com/fedmatch/fedmatch/match"
)

// A change of the watchlist file is applied to the current epoch (Add,
// then RemoveEntries) when it touches at most half of the list: beyond
// that, a publication costs about as many evaluations (one per entry,
// against one per changed entry), and gives a filter without the bits of
// the entries removed and with its room for additions whole again.
const maxChangeFraction = 0.5

// A readLog records the entries of the last complete read of the
// watchlist by the node: the list its last publication or rotation
// published. A read that stops early (an error, a build cut short) is
// not recorded.
type readLog struct {
	mu   sync.Mutex
	list []match.Entry
	ok   bool
}

// wrap returns src, recording each complete read in l.
func (l *readLog) wrap(src func() iter.Seq2[match.Entry, error]) func() iter.Seq2[match.Entry, error] {
	return func() iter.Seq2[match.Entry, error] {
		return func(yield func(match.Entry, error) bool) {
			var list []match.Entry
			for e, err := range src() {
				if !yield(e, err) || err != nil {
					return
				}
				list = append(list, e)
			}
			l.mu.Lock()
			l.list, l.ok = list, true
			l.mu.Unlock()
		}
	}
}

func (l *readLog) last() ([]match.Entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.list, l.ok
}

// A follower keeps the node's current list in step with the watchlist
// file. It knows the list it gave the node in the current epoch (given):
// what the node's last publication or rotation read, then changed by the
// follower's own Add and RemoveEntries. A change of the file is the
// multiset difference of (indicator, label, reference) between given and
// the file.
type follower struct {
	n     *federation.Node
	read  func() ([]match.Entry, error) // the file, not through reads
	reads *readLog                      // what the node's builds read
	log   *slog.Logger

	given []match.Entry
	epoch uint64 // the epoch given belongs to
	known bool   // given is what the node holds
}

// followWatchlist applies the changes of the node's watchlist file at
// path until ctx is done (see follower.change).
func followWatchlist(ctx context.Context, n *federation.Node, read func() ([]match.Entry, error), reads *readLog, path string, log *slog.Logger) {
	f := &follower{n: n, read: read, reads: reads, log: log}
	f.start(ctx)
	onChange(ctx, path, func() { f.change(ctx) })
}

// start learns what the node holds: the list this process published, or,
// for a node restored from its state directory, the file as it is now
// if it has as many entries as the node. A file that changed while the
// node was stopped is published afresh if its number of entries changed;
// a change that kept it (a changed label, a line replaced by another) is
// not seen until the next publication or rotation.
func (f *follower) start(ctx context.Context) {
	if f.adopt() {
		return
	}
	list, err := f.read()
	if err != nil {
		f.log.Warn("watchlist not read", "err", err)
		return
	}
	m := f.n.Metrics()
	if m.Entries == len(list) {
		f.given, f.epoch, f.known = list, m.Epoch, true
		return
	}
	f.publish(ctx, "the watchlist's number of entries is not the node's")
}

// adopt takes the list the node's last build read as given, if the node
// serves it: the epoch and version did not change while it was taken,
// and the node holds as many entries. It reports whether it did.
func (f *follower) adopt() bool {
	before := f.n.Metrics()
	list, ok := f.reads.last()
	after := f.n.Metrics()
	if !ok || before.Epoch != after.Epoch || before.Version != after.Version || !before.Changed.Equal(after.Changed) || after.Entries != len(list) {
		return false
	}
	f.given, f.epoch, f.known = list, after.Epoch, true
	return true
}

// change applies a change of the file: the entries new to it with
// Node.Add, then those it lost with Node.RemoveEntries (adding first, so
// that an indicator whose label changed keeps an entry throughout and is
// never answered "withdrawn"). It publishes afresh instead when the
// change touches more than maxChangeFraction of the list, when Add finds
// an indicator withdrawn earlier in the epoch (match.ErrWithdrawn) or no
// room left (match.ErrCapacity), when RemoveEntries finds an entry the
// node does not hold (match.ErrNotListed: given was wrong), and when a
// rotation came between (the node's Run re-read the file, and the change
// may have been applied to the new epoch on top of it).
func (f *follower) change(ctx context.Context) {
	if f.known && f.n.Epoch() != f.epoch && !f.adopt() { // a rotation since the last change
		f.known = false
	}
	next, err := f.read()
	if err != nil {
		f.log.Warn("watchlist changed but not read; the node serves its previous list", "err", err)
		return
	}
	if !f.known {
		f.publish(ctx, "the list the node holds is not known")
		return
	}
	added, gone := difference(f.given, next)
	switch {
	case len(added)+len(gone) == 0:
		return
	case float64(len(added)+len(gone)) > maxChangeFraction*float64(max(len(f.given), len(next))):
		f.publish(ctx, "more than half of the list changed")
		return
	}
	epoch := f.epoch
	if len(added) > 0 {
		fresh, err := f.n.Add(ctx, added)
		switch {
		case errors.Is(err, match.ErrWithdrawn):
			f.publish(ctx, "an indicator removed earlier in the epoch is back")
			return
		case errors.Is(err, match.ErrCapacity):
			f.publish(ctx, "the filter has no room left")
			return
		case err != nil:
			f.log.Warn("watchlist entries not added", "entries", len(added), "err", err)
			return
		}
		f.given = append(f.given, added...)
		f.log.Info("watchlist entries added", "entries", len(added), "indicators", fresh, "version", f.n.Filter().Version())
	}
	if len(gone) > 0 {
		removed, err := f.n.RemoveEntries(ctx, gone)
		switch {
		case errors.Is(err, match.ErrNotListed):
			f.publish(ctx, "an entry that left the file is not the node's")
			return
		case err != nil:
			f.log.Warn("watchlist entries not removed", "entries", len(gone), "err", err)
			return
		}
		f.given = next
		f.log.Info("watchlist entries removed", "entries", removed)
	}
	if f.n.Epoch() != epoch {
		f.publish(ctx, "the key rotated during the change")
	}
}

// publish publishes the file afresh and takes what the publication read
// as given.
func (f *follower) publish(ctx context.Context, why string) {
	if err := f.n.Publish(ctx); err != nil {
		f.log.Warn("watchlist changed; publication failed, the node serves its previous list", "reason", why, "err", err)
		return
	}
	if !f.adopt() {
		f.known = false // publish again at the next change
		f.log.Warn("watchlist published afresh, but what the node read is not known", "reason", why)
		return
	}
	f.log.Info("watchlist published afresh", "reason", why, "entries", len(f.given), "version", f.n.Filter().Version())
}

// difference returns the multiset difference of two lists of entries:
// the entries of next beyond those of prev, and those of prev beyond
// those of next, each in its list's order. Entries are equal if their
// indicators, labels and references are.
func difference(prev, next []match.Entry) (added, gone []match.Entry) {
	count := make(map[match.Entry]int, len(prev))
	for _, e := range prev {
		count[e]++
	}
	for _, e := range next {
		if count[e] > 0 {
			count[e]--
		} else {
			added = append(added, e)
		}
	}
	for _, e := range prev {
		if count[e] > 0 {
			count[e]--
			gone = append(gone, e)
		}
	}
	return added, gone
}
