package main

import (
	"context"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedmatch/fedmatch/federation"
	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/feed"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// pollEvery is how often the watched files are checked for a change, in
// nanoseconds (tests shorten it).
var pollEvery atomic.Int64

func init() { pollEvery.Store(int64(2 * time.Second)) }

// onChange calls fn each time path's size or modification time changes,
// checking every pollEvery, until ctx is done.
func onChange(ctx context.Context, path string, fn func()) {
	stat := func() os.FileInfo { fi, _ := os.Stat(path); return fi }
	last := stat()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(pollEvery.Load())):
		}
		fi := stat()
		if fi == nil || last != nil && fi.Size() == last.Size() && fi.ModTime().Equal(last.ModTime()) {
			continue
		}
		last = fi
		fn()
	}
}

// readList reads a watchlist whole.
func readList(src func() iter.Seq2[match.Entry, error]) ([]match.Entry, error) {
	var list []match.Entry
	for e, err := range src() {
		if err != nil {
			return nil, err
		}
		list = append(list, e)
	}
	return list, nil
}

// watchSpec is -watch: a file of indicators kept matched.
type watchSpec struct {
	path, format, region string
	out, errw            io.Writer
	mu                   sync.Mutex // serialises writes to out and errw
}

func (w *watchSpec) read() ([]indicator.Indicator, error) {
	opts, err := feedOptions(w.format, "", w.region)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(w.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := feed.NewReader(f, opts)
	var inds []indicator.Indicator
	for e := range rd.Entries() {
		inds = append(inds, e.Indicator)
	}
	for _, r := range rd.Rejects() {
		w.mu.Lock()
		fmt.Fprintf(w.errw, "%s: %s\n", w.path, r)
		w.mu.Unlock()
	}
	return inds, rd.Err()
}

// start starts the standing match of the file's indicators, and a
// goroutine that adds the indicators the file gains.
func (w *watchSpec) start(ctx context.Context, m *federation.Matcher, log *slog.Logger) error {
	inds, err := w.read()
	if err != nil {
		return err
	}
	st, err := m.Stand(ctx, inds, federation.StandingOptions{
		OnHit: func(h federation.StandingHit) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if h.Withdrawn {
				fmt.Fprintf(w.errw, "%s: withdrawn: %s\n", h.Partner, printable(h.Hit.Indicator.String()))
				return
			}
			printResult(w.out, io.Discard, federation.PartnerResult{Partner: h.Partner, Hits: []match.Hit{h.Hit}})
		},
		OnError: func(partner string, err error) {
			log.Warn("standing match", "partner", partner, "err", printable(err.Error()))
		},
	})
	if err != nil {
		return err
	}
	go onChange(ctx, w.path, func() {
		inds, err := w.read()
		if err != nil {
			log.Warn("watch file changed but not read", "err", err)
			return
		}
		st.Add(inds...) // only the new ones are evaluated
	})
	return nil
}
