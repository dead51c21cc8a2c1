package match

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/fedmatch/fedmatch/match/indicator"
)

func encodeFilter(t testing.TB, f *Filter) []byte {
	t.Helper()
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Adding entries gives the filter, and the answers, that publishing them
// all at once gives, at the same capacity; the old version is unchanged.
func TestAddMatchesPublish(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	label := func(i int) string { return fmt.Sprint("case ", i) }
	all := entriesOf(synthetic(t, 0, 300), label)
	opts := &PublishOptions{Capacity: 400, Epoch: 7}
	p := mustPublish(t, key, all[:200], opts)
	v0 := p.Filter()
	enc0 := encodeFilter(t, v0)
	for _, batch := range [][]Entry{all[200:210], all[210:300]} {
		if n, err := p.Add(batch); err != nil || n != len(batch) {
			t.Fatalf("Add(%d entries) = %d, %v", len(batch), n, err)
		}
	}
	if !bytes.Equal(encodeFilter(t, v0), enc0) {
		t.Fatal("Add changed a published version")
	}
	want := mustPublish(t, key, all, opts)
	if !bytes.Equal(encodeFilter(t, p.Filter()), encodeFilter(t, want.Filter())) {
		t.Fatal("filter after Add differs from publishing the entries at once")
	}
	if p.Filter().Version() != 300 || v0.Version() != 200 || p.Entries() != 300 {
		t.Fatalf("versions %d, %d, entries %d", v0.Version(), p.Filter().Version(), p.Entries())
	}
	hits, confirmed, _ := roundTrip(t, p, nil, synthetic(t, 195, 10))
	if len(hits) != 10 || oneLabel(hits[9]) != "case 204" || confirmed[9].Entry != 204 {
		t.Fatalf("hits %v, confirmed %v", hits, confirmed)
	}
	// An entry holding an indicator already held joins it: no new
	// version, both labels released.
	if n, err := p.Add([]Entry{{Indicator: all[5].Indicator, Label: "again"}}); err != nil || n != 0 || p.Filter().Version() != 300 {
		t.Fatalf("repeated indicator: %d, %v, version %d", n, err, p.Filter().Version())
	}
	hits, _, _ = roundTrip(t, p, nil, []indicator.Indicator{all[5].Indicator})
	if len(hits) != 1 || !slices.Equal(hits[0].Labels, []string{"case 5", "again"}) {
		t.Fatalf("hits %v", hits)
	}
}

// Beyond its capacity, Add is refused and changes nothing.
func TestAddCapacity(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	inds := synthetic(t, 0, 20)
	p := mustPublish(t, key, entriesOf(inds[:8], nil), &PublishOptions{Capacity: 10})
	before := p.Filter()
	if _, err := p.Add(entriesOf(inds[8:11], nil)); !errors.Is(err, ErrCapacity) {
		t.Fatalf("3 indicators into room for 2: %v", err)
	}
	if p.Filter() != before || p.Entries() != 8 {
		t.Fatal("a refused Add changed the publisher")
	}
	if _, err := p.Add(entriesOf(inds[8:10], nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Add(entriesOf(inds[10:11], nil)); !errors.Is(err, ErrCapacity) {
		t.Fatalf("an indicator beyond capacity: %v", err)
	}
	if _, err := p.Add(entriesOf(inds[0:1], nil)); err != nil {
		t.Errorf("an indicator held, at capacity: %v", err)
	}
	// No capacity given: no room.
	q := mustPublish(t, key, entriesOf(inds[:8], nil), nil)
	if _, err := q.Add(entriesOf(inds[8:9], nil)); !errors.Is(err, ErrCapacity) {
		t.Errorf("a publisher without room: %v", err)
	}
	if _, err := Publish(key, nil, &PublishOptions{Capacity: -1}); err == nil {
		t.Error("negative capacity accepted")
	}
	if _, err := Publish(key, nil, &PublishOptions{Headroom: -0.5}); err == nil {
		t.Error("negative headroom accepted")
	}
	// Headroom: a quarter of 8 is 2; Capacity is a floor.
	if r := mustPublish(t, key, entriesOf(inds[:8], nil), &PublishOptions{Headroom: 0.25}); r.Capacity() != 10 {
		t.Errorf("capacity %d with headroom 0.25 for 8", r.Capacity())
	}
	if r := mustPublish(t, key, entriesOf(inds[:8], nil), &PublishOptions{Headroom: 0.25, Capacity: 50}); r.Capacity() != 50 {
		t.Errorf("capacity %d with headroom 0.25 and capacity 50", r.Capacity())
	}
	// The filter sized for its capacity keeps the rate at capacity.
	if fpr := p.Filter().EstimatedFalsePositiveRate(); fpr > 2*DefaultFalsePositiveRate {
		t.Errorf("rate %g at capacity", fpr)
	}
}

// Bad entries and too many repeats are refused by Add without change.
func TestAddRefusals(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	inds := synthetic(t, 0, 5)
	p := mustPublish(t, key, entriesOf(inds, nil), &PublishOptions{Capacity: 100})
	for name, es := range map[string][]Entry{
		"zero indicator": {{}},
		"bad label":      {{Indicator: inds[0], Label: "a\nb"}},
		"bad reference":  {{Indicator: inds[0], Ref: "\x00"}},
	} {
		if _, err := p.Add(es); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	var rep []Entry
	for range MaxRepeats {
		rep = append(rep, Entry{Indicator: inds[1]})
	}
	if _, err := p.Add(rep); err == nil || !bytes.Contains([]byte(err.Error()), []byte("merge their labels")) {
		t.Errorf("%d more entries of a held indicator: %v", MaxRepeats, err)
	}
	if p.Entries() != 5 {
		t.Errorf("%d entries after refusals", p.Entries())
	}
	if n, err := p.Add(nil); n != 0 || err != nil {
		t.Errorf("Add(nil) = %d, %v", n, err)
	}
}

// A delta takes a querier's filter from its version to the publisher's
// current one, byte for byte, in 16 bytes per added indicator.
func TestDelta(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	all := entriesOf(synthetic(t, 0, 1100), nil)
	p := mustPublish(t, key, all[:1000], &PublishOptions{Capacity: 2000, Epoch: 3})
	v0 := p.Filter()
	p.Add(all[1000:1010])
	v1 := p.Filter()
	p.Add(all[1010:1100])
	for _, from := range []*Filter{v0, v1} {
		d, err := p.Delta(from.Version())
		if err != nil {
			t.Fatal(err)
		}
		var d2 Delta
		b := reencode(t, d, &d2)
		if len(b) != deltaFixedLen+16*int(p.Filter().Version()-from.Version()) || len(b) != d.Size() {
			t.Errorf("delta of %d indicators: %d bytes", d.Len(), len(b))
		}
		g, err := from.Apply(&d2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(encodeFilter(t, g), encodeFilter(t, p.Filter())) {
			t.Fatalf("filter from version %d plus its delta differs from the current one", from.Version())
		}
		// Replayed: the delta no longer starts at the filter's version.
		if _, err := g.Apply(&d2, nil); !errors.Is(err, ErrStaleDelta) {
			t.Errorf("replayed delta: %v", err)
		}
	}
	// Ten additions: well under 2 KiB with a 64-byte signature.
	q := mustPublish(t, key, all[:1000], &PublishOptions{Capacity: 2000, Epoch: 3})
	q.Add(all[1000:1010])
	if d, err := q.Delta(1000); err != nil || d.Size()+64 > 2048 {
		t.Errorf("delta of 10 additions: %d bytes, %v", d.Size(), err)
	}
	for _, from := range []uint64{999, 1005, 1100, 5000} {
		if _, err := p.Delta(from); !errors.Is(err, ErrNoDelta) {
			t.Errorf("delta from %d: %v", from, err)
		}
	}
	// Another key, epoch or size is refused.
	d, _ := p.Delta(1000)
	other := mustPublish(t, testKey(t, SuiteRistretto255, 4), all[:1000], &PublishOptions{Capacity: 2000, Epoch: 3})
	if _, err := other.Filter().Apply(d, nil); !errors.Is(err, ErrWrongKey) {
		t.Errorf("delta of another key: %v", err)
	}
	e := *d
	e.epoch++
	if _, err := v0.Apply(&e, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("delta of another epoch: %v", err)
	}
	e = *d
	e.m++
	if _, err := v0.Apply(&e, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("delta of another size: %v", err)
	}
	// A delta cannot take the filter above the querier's maxima.
	if _, err := v0.Apply(d, &QuerierOptions{MaxEntries: 1050}); !errors.Is(err, ErrUnsafeFilter) {
		t.Errorf("delta beyond MaxEntries: %v", err)
	}
}

// A delta's decoder refuses every cut, trailing bytes, unsorted or
// repeated tags and oversized counts before allocating.
func TestDeltaDecode(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	all := entriesOf(synthetic(t, 0, 40), nil)
	p := mustPublish(t, key, all[:30], &PublishOptions{Capacity: 50})
	p.Add(all[30:])
	d, _ := p.Delta(30)
	b, _ := d.MarshalBinary()
	var x Delta
	for n := range len(b) {
		if err := x.UnmarshalBinary(b[:n]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d of %d: %v", n, len(b), err)
		}
	}
	if err := x.UnmarshalBinary(append(bytes.Clone(b), 0)); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}
	tags := len(b) - 10*tagSize
	swapped := bytes.Clone(b)
	copy(swapped[tags:], b[tags+tagSize:tags+2*tagSize])
	copy(swapped[tags+tagSize:], b[tags:tags+tagSize])
	if err := x.UnmarshalBinary(swapped); !errors.Is(err, ErrMalformed) {
		t.Errorf("unsorted tags: %v", err)
	}
	big := bytes.Clone(b[:deltaFixedLen])
	// to = from + MaxDeltaLen + 1, with no tags behind it.
	copy(big[msgHeaderLen+16:], be64(30+MaxDeltaLen+1))
	if err := x.UnmarshalBinary(big); !errors.Is(err, ErrOversized) {
		t.Errorf("oversized delta: %v", err)
	}
	back := bytes.Clone(b)
	copy(back[msgHeaderLen+16:], be64(30)) // to = from
	if err := x.UnmarshalBinary(back[:deltaFixedLen]); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty delta: %v", err)
	}
}

func be64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[7-i] = byte(v >> (8 * i))
	}
	return b
}

// A removed entry is never confirmed again: an indicator whose entries
// are all removed is answered "withdrawn", which the querier reports and
// does not count as a "no"; one with an entry left is a hit with the
// labels left.
func TestRemove(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	inds := synthetic(t, 0, 50)
	es := entriesOf(inds, func(i int) string { return fmt.Sprint("case ", i) })
	es = append(es, Entry{Indicator: inds[1], Label: "other case"}) // entry 50
	p := mustPublish(t, key, es, &PublishOptions{Capacity: 100})
	// Removing more than the misbehaviour check would forgive as "no".
	if err := p.Remove(0, 1, 2, 3, 4, 5, 6, 7); err != nil {
		t.Fatal(err)
	}
	if err := p.Remove(51); err == nil {
		t.Error("removing an entry beyond the list accepted")
	}
	if err := p.Remove(-1); err == nil {
		t.Error("removing entry -1 accepted")
	}
	var f Filter
	reencode(t, p.Filter(), &f)
	q, _ := NewQuerier(&f, nil)
	qu, req, _ := q.Blind(inds[:10])
	resp, _ := p.Evaluate(req)
	creq, _ := qu.Finalize(resp)
	cresp, confirmed, err := p.Confirm(creq)
	if err != nil {
		t.Fatal(err)
	}
	var cresp2 ConfirmResponse
	reencode(t, cresp, &cresp2)
	hits, err := qu.Hits(&cresp2)
	if err != nil {
		t.Fatalf("withdrawn answers counted as misbehaviour: %v", err)
	}
	if len(hits) != 3 || hits[0].Indicator != inds[1] || oneLabel(hits[0]) != "other case" {
		t.Errorf("hits %v", hits)
	}
	if w := qu.Withdrawn(); len(w) != 7 || w[0] != inds[0] {
		t.Errorf("withdrawn %v", w)
	}
	for _, c := range confirmed {
		if c.Entry < 8 {
			t.Errorf("removed entry %d confirmed", c.Entry)
		}
	}
	// Removals survive a restart, with the capacity.
	b, _ := p.MarshalBinary()
	r, err := RestorePublisher(key, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Removed() != 8 || r.Capacity() != 100 {
		t.Errorf("restored: %d removed, capacity %d", r.Removed(), r.Capacity())
	}
	if c2, _, _ := r.Confirm(creq); !bytes.Equal(mustMarshal(t, c2), mustMarshal(t, cresp)) {
		t.Error("restored publisher answers differently")
	}
}

func mustMarshal(t testing.TB, m binaryCodec) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Versions survive a restart: the restored publisher serves the same
// deltas and goes on adding.
func TestPublisherStateVersions(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	all := entriesOf(synthetic(t, 0, 60), nil)
	p := mustPublish(t, key, all[:40], &PublishOptions{Capacity: 70})
	p.Add(all[40:45])
	p.Add(all[45:50])
	b, _ := p.MarshalBinary()
	r, err := RestorePublisher(key, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := r.MarshalBinary(); !bytes.Equal(out, b) {
		t.Fatal("restored state re-encodes differently")
	}
	for _, from := range []uint64{40, 45} {
		d1, _ := p.Delta(from)
		d2, err := r.Delta(from)
		if err != nil || !bytes.Equal(mustMarshal(t, d1), mustMarshal(t, d2)) {
			t.Errorf("delta from %d after restore: %v", from, err)
		}
	}
	if _, err := r.Add(all[50:60]); err != nil {
		t.Fatal(err)
	}
	want := mustPublish(t, key, all, &PublishOptions{Capacity: 70})
	if !bytes.Equal(encodeFilter(t, r.Filter()), encodeFilter(t, want.Filter())) {
		t.Error("restored publisher's additions differ")
	}
	for n := range len(b) {
		if _, err := RestorePublisher(key, b[:n], nil); err == nil {
			t.Fatalf("state cut at %d of %d restored", n, len(b))
		}
	}
}

// A Watch finds a hit that a publisher's addition makes, on a delta or on
// the whole new filter, without evaluating the querier's indicators
// again; only indicators new to the querier are evaluated.
func TestWatch(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	pub := synthetic(t, 0, 500)
	p := mustPublish(t, key, entriesOf(pub[:400], func(i int) string { return fmt.Sprint("case ", i) }), &PublishOptions{Capacity: 600})
	var evaluated int
	evaluate := func(req *EvalRequest) *EvalResponse {
		evaluated += req.Len()
		resp, err := p.Evaluate(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	f0 := p.Filter()
	q, err := NewQuerier(f0, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWatch(q)
	mine := append(synthetic(t, 395, 10), synthetic(t, 10000, 90)...) // 395..404: 5 held now, 5 later
	qu, req, _ := q.Blind(w.Missing(mine))
	creq, _ := qu.Finalize(evaluate(req))
	cresp, _, _ := p.Confirm(creq)
	hits, _ := qu.Hits(cresp)
	if err := w.Keep(qu); err != nil {
		t.Fatal(err)
	}
	if len(hits) != 5 || w.Len() != 100 || w.Candidates() != 0 || evaluated != 100 {
		t.Fatalf("%d hits, %d kept, %d candidates, %d evaluated", len(hits), w.Len(), w.Candidates(), evaluated)
	}
	if pend, req := w.Pending(); pend != nil || req != nil {
		t.Fatal("pending confirmations with no candidate")
	}
	// The publisher adds 400..499; the querier holds 400..404.
	p.Add(entriesOf(pub[400:500], func(i int) string { return fmt.Sprint("case ", 400+i) }))
	d, _ := p.Delta(f0.Version())
	if err := w.Apply(d); err != nil {
		t.Fatal(err)
	}
	if err := w.Apply(d); !errors.Is(err, ErrStaleDelta) {
		t.Errorf("delta applied twice: %v", err)
	}
	pend, creq2 := w.Pending()
	if pend == nil || creq2.Len() != 5 {
		t.Fatalf("candidates after the delta: %v", creq2)
	}
	cresp2, _, _ := p.Confirm(creq2)
	newHits, withdrawn, err := pend.Hits(cresp2)
	if err != nil || len(newHits) != 5 || len(withdrawn) != 0 || oneLabel(newHits[0]) != "case 400" {
		t.Fatalf("new hits %v, %v", newHits, err)
	}
	if evaluated != 100 || w.Candidates() != 0 {
		t.Fatalf("%d evaluated after the delta, %d candidates left", evaluated, w.Candidates())
	}
	// New indicators of the querier's: only they are evaluated, against
	// the watch's current version.
	more := append(mine, pub[450], synthetic(t, 20000, 1)[0])
	missing := w.Missing(more)
	if len(missing) != 2 {
		t.Fatalf("missing %v", missing)
	}
	q2, _ := w.Querier()
	qu2, req2, _ := q2.Blind(missing)
	creq3, _ := qu2.Finalize(evaluate(req2))
	cresp3, _, _ := p.Confirm(creq3)
	if h, _ := qu2.Hits(cresp3); len(h) != 1 || evaluated != 102 {
		t.Fatalf("hits %v, %d evaluated", h, evaluated)
	}
	w.Keep(qu2)

	// A second watch, offline for both versions, catches up on the whole
	// filter; an older version is refused.
	w2 := NewWatch(q)
	w2.Keep(qu)
	if err := w2.Update(p.Filter()); err != nil {
		t.Fatal(err)
	}
	if w2.Candidates() != 5 {
		t.Errorf("%d candidates after catching up", w2.Candidates())
	}
	if err := w2.Update(f0); !errors.Is(err, ErrStaleDelta) {
		t.Errorf("rollback to an older version: %v", err)
	}
	// A confirmation that fails leaves the candidates for the next.
	pend2, _ := w2.Pending()
	if _, _, err := pend2.Hits(&ConfirmResponse{hdr: cresp2.hdr}); !errors.Is(err, ErrResponseMismatch) || w2.Candidates() != 5 {
		t.Errorf("a mismatched answer: %v, %d candidates", err, w2.Candidates())
	}
}

func FuzzDelta(f *testing.F) {
	key := testKey(f, SuiteRistretto255, 3)
	all := entriesOf(synthetic(f, 0, 12), nil)
	p := mustPublish(f, key, all[:10], &PublishOptions{Capacity: 20})
	p.Add(all[10:])
	d, _ := p.Delta(10)
	b, _ := d.MarshalBinary()
	f.Add(b)
	f.Add(b[:deltaFixedLen])
	f.Fuzz(func(t *testing.T, in []byte) {
		var d Delta
		if err := d.UnmarshalBinary(in); err != nil {
			return
		}
		checkReencode(t, in, &d)
		p.Filter().Apply(&d, nil) // must not panic
	})
}

// Add, Remove, Confirm, Delta, Filter and MarshalBinary may run
// concurrently (run with -race).
func TestAddConcurrent(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	all := entriesOf(synthetic(t, 0, 400), nil)
	p := mustPublish(t, key, all[:100], &PublishOptions{Capacity: 400})
	f0 := p.Filter()
	q, _ := NewQuerier(f0, nil)
	qu, req, _ := q.Blind(synthetic(t, 50, 100))
	resp, _ := p.Evaluate(req)
	creq, _ := qu.Finalize(resp)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 100; i < 400; i += 30 {
			if _, err := p.Add(all[i : i+30]); err != nil {
				t.Error(err)
				return
			}
			p.Remove(i)
		}
	}()
	for range 50 {
		if _, _, err := p.Confirm(creq); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Delta(f0.Version()); err != nil && !errors.Is(err, ErrNoDelta) {
			t.Fatal(err)
		}
		p.MarshalBinary()
		_ = fmt.Sprint(p)
		p.Filter().Size()
	}
	<-done
	if p.Filter().Version() != 400 || p.Removed() != 10 {
		t.Errorf("version %d, %d removed", p.Filter().Version(), p.Removed())
	}
}

// A Watch survives a restart: filter version, kept outputs, candidates
// and answers; its decoder refuses every cut, trailing bytes and values
// that are not canonical.
func TestWatchState(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	pub := synthetic(t, 0, 60)
	p := mustPublish(t, key, entriesOf(pub[:40], nil), &PublishOptions{Capacity: 80})
	q, _ := NewQuerier(p.Filter(), nil)
	w := NewWatch(q)
	qu, req, _ := q.Blind(synthetic(t, 35, 20)) // 35..54: 5 hits now, 15 after the addition
	resp, _ := p.Evaluate(req)
	creq, _ := qu.Finalize(resp)
	cresp, _, _ := p.Confirm(creq)
	qu.Hits(cresp)
	w.Keep(qu)
	from := p.Filter().Version()
	p.Add(entriesOf(pub[40:60], nil))
	d, _ := p.Delta(from)
	w.Apply(d)
	b, err := w.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r, err := UnmarshalWatch(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := r.MarshalBinary(); !bytes.Equal(out, b) {
		t.Fatal("restored watch re-encodes differently")
	}
	if r.Len() != 20 || r.Candidates() != 15 || r.Filter().Version() != 60 || len(r.Missing(synthetic(t, 35, 21))) != 1 {
		t.Fatalf("restored: %d kept, %d candidates, version %d", r.Len(), r.Candidates(), r.Filter().Version())
	}
	pend, creq2 := r.Pending()
	cresp2, _, _ := p.Confirm(creq2)
	if hits, _, err := pend.Hits(cresp2); err != nil || len(hits) != 15 {
		t.Fatalf("hits after restore %v, %v", hits, err)
	}
	for n := range len(b) {
		if _, err := UnmarshalWatch(b[:n], nil); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d of %d: %v", n, len(b), err)
		}
	}
	if _, err := UnmarshalWatch(append(bytes.Clone(b), 0), nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}
	// The last indicator's value, upper-cased, is not canonical.
	c := bytes.Clone(b)
	last := len(c) - 1 - tagSize - len("user54@example.org")
	c[last] = 'U'
	if _, err := UnmarshalWatch(c, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("non-canonical value: %v", err)
	}
	// The querier's maxima apply to the stored filter too.
	if _, err := UnmarshalWatch(b, &QuerierOptions{MaxEntries: 50}); !errors.Is(err, ErrUnsafeFilter) {
		t.Errorf("stored filter above MaxEntries: %v", err)
	}
}

func FuzzWatchState(f *testing.F) {
	key := testKey(f, SuiteRistretto255, 3)
	p := mustPublish(f, key, entriesOf(synthetic(f, 0, 10), nil), &PublishOptions{Capacity: 20})
	q, _ := NewQuerier(p.Filter(), nil)
	w := NewWatch(q)
	qu, req, _ := q.Blind(synthetic(f, 5, 10))
	resp, _ := p.Evaluate(req)
	creq, _ := qu.Finalize(resp)
	cresp, _, _ := p.Confirm(creq)
	qu.Hits(cresp)
	if err := w.Keep(qu); err != nil {
		f.Fatal(err)
	}
	b, _ := w.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		w, err := UnmarshalWatch(in, nil)
		if err != nil {
			return
		}
		checkReencode(t, in, w)
	})
}

// watchOf runs a whole query of inds on p's current filter, reads its
// answers and keeps it in a new Watch.
func watchOf(t *testing.T, p *Publisher, qopts *QuerierOptions, inds []indicator.Indicator) (*Watch, *Query, *ConfirmResponse) {
	t.Helper()
	q, err := NewQuerier(p.Filter(), qopts)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWatch(q)
	qu, req, err := q.Blind(inds)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	creq, err := qu.Finalize(resp)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Keep(qu); err == nil && creq.Len() > 0 {
		t.Fatal("Keep before Hits accepted")
	}
	cresp, _, err := p.Confirm(creq)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := qu.Hits(cresp); err != nil {
		t.Fatal(err)
	}
	if err := w.Keep(qu); err != nil {
		t.Fatal(err)
	}
	return w, qu, cresp
}

// An indicator whose entries were all removed cannot be listed again in
// the epoch: no version could tell the queriers answered "withdrawn".
// Regression (review): it was accepted without a new version, and a
// Watch never saw it again while a fresh query hit it.
func TestAddWithdrawnRefused(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	x := synthetic(t, 1000, 1)[0]
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 10), nil), &PublishOptions{Capacity: 100})
	p.Add([]Entry{{Indicator: x, Label: "first"}, {Indicator: x, Label: "second"}}) // entries 10, 11
	p.Remove(10)
	if _, err := p.Add([]Entry{{Indicator: x, Label: "third"}}); err != nil {
		t.Errorf("an indicator with an entry left: %v", err)
	}
	p.Remove(11, 12)
	if _, err := p.Add([]Entry{{Indicator: x, Label: "back"}}); !errors.Is(err, ErrWithdrawn) {
		t.Errorf("an indicator withdrawn in the epoch added again: %v", err)
	}
}

