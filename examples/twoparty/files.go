package main

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/feed"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// fileConfig is what the flags say about a file-to-file match.
type fileConfig struct {
	pathA, pathB string
	format       feed.Format
	kind         *indicator.Kind
	region       string
	fpr          float64
	maxRejects   int
}

// watchlist reads one agency's file.
type watchlist struct {
	name, path string
	r          *feed.Reader
	rejects    []feed.Reject
}

func (c *fileConfig) open(name, path string) (*watchlist, func(), error) {
	w := &watchlist{name: name, path: path}
	opts := &feed.Options{Format: c.format, Kind: c.kind, PhoneRegion: c.region,
		OnReject: func(r feed.Reject) { w.rejects = append(w.rejects, r) }}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		w.r = feed.NewMISPFeedReader(os.DirFS(path), opts)
		return w, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	w.r = feed.NewReader(f, opts)
	return w, func() { f.Close() }, nil
}

func (w *watchlist) err() error {
	if err := w.r.Err(); err != nil {
		return fmt.Errorf("%s: %w", w.path, err)
	}
	return nil
}

func (w *watchlist) summary(out io.Writer, maxRejects int) {
	s := w.r.Summary()
	fmt.Fprintf(out, "%s: %s, %d imported, %d rejected, %d unsupported, %d skipped\n",
		w.name, s.Format, s.Imported, s.Rejected, s.Unsupported, s.Skipped)
	for i, r := range w.rejects {
		if maxRejects > 0 && i == maxRejects {
			fmt.Fprintf(out, "  ... and %d more (-max-rejects 0 lists all)\n", len(w.rejects)-i)
			break
		}
		fmt.Fprintf(out, "  %s: %s\n", w.path, r)
	}
}

// queryBatch is how many indicators the querier sends per request.
const queryBatch = 1 << 16

// openAndPublish opens both files and publishes A's under a new key,
// with a count filter if count; closeAll closes both files.
func (c *fileConfig) openAndPublish(count bool) (a, b *watchlist, pub *match.Publisher, closeAll func(), err error) {
	a, closeA, err := c.open("publisher (-a)", c.pathA)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	b, closeB, err := c.open("querier (-b)", c.pathB)
	if err != nil {
		closeA()
		return nil, nil, nil, nil, err
	}
	closeAll = func() { closeB(); closeA() }
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err == nil {
		pub, err = match.Publish(key, a.r.Entries(), &match.PublishOptions{FalsePositiveRate: c.fpr, Count: count})
	}
	if err == nil {
		err = a.err()
	}
	if err != nil {
		closeAll()
		return nil, nil, nil, nil, err
	}
	return a, b, pub, closeAll, nil
}

// matchFiles publishes A's file, queries it with B's, kind by kind, and
// writes the shared indicators: canonical values for line lists,
// kind:value otherwise, sorted.
func matchFiles(c *fileConfig, out, log io.Writer) error {
	start := time.Now()
	a, b, pub, closeAll, err := c.openAndPublish(false)
	if err != nil {
		return err
	}
	defer closeAll()
	published := time.Since(start)

	var t traffic
	q, err := receiveFilter(pub, querierBound(c.fpr), &t)
	if err != nil {
		return err
	}
	inds := distinct(b.r.Entries())
	if err := b.err(); err != nil {
		return err
	}
	if a.r.Summary().Imported == 0 && b.r.Summary().Imported == 0 {
		a.summary(log, c.maxRejects)
		b.summary(log, c.maxRejects)
		return errors.New("neither file holds an indicator")
	}
	lines := b.r.Summary().Format == feed.Lines
	hits, candidates, err := queryKinds(pub, q, inds, &t)
	if err != nil {
		return err
	}
	var shared []string
	for _, h := range hits {
		if lines {
			shared = append(shared, h.Indicator.Value())
		} else {
			shared = append(shared, h.Indicator.String())
		}
	}
	slices.Sort(shared)
	shared = slices.Compact(shared)
	for _, s := range shared {
		if _, err := fmt.Fprintln(out, s); err != nil {
			return err
		}
	}
	f := pub.Filter()
	a.summary(log, c.maxRejects)
	b.summary(log, c.maxRejects)
	fmt.Fprintf(log, "filter: %d distinct entries, %d bits, %d hashes, %d bytes, estimated false-positive rate %.2g\n",
		f.Len(), f.Bits(), f.Hashes(), f.Size(), f.EstimatedFalsePositiveRate())
	fmt.Fprintf(log, "shared: %d indicators (%d filter candidates, %d false positives removed by confirmation)\n",
		len(shared), candidates, candidates-len(shared))
	fmt.Fprintf(log, "bytes: querier -> publisher %d, publisher -> querier %d (filter included)\n", t.toPublisher, t.toQuerier)
	fmt.Fprintf(log, "time: %v (publish %v)\n", time.Since(start).Round(time.Millisecond), published.Round(time.Millisecond))
	return nil
}

// distinct returns the distinct indicators of entries, in the order they
// first appear (queryKinds sends them kind by kind).
func distinct(entries iter.Seq[match.Entry]) []indicator.Indicator {
	var out []indicator.Indicator
	seen := map[indicator.Indicator]bool{}
	for e := range entries {
		if !seen[e.Indicator] {
			seen[e.Indicator] = true
			out = append(out, e.Indicator)
		}
	}
	return out
}
