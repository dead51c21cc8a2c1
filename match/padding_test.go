package match

import (
	"bytes"
	"crypto/sha3"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// padReader is a deterministic padding source, for known answers.
func padReader(seed string) io.Reader {
	h := sha3.NewSHAKE128()
	h.Write([]byte(seed))
	return h
}

// A padded version grows the filter by exactly its size, whatever the
// number of new indicators in it; its delta lists size seeds, the real
// ones among them; the padding confirms nothing.
func TestAddPadded(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	all := entriesOf(synthetic(t, 0, 60), func(i int) string { return fmt.Sprint("case ", i) })
	p := mustPublish(t, key, all[:20], &PublishOptions{Padding: 40})
	if p.Capacity() != 60 {
		t.Fatalf("capacity %d for 20 indicators and padding 40", p.Capacity())
	}
	for _, c := range []struct {
		entries []Entry
		fresh   int
	}{
		{all[20:23], 3}, // three new
		{nil, 0},        // padding alone
		{all[0:2], 0},   // only indicators held: labels join, padding alone
		{all[23:31], 8}, // a full version, no padding
	} {
		v0 := p.Filter()
		added, err := p.AddPadded(c.entries, 8, 1)
		if err != nil || added != c.fresh {
			t.Fatalf("AddPadded(%d entries) = %d, %v; want %d", len(c.entries), added, err, c.fresh)
		}
		if got := p.Filter().Version() - v0.Version(); got != 8 {
			t.Fatalf("%d new indicators: version grew by %d, want 8", c.fresh, got)
		}
		d, err := p.Delta(v0.Version())
		if err != nil || d.Len() != 8 {
			t.Fatalf("delta of a padded version: %v, %v", d, err)
		}
		g, err := v0.Apply(d, nil)
		if err != nil || !bytes.Equal(encodeFilter(t, g), encodeFilter(t, p.Filter())) {
			t.Fatalf("the older version and the delta do not make the newer: %v", err)
		}
		// The delta's seeds that are not the new indicators' are padding:
		// as confirm tags they are not entries.
		real := map[seed]bool{}
		for _, tg := range p.st.added[len(p.st.added)-c.fresh:] {
			real[deriveSeed(tg)] = true
		}
		req := &ConfirmRequest{hdr: p.hdr}
		for _, s := range d.seeds {
			if !real[s] {
				req.tags = append(req.tags, s[:]...)
			}
		}
		if req.Len() != 8-c.fresh {
			t.Fatalf("%d padding seeds in the delta, want %d", req.Len(), 8-c.fresh)
		}
		if req.Len() > 0 {
			resp, confirmed, err := p.Confirm(req)
			if err != nil || len(confirmed) != 0 || slices.ContainsFunc(resp.results, func(r confirmResult) bool { return r.hit || r.withdrawn }) {
				t.Fatalf("padding confirmed: %v, %v", confirmed, err)
			}
		}
	}
	if p.Filter().Version() != 52 || p.Entries() != 33 || len(p.st.pad) != 5+8+8 {
		t.Fatalf("version %d, %d entries, %d padding", p.Filter().Version(), p.Entries(), len(p.st.pad))
	}
	// The new indicators are found, with their labels; the filter passes
	// a querier's checks.
	hits, _, _ := roundTrip(t, p, nil, synthetic(t, 18, 20))
	if len(hits) != 13 || oneLabel(hits[5]) != "case 23" {
		t.Fatalf("%d hits, %v", len(hits), hits)
	}
	// Padding is not in the index: the entries' index has no more tags
	// than the indicators.
	if distinctTags(p.st.index) != 31 {
		t.Errorf("%d tags in the index for 31 indicators", distinctTags(p.st.index))
	}
}

// More new indicators than a version holds are split, all or none, within
// maxVersions; beyond, the error names the counts and nothing changes.
func TestAddPaddedSplit(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	all := entriesOf(synthetic(t, 0, 60), nil)
	p := mustPublish(t, key, all[:10], &PublishOptions{Padding: 30})
	before := p.Filter()
	_, err := p.AddPadded(all[10:21], 5, 2)
	if !errors.Is(err, ErrPadding) || !strings.Contains(err.Error(), "11 new indicators need 3 versions of 5, at most 2") {
		t.Fatalf("11 indicators in 2 versions of 5: %v", err)
	}
	if p.Filter() != before || p.Entries() != 10 {
		t.Fatal("a refused AddPadded changed the publisher")
	}
	if _, err := p.AddPadded(all[10:12], 1, 1); !errors.Is(err, ErrPadding) {
		t.Errorf("2 indicators in one version of 1: %v", err)
	}
	added, err := p.AddPadded(all[10:21], 5, 3)
	if err != nil || added != 11 || p.Filter().Version() != 25 {
		t.Fatalf("11 indicators in versions of 5: %d, %v, version %d", added, err, p.Filter().Version())
	}
	for _, from := range []uint64{10, 15, 20} {
		if d, err := p.Delta(from); err != nil || d.Len() != int(25-from) {
			t.Errorf("delta from %d: %v", from, err)
		}
	}
	for _, from := range []uint64{11, 24} {
		if _, err := p.Delta(from); !errors.Is(err, ErrNoDelta) {
			t.Errorf("delta from %d, inside a version: %v", from, err)
		}
	}
	// Room: 15 left, then no room for a version of 20.
	if _, err := p.AddPadded(nil, 20, 1); !errors.Is(err, ErrCapacity) {
		t.Errorf("a version beyond capacity: %v", err)
	}
	for _, c := range [][2]int{{0, 1}, {-1, 1}, {MaxDeltaLen + 1, 1}, {5, 0}} {
		if _, err := p.AddPadded(nil, c[0], c[1]); err == nil {
			t.Errorf("AddPadded(nil, %d, %d) accepted", c[0], c[1])
		}
	}
	if _, err := Publish(key, nil, &PublishOptions{Padding: -1}); err == nil {
		t.Error("negative padding accepted")
	}
	if _, err := Publish(key, nil, &PublishOptions{Capacity: MaxEntries, Padding: 1}); err == nil {
		t.Error("padding beyond MaxEntries accepted")
	}
}

// Deltas are right from every version of a mix of additions, padded and
// not: each lists exactly the seeds inserted since, sorted, and makes the
// current filter from that version; the state keeps them across a
// restart, with the filter, byte for byte.
func TestDeltaAcrossPadding(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	all := entriesOf(synthetic(t, 0, 80), nil)
	p := mustPublish(t, key, all[:10], &PublishOptions{Capacity: 30, Padding: 40})
	rnd := padReader("delta across padding")
	filters := []*Filter{p.Filter()}
	var inserted [][]seed // per version
	step := func(f func() error) {
		t.Helper()
		v0 := p.Filter().Version()
		nt, np := len(p.st.added), len(p.st.pad)
		if err := f(); err != nil {
			t.Fatal(err)
		}
		if p.Filter().Version() == v0 {
			return
		}
		var s []seed
		for _, tg := range p.st.added[nt:] {
			s = append(s, deriveSeed(tg))
		}
		inserted = append(inserted, append(s, p.st.pad[np:]...))
		filters = append(filters, p.Filter())
	}
	add := func(es []Entry) func() error { return func() error { _, err := p.Add(es); return err } }
	pad := func(es []Entry, size int) func() error {
		return func() error { _, err := p.addPadded(es, size, 1, rnd); return err }
	}
	step(add(all[10:13]))
	step(pad(nil, 4))
	step(pad(all[13:15], 4))
	step(add(all[15:16]))
	step(pad(all[16:20], 4))
	step(pad(nil, 6))
	step(add(all[20:22]))
	if len(filters) != 8 || p.Filter().Version() != 10+3+4+4+1+4+6+2 {
		t.Fatalf("%d versions, version %d", len(filters), p.Filter().Version())
	}
	check := func(p *Publisher) {
		t.Helper()
		for i, f := range filters[:len(filters)-1] {
			d, err := p.Delta(f.Version())
			if err != nil {
				t.Fatalf("delta from %d: %v", f.Version(), err)
			}
			want := slices.Concat(inserted[i:]...)
			slices.SortFunc(want, compareSeeds)
			if !slices.Equal(d.seeds, want) {
				t.Fatalf("delta from %d does not list the seeds inserted since", f.Version())
			}
			g, err := f.Apply(d, nil)
			if err != nil || !bytes.Equal(encodeFilter(t, g), encodeFilter(t, p.Filter())) {
				t.Fatalf("version %d and its delta do not make the filter: %v", f.Version(), err)
			}
		}
	}
	check(p)
	b := mustMarshal(t, p)
	if b[5] != 0x0F {
		t.Fatalf("state of type 0x%02x, want 0x0F", b[5])
	}
	r, err := RestorePublisher(key, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encodeFilter(t, r.Filter()), encodeFilter(t, p.Filter())) {
		t.Fatal("the filter rebuilt from the state differs")
	}
	checkReencode(t, b, r)
	check(r)
	// The restored publisher goes on, padded or not.
	if _, err := r.AddPadded(all[22:24], 4, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add(all[24:25]); err != nil {
		t.Fatal(err)
	}
	if r.Filter().Version() != p.Filter().Version()+5 {
		t.Errorf("restored publisher at version %d", r.Filter().Version())
	}
}

// The padding comes from the reader given, in order: AddPadded draws it
// from crypto/rand, known-answer tests from a fixed stream.
func TestPaddingKnownAnswer(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 5), nil), &PublishOptions{Padding: 8})
	if _, err := p.addPadded(entriesOf(synthetic(t, 5, 1), nil), 8, 1, padReader("known")); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 7*16)
	padReader("known").Read(want)
	var got []byte
	for _, s := range p.st.pad {
		got = append(got, s[:]...)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("padding %x, want %x", got, want)
	}
	q := mustPublish(t, key, nil, &PublishOptions{Padding: 8})
	if _, err := q.addPadded(nil, 8, 1, bytes.NewReader(make([]byte, 100))); err == nil || q.Filter().Version() != 0 {
		t.Errorf("a padding source that ends: %v, version %d", err, q.Filter().Version())
	}
	// Two draws of crypto/rand differ.
	r := mustPublish(t, key, nil, &PublishOptions{Padding: 8})
	r.AddPadded(nil, 4, 1)
	r.AddPadded(nil, 4, 1)
	if d, err := r.Delta(0); err != nil || d.Len() != 8 {
		t.Fatalf("delta %v, %v", d, err)
	}
}