// A Bloom false positive answered "no" and later listed is a candidate
// again when the delta carries its tag. Regression (review): a watch
// never asked again about an indicator once answered.
func TestWatchFalsePositiveLaterListed(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 30), nil), &PublishOptions{Capacity: 40, FalsePositiveRate: 0.3})
	mine := synthetic(t, 5000, 300)
	qopts := &QuerierOptions{MaxFalsePositiveRate: 0.5}
	w, qu, cresp := watchOf(t, p, qopts, mine)
	var fps []indicator.Indicator
	for i, r := range cresp.results {
		if !r.hit {
			fps = append(fps, mine[qu.cands[i]])
		}
	}
	if len(fps) < 2 {
		t.Fatalf("%d false positives at rate 0.3 among 300", len(fps))
	}
	w2, _, _ := watchOf(t, p, qopts, mine)
	from := p.Filter().Version()
	p.Add([]Entry{{Indicator: fps[0], Label: "now listed"}})
	d, _ := p.Delta(from)
	if err := w.Apply(d); err != nil {
		t.Fatal(err)
	}
	pend, req := w.Pending()
	if pend == nil || req.Len() != 1 {
		t.Fatalf("candidates after a delta listing a former false positive: %v", req)
	}
	resp, _, _ := p.Confirm(req)
	if hits, _, err := pend.Hits(resp); err != nil || len(hits) != 1 || hits[0].Indicator != fps[0] {
		t.Fatalf("hits %v, %v", hits, err)
	}
	// Caught up on the whole filter, the other false positives are
	// asked again, and still answered "no" without an accusation.
	if err := w2.Update(p.Filter()); err != nil {
		t.Fatal(err)
	}
	pend, req = w2.Pending()
	resp, _, _ = p.Confirm(req)
	hits, _, err := pend.Hits(resp)
	if err != nil || len(hits) != 1 || req.Len() < 2 {
		t.Fatalf("after Update: %d candidates, hits %v, %v", req.Len(), hits, err)
	}
}

