package match

import (
	"errors"
	"fmt"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// A Watch keeps a querier's indicators matched against one publisher key
// as the publisher's filter grows: the querier side of continuous
// matching. It keeps the confirm tag of every indicator evaluated under
// the key ([Watch.Keep]), so that a new version of the filter, whole
// ([Watch.Update]) or as a delta ([Watch.Apply]), is tested without any
// evaluation, and only indicators new to the querier cost the publisher's
// evaluations ([Watch.Missing]). The indicators that a new version makes
// candidates are confirmed with [Watch.Pending].
//
// The kept tags are the OPRF outputs of the querier's indicators under the
// publisher's key: with them, the publisher's index tells which of them it
// holds. Keep a Watch as carefully as the watchlist itself. A Watch is for
// one key; at a rotation the querier starts a new one. Its methods are not
// safe for concurrent use.
type Watch struct {
	opts  QuerierOptions
	f     *Filter
	inds  []indicator.Indicator
	tags  []tag
	byInd map[indicator.Indicator]int
	byTag map[tag]int
	// answered[i]: inds[i] was confirmed under this key, whatever the
	// answer; candidate[i]: it passes the filter and awaits confirmation.
	answered, candidate []bool
	cands               int
}

// NewWatch starts a Watch of q's filter, with q's options.
func NewWatch(q *Querier) *Watch {
	return &Watch{opts: q.opts, f: q.f, byInd: map[indicator.Indicator]int{}, byTag: map[tag]int{}}
}

// Filter returns the version of the filter the watch holds.
func (w *Watch) Filter() *Filter { return w.f }

// Querier returns a querier of the watch's current filter, for the
// indicators [Watch.Missing] returns.
func (w *Watch) Querier() (*Querier, error) { return NewQuerier(w.f, &w.opts) }

// Len returns the number of indicators kept.
func (w *Watch) Len() int { return len(w.inds) }

// Candidates returns the number of kept indicators that pass the filter
// and await confirmation ([Watch.Pending]).
func (w *Watch) Candidates() int { return w.cands }

// Missing returns the indicators of inds that the watch does not keep, each
// once, in order: the only ones that need an evaluation.
func (w *Watch) Missing(inds []indicator.Indicator) []indicator.Indicator {
	var out []indicator.Indicator
	seen := map[indicator.Indicator]bool{}
	for _, ind := range inds {
		if _, ok := w.byInd[ind]; !ok && !seen[ind] {
			seen[ind] = true
			out = append(out, ind)
		}
	}
	return out
}

// Keep keeps the outputs of a finalized query of this key (its filter of
// any version the watch had). The query's own candidates are confirmed
// through the query ([Query.Hits]); its other indicators that pass the
// watch's filter, newer than the query's, become candidates. Indicators
// the watch already keeps are skipped.
func (w *Watch) Keep(qu *Query) error {
	if qu.state == queryBlinded || qu.tags == nil {
		return errors.New("match: Keep needs a finalized query")
	}
	if err := qu.q.f.hdr.check(&w.f.hdr); err != nil {
		return err
	}
	if qu.q.f.epoch != w.f.epoch || qu.q.f.n > w.f.n {
		return fmt.Errorf("%w: query of filter version %d of epoch %d, the watch holds version %d of epoch %d",
			ErrWrongKey, qu.q.f.n, qu.q.f.epoch, w.f.n, w.f.epoch)
	}
	asked := make(map[int]bool, len(qu.cands))
	for _, c := range qu.cands {
		asked[c] = true
	}
	newer := qu.q.f.n != w.f.n
	pos := newPositioner()
	for i, ind := range qu.inds {
		if _, ok := w.byInd[ind]; ok {
			continue
		}
		j := len(w.inds)
		w.inds = append(w.inds, ind)
		w.tags = append(w.tags, qu.tags[i])
		w.byInd[ind] = j
		w.byTag[qu.tags[i]] = j
		w.answered = append(w.answered, asked[i])
		cand := !asked[i] && newer && w.f.contains(pos, qu.tags[i])
		w.candidate = append(w.candidate, cand)
		if cand {
			w.cands++
		}
	}
	return nil
}

// Apply applies a delta of the publisher's filter ([Filter.Apply], with
// the watch's options) and makes candidates of the kept indicators it
// adds: an exact lookup of each added tag, with no evaluation and no
// false positive. A delta that does not start at the watch's version is
// refused with ErrStaleDelta, and changes nothing.
func (w *Watch) Apply(d *Delta) error {
	g, err := w.f.Apply(d, &w.opts)
	if err != nil {
		return err
	}
	w.f = g
	for _, t := range d.tags {
		if i, ok := w.byTag[t]; ok {
			w.mark(i)
		}
	}
	return nil
}

// Update replaces the watch's filter by a whole newer version of it (of
// the same key and epoch; a querier offline for several versions, or one
// whose delta is not available, downloads it) and tests every kept
// indicator against it, one hash per indicator and no evaluation. An
// older version (a rollback) is refused with ErrStaleDelta; the same
// version changes nothing.
func (w *Watch) Update(f *Filter) error {
	switch err := f.hdr.check(&w.f.hdr); {
	case err != nil:
		return err
	case f.epoch != w.f.epoch:
		return malformed("filter of epoch %d for a watch of epoch %d", f.epoch, w.f.epoch)
	case f.n < w.f.n:
		return fmt.Errorf("%w: filter version %d is older than the watch's %d", ErrStaleDelta, f.n, w.f.n)
	case f.n == w.f.n:
		return nil
	}
	if _, err := NewQuerier(f, &w.opts); err != nil {
		return err
	}
	w.f = f
	pos := newPositioner()
	for i, t := range w.tags {
		if !w.answered[i] && !w.candidate[i] && f.contains(pos, t) {
			w.mark(i)
		}
	}
	return nil
}

func (w *Watch) mark(i int) {
	if !w.answered[i] && !w.candidate[i] {
		w.candidate[i] = true
		w.cands++
	}
}

// Pending returns the confirm request for the kept indicators awaiting
// confirmation, and the Pending that reads its answer; nil and nil if
// there are none. The candidates stay candidates until [Pending.Hits]
// reads an answer for them, so a confirmation that fails can be sent
// again; do not have two Pendings of one watch in flight.
func (w *Watch) Pending() (*Pending, *ConfirmRequest) {
	if w.cands == 0 {
		return nil, nil
	}
	p := &Pending{w: w, f: w.f}
	req := &ConfirmRequest{hdr: w.f.hdr}
	for i, c := range w.candidate {
		if c {
			p.idx = append(p.idx, i)
			req.tags = append(req.tags, w.tags[i][:]...)
		}
	}
	return p, req
}

// A Pending is a confirmation of a watch's candidates in flight.
type Pending struct {
	w   *Watch
	f   *Filter
	idx []int
}

// Hits reads the publisher's answer to the Pending's confirm request, as
// [Query.Hits] does: it returns the confirmed hits, the indicators
// answered "withdrawn" ([Query.Withdrawn]), and a *MisbehaviourError if
// the "not an entry" answers are more than the filter's false-positive
// rate explains. Every answered indicator stops being a candidate.
func (p *Pending) Hits(resp *ConfirmResponse) ([]Hit, []indicator.Indicator, error) {
	w := p.w
	if err := resp.hdr.check(&p.f.hdr); err != nil {
		return nil, nil, err
	}
	if len(resp.results) != len(p.idx) {
		return nil, nil, fmt.Errorf("%w: %d answers for %d candidates", ErrResponseMismatch, len(resp.results), len(p.idx))
	}
	var hits []Hit
	var withdrawn []indicator.Indicator
	for k, r := range resp.results {
		i := p.idx[k]
		if w.candidate[i] {
			w.candidate[i] = false
			w.cands--
		}
		w.answered[i] = true
		switch {
		case r.hit:
			hits = append(hits, Hit{Indicator: w.inds[i], Labels: r.labels})
		case r.withdrawn:
			withdrawn = append(withdrawn, w.inds[i])
		}
	}
	return hits, withdrawn, CheckConfirmations(len(w.inds), len(p.idx), len(hits)+len(withdrawn), p.f.EstimatedFalsePositiveRate())
}