// paddedState is the 0x0F state of a publisher with versions, padding and
// a removal: 10 entries, 2 added unpadded, 3 in a padded version of 4,
// one version of padding alone.
func paddedState(t testing.TB, key *PrivateKey) (*Publisher, []byte) {
	all := entriesOf(synthetic(t, 0, 20), func(i int) string { return fmt.Sprint("case ", i) })
	p := mustPublish(t, key, all[:10], &PublishOptions{Padding: 12})
	if _, err := p.Add(all[10:12]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.addPadded(all[12:15], 4, 1, padReader("state")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.addPadded(nil, 4, 1, padReader("state 2")); err != nil {
		t.Fatal(err)
	}
	p.Remove(3)
	return p, mustMarshal(t, p)
}

// A state with padding refuses every cut, trailing bytes, repeated
// padding, padding that is a tag's seed, versions that add nothing or do
// not end at the padding, and counts above the capacity; a flip it
// accepts re-encodes to what was given.
func TestPublisherStatePadding(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	p, b := paddedState(t, key)
	opts := &PublishOptions{Workers: 1}
	for n := range len(b) {
		if _, err := RestorePublisher(key, b[:n], opts); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d of %d: %v", n, len(b), err)
		}
	}
	if _, err := RestorePublisher(key, append(bytes.Clone(b), 0), opts); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}
	// The trailer ends: padding count, 5 seeds, 3 padding ends (0, 1, 5).
	const versions, padding = 3, 5
	ends := len(b) - 4*versions
	seeds := ends - 16*padding
	count := seeds - 4
	if be32(b[count:]) != padding || be32(b[ends:]) != 0 || be32(b[ends+4:]) != 1 || be32(b[ends+8:]) != 5 {
		t.Fatalf("layout: padding count %d, ends %d %d %d", be32(b[count:]), be32(b[ends:]), be32(b[ends+4:]), be32(b[ends+8:]))
	}
	realSeed := deriveSeed(p.st.index[0].tag)
	for _, c := range []struct {
		name string
		edit func([]byte) []byte
		want error
	}{
		{"padding repeated", func(b []byte) []byte { copy(b[seeds+16:], b[seeds:seeds+16]); return b }, ErrMalformed},
		{"padding is a tag's seed", func(b []byte) []byte { copy(b[seeds+32:], realSeed[:]); return b }, ErrMalformed},
		{"padding ends decrease", func(b []byte) []byte { copy(b[ends+4:], be32b(0)); copy(b[ends:], be32b(1)); return b }, ErrMalformed},
		{"padding ends short", func(b []byte) []byte { copy(b[ends+8:], be32b(4)); return b }, ErrMalformed},
		{"padding ends beyond", func(b []byte) []byte { copy(b[ends+8:], be32b(6)); return b }, ErrMalformed},
		{"version adds nothing", func(b []byte) []byte { copy(b[ends+4:], be32b(5)); return b }, ErrMalformed}, // ends 2, 5, 5 and 0, 5, 5
		{"padding above capacity", func(b []byte) []byte { copy(b[count:], be32b(1<<20)); return b }, ErrOversized},
		{"no padding", func(b []byte) []byte {
			return append(append(b[:count:count], be32b(0)...), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		}, ErrMalformed},
		{"type 0x0C", func(b []byte) []byte { b[5] = 0x0C; return b }, ErrMalformed},
	} {
		x := c.edit(bytes.Clone(b))
		if _, err := RestorePublisher(key, x, opts); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	for i := range 8 * len(b) {
		c := bytes.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		q, err := RestorePublisher(key, c, opts)
		if err != nil {
			continue
		}
		if out, _ := q.MarshalBinary(); !bytes.Equal(out, c) {
			t.Fatalf("bit %d: accepted, re-encodes differently", i)
		}
	}
	// A padding-only publisher with nothing else in its trailer is still
	// 0x0F, and restores.
	e := mustPublish(t, key, nil, &PublishOptions{Padding: 4})
	e.AddPadded(nil, 4, 1)
	eb := mustMarshal(t, e)
	if r, err := RestorePublisher(key, eb, nil); err != nil || eb[5] != 0x0F || r.Filter().Version() != 4 {
		t.Errorf("padding alone: %v", err)
	}
}

func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

func be32b(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// A querier's Watch applies padded versions: the padding makes no
// candidate, a new indicator it holds does.
func TestWatchPadded(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 20), nil), &PublishOptions{Padding: 64})
	mine := synthetic(t, 15, 20) // 15..19 listed, 20..34 not yet
	w, _, _ := watchOf(t, p, nil, mine)
	for _, es := range [][]Entry{nil, entriesOf(synthetic(t, 20, 1), nil), nil} {
		from := p.Filter().Version()
		if _, err := p.AddPadded(es, 16, 1); err != nil {
			t.Fatal(err)
		}
		d, _ := p.Delta(from)
		if err := w.Apply(d); err != nil {
			t.Fatal(err)
		}
		if w.Candidates() != len(es) {
			t.Fatalf("%d candidates after a padded version of %d entries", w.Candidates(), len(es))
		}
		if pend, req := w.Pending(); pend != nil {
			resp, _, _ := p.Confirm(req)
			if hits, _, err := pend.Hits(resp); err != nil || len(hits) != 1 {
				t.Fatalf("hits %v, %v", hits, err)
			}
		}
	}
}