// "Not an entry" about a candidate whose seed the publisher's own delta
// carried is a lie, reported at once. Regression (review): a publisher
// could add one guessed indicator per version, learn at confirm that the
// querier holds it and answer "no" within the per-confirmation allowance.
func TestWatchLieAboutDeltaCandidate(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 10), nil), &PublishOptions{Capacity: 100})
	mine := synthetic(t, 9000, 1000)
	w, _, cresp := watchOf(t, p, nil, mine)
	from := p.Filter().Version()
	p.Add([]Entry{{Indicator: mine[0]}})
	d, _ := p.Delta(from)
	w.Apply(d)
	pend, req := w.Pending()
	lie := &ConfirmResponse{hdr: cresp.hdr, results: make([]confirmResult, req.Len())}
	if _, _, err := pend.Hits(lie); !errors.Is(err, ErrMisbehaviour) {
		t.Fatalf("'not an entry' about a delta's own tag: %v", err)
	}
}

// Answers "withdrawn" are never silent: the querier reports every one.
// (A publisher that answers "withdrawn" to learn indicators it listed
// shows them to the querier as a hit would.)
func TestWithdrawnReported(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	mine := synthetic(t, 9000, 100)
	p := mustPublish(t, key, entriesOf(mine[:50], nil), nil)
	q, _ := NewQuerier(p.Filter(), nil)
	qu, req, _ := q.Blind(mine)
	resp, _ := p.Evaluate(req)
	creq, _ := qu.Finalize(resp)
	cresp, _, _ := p.Confirm(creq)
	for i := range cresp.results {
		cresp.results[i] = confirmResult{withdrawn: true}
	}
	var c2 ConfirmResponse
	reencode(t, cresp, &c2)
	hits, err := qu.Hits(&c2)
	if err != nil || len(hits) != 0 || !slices.Equal(qu.Withdrawn(), mine[:50]) {
		t.Fatalf("hits %d, err %v, withdrawn %d", len(hits), err, len(qu.Withdrawn()))
	}
}

