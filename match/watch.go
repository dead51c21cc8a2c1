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
	opts   QuerierOptions
	f      *Filter
	inds   []indicator.Indicator
	tags   []tag
	byInd  map[indicator.Indicator]int
	bySeed map[seed]int // the filter seed of tags[i] -> i
	// answer[i] is the last answer about inds[i] under this key
	// (answerNone until confirmed); candidate[i] says it awaits
	// confirmation, exact[i] that a delta carried its seed (so that "not an
	// entry" is a lie, not a false positive).
	answer           []uint8
	candidate, exact []bool
	cands            int
	// tested counts the tests of indicators against the bits of a new
	// version (Update), and noes the "not an entry" answers to the
	// candidates they gave: the misbehaviour check's Q and C-H across
	// the watch's life.
	tested, noes int
}

// answerNone: an indicator not confirmed under the watch's key.
const answerNone = 0xff

// NewWatch starts a Watch of q's filter, with q's options.
func NewWatch(q *Querier) *Watch {
	return &Watch{opts: q.opts, f: q.f, byInd: map[indicator.Indicator]int{}, bySeed: map[seed]int{}}
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

// Keep keeps the outputs of a query of this key (its filter of any
// version the watch had), once [Query.Hits] has read the answers to its
// candidates (or [Query.Finalize] found none). The answers are kept with
// the outputs; the query's indicators not candidates under its version
// that pass the watch's newer one become candidates. Indicators the watch
// already keeps are skipped.
func (w *Watch) Keep(qu *Query) error {
	switch {
	case qu.tags == nil || qu.state == queryBlinded:
		return errors.New("match: Keep needs a finalized query")
	case qu.state != queryDone && len(qu.cands) > 0:
		return errors.New("match: Keep needs the answers to the query's candidates: call Query.Hits first")
	}
	if err := qu.q.f.hdr.check(&w.f.hdr); err != nil {
		return err
	}
	if qu.q.f.epoch != w.f.epoch || qu.q.f.n > w.f.n {
		return fmt.Errorf("%w: query of filter version %d of epoch %d, the watch holds version %d of epoch %d",
			ErrWrongKey, qu.q.f.n, qu.q.f.epoch, w.f.n, w.f.epoch)
	}
	asked := make(map[int]uint8, len(qu.cands))
	for k, c := range qu.cands {
		asked[c] = qu.answers[k]
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
		w.bySeed[deriveSeed(qu.tags[i])] = j
		a, ok := asked[i]
		if !ok {
			a = answerNone
		}
		w.answer = append(w.answer, a)
		w.candidate, w.exact = append(w.candidate, false), append(w.exact, false)
		if newer && (a == answerNone || a == answerNo) {
			w.tested++
			if w.f.contains(pos, qu.tags[i]) {
				w.mark(j, false)
			}
		}
	}
	return nil
}

// Apply applies a delta of the publisher's filter ([Filter.Apply], with
// the watch's options) and makes candidates of the kept indicators it
// adds: an exact lookup of each added seed, with no evaluation and no
// false positive. A delta that does not start at the watch's version is
// refused with ErrStaleDelta, and changes nothing.
func (w *Watch) Apply(d *Delta) error {
	g, err := w.f.Apply(d, &w.opts)
	if err != nil {
		return err
	}
	w.f = g
	for _, sd := range d.seeds {
		// A delta's seeds are new to the list: whatever the indicator's
		// last answer (a false positive answered "no" may be listed now),
		// it is a candidate, and "not an entry" would be a lie.
		if i, ok := w.bySeed[sd]; ok {
			w.mark(i, true)
		}
	}
	return nil
}

// Update replaces the watch's filter by a whole newer version of it (of
// the same key and epoch; a querier offline for several versions, or one
// whose delta is not available, downloads it) and tests against it every
// kept indicator not already a hit or withdrawn, one hash per indicator
// and no evaluation. An
// older version (a rollback) is refused with ErrStaleDelta; the same
// version changes nothing.
func (w *Watch) Update(f *Filter) error {
	switch {
	case f.n < w.f.n:
		if err := w.sameKey(f); err != nil {
			return err
		}
		return fmt.Errorf("%w: filter version %d is older than the watch's %d", ErrStaleDelta, f.n, w.f.n)
	case f.n == w.f.n:
		return w.sameKey(f)
	}
	if err := w.accept(f); err != nil {
		return err
	}
	pos := newPositioner()
	for i, t := range w.tags {
		// A hit stays a hit, and an indicator withdrawn cannot be listed
		// again in the epoch (Publisher.Add); the others are tested, a
		// false positive answered "no" again too (it may be listed now).
		if w.candidate[i] || (w.answer[i] != answerNone && w.answer[i] != answerNo) {
			continue
		}
		w.tested++
		if f.contains(pos, t) {
			w.mark(i, false)
		}
	}
	return nil
}

// Replace replaces the watch's filter by another filter of the same key
// and epoch that is not a later version of it: one the publisher built
// afresh under the same key (package federation calls such a filter
// another line of versions). Every kept indicator not answered a hit is
// tested against it, withdrawn ones too, and candidates from the old
// filter that it does not list are dropped.
func (w *Watch) Replace(f *Filter) error {
	if err := w.accept(f); err != nil {
		return err
	}
	pos := newPositioner()
	for i, t := range w.tags {
		if w.candidate[i] {
			w.candidate[i], w.exact[i] = false, false
			w.cands--
		}
		if w.answer[i] == answerLabel {
			continue
		}
		w.tested++
		if f.contains(pos, t) {
			w.mark(i, false)
		}
	}
	return nil
}

// sameKey checks that f is a filter of the watch's key and epoch.
func (w *Watch) sameKey(f *Filter) error {
	if err := f.hdr.check(&w.f.hdr); err != nil {
		return err
	}
	if f.epoch != w.f.epoch {
		return malformed("filter of epoch %d for a watch of epoch %d", f.epoch, w.f.epoch)
	}
	return nil
}

// accept makes f, of the watch's key and epoch and checked as NewQuerier
// checks a filter, the watch's filter.
func (w *Watch) accept(f *Filter) error {
	if err := w.sameKey(f); err != nil {
		return err
	}
	if _, err := NewQuerier(f, &w.opts); err != nil {
		return err
	}
	w.f = f
	return nil
}

// mark makes inds[i] a candidate; exact if a delta carried its seed.
func (w *Watch) mark(i int, exact bool) {
	if !w.candidate[i] {
		w.candidate[i] = true
		w.cands++
	}
	w.exact[i] = w.exact[i] || exact
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
// answered "withdrawn" (report them as visibly as hits; see
// [Query.Withdrawn]), and a *MisbehaviourError if the publisher answered
// "not an entry" about an indicator whose seed its own delta carried, or
// if, over the watch's life, its "not an entry" answers are more than the
// filter's false-positive rate explains for the indicators tested against
// new versions. Every answered indicator stops being a candidate.
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
	lies := 0
	for k, r := range resp.results {
		i := p.idx[k]
		exact := w.exact[i]
		if w.candidate[i] {
			w.candidate[i], w.exact[i] = false, false
			w.cands--
		}
		switch {
		case r.hit:
			hits = append(hits, Hit{Indicator: w.inds[i], Labels: r.labels})
			w.answer[i] = answerLabel
		case r.withdrawn:
			withdrawn = append(withdrawn, w.inds[i])
			w.answer[i] = answerWithdrawn
		default:
			w.answer[i] = answerNo
			if exact {
				lies++
			} else {
				w.noes++
			}
		}
	}
	fpr := p.f.EstimatedFalsePositiveRate()
	if lies > 0 {
		return hits, withdrawn, &MisbehaviourError{Queried: len(p.idx), Candidates: len(p.idx), Hits: len(p.idx) - lies,
			FalsePositiveRate: 0, Expected: 0, Bound: 0}
	}
	return hits, withdrawn, CheckConfirmations(max(w.tested, w.noes), w.noes, 0, fpr)
}