// A filter published afresh under the same key replaces the watch's: its
// listed indicators become candidates, whatever the versions.
func TestWatchReplace(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 20), nil), &PublishOptions{Capacity: 40})
	mine := synthetic(t, 15, 10) // 15..19 listed, 20..24 not
	w, _, _ := watchOf(t, p, nil, mine)
	r := mustPublish(t, key, entriesOf(synthetic(t, 18, 5), nil), &PublishOptions{Capacity: 40}) // 18..22, version 5
	if err := w.Update(r.Filter()); !errors.Is(err, ErrStaleDelta) {
		t.Fatalf("Update to a lower version: %v", err)
	}
	if err := w.Replace(r.Filter()); err != nil {
		t.Fatal(err)
	}
	pend, req := w.Pending()
	if pend == nil || req.Len() < 3 {
		t.Fatalf("candidates after Replace: %v", req)
	}
	resp, _, _ := r.Confirm(req)
	hits, _, err := pend.Hits(resp)
	if err != nil || len(hits) != 3 {
		t.Fatalf("hits %v, %v", hits, err)
	}
	other := mustPublish(t, testKey(t, SuiteRistretto255, 4), nil, nil)
	if err := w.Replace(other.Filter()); !errors.Is(err, ErrWrongKey) {
		t.Errorf("a filter of another key: %v", err)
	}
}

// A delta must not hand a partner what confirms an entry: a partner that
// sends the delta's 16-byte values as confirm tags, without holding any
// of the indicators, gets no hit and no label.
func TestDeltaValuesDoNotConfirm(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	all := entriesOf(synthetic(t, 0, 120), func(i int) string { return fmt.Sprint("secret ", i) })
	p := mustPublish(t, key, all[:100], &PublishOptions{Capacity: 200})
	if _, err := p.Add(all[100:]); err != nil {
		t.Fatal(err)
	}
	d, err := p.Delta(100)
	if err != nil {
		t.Fatal(err)
	}
	req := &ConfirmRequest{hdr: p.hdr}
	for _, v := range d.seeds {
		req.tags = append(req.tags, v[:]...)
	}
	resp, confirmed, err := p.Confirm(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(confirmed) != 0 {
		t.Fatalf("the delta's %d values confirmed %d entries, e.g. entry %d", d.Len(), len(confirmed), confirmed[0].Entry)
	}
	for i, r := range resp.results {
		if r.hit || r.withdrawn || len(r.labels) > 0 {
			t.Fatalf("delta value %d answered %+v, want not an entry", i, r)
		}
	}
}
