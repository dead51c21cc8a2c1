package match

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// journaled is a publisher, the state it was restored from and the
// changes it made since, each encoded from the mark the last one reached.
type journaled struct {
	p       *Publisher
	state   []byte
	changes [][]byte
	mark    Mark
}

func newJournaled(t testing.TB, p *Publisher) *journaled {
	return &journaled{p: p, state: mustMarshal(t, p), mark: p.Mark()}
}

// commit encodes the change since the last commit.
func (j *journaled) commit(t testing.TB) {
	t.Helper()
	b, m, err := j.p.MarshalChange(j.mark)
	if err != nil {
		t.Fatal(err)
	}
	j.changes, j.mark = append(j.changes, b), m
}

// replay restores the state and applies the changes.
func (j *journaled) replay(t testing.TB, key *PrivateKey) *Publisher {
	t.Helper()
	r, err := RestorePublisher(key, j.state, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range j.changes {
		if err := r.ApplyChange(c); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	return r
}

// sameAs fails unless r holds what p holds: the same state, filter,
// mark, and deltas from every version of the epoch.
func sameAs(t *testing.T, r, p *Publisher) {
	t.Helper()
	if !bytes.Equal(mustMarshal(t, r), mustMarshal(t, p)) {
		t.Fatal("the replayed publisher's state differs from the live one's")
	}
	if !bytes.Equal(encodeFilter(t, r.Filter()), encodeFilter(t, p.Filter())) || r.Filter().SetBits() != p.Filter().SetBits() {
		t.Fatal("the replayed filter differs")
	}
	if r.Mark() != p.Mark() {
		t.Fatalf("mark %+v after replay, %+v live", r.Mark(), p.Mark())
	}
	for v := uint64(0); v < p.Filter().Version(); v++ {
		d1, err1 := p.Delta(v)
		d2, err2 := r.Delta(v)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("delta from %d: %v live, %v replayed", v, err1, err2)
		}
		if err1 == nil && !bytes.Equal(mustMarshal(t, d1), mustMarshal(t, d2)) {
			t.Fatalf("delta from %d differs", v)
		}
	}
}

// Replaying a state and the changes made since gives the live publisher,
// whether each change is encoded alone or several at once: additions
// (new indicators, held ones, repeats), padded versions, padding alone,
// removals of old and new entries, and changes of nothing.
func TestChangeReplay(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 21)
	all := entriesOf(synthetic(t, 0, 80), func(i int) string {
		if i%2 == 0 {
			return fmt.Sprint("case ", i)
		}
		return ""
	})
	for i := range all {
		if i%3 == 0 {
			all[i].Ref = fmt.Sprint("ref-", i)
		}
	}
	steps := []struct {
		name string
		do   func(p *Publisher) error
	}{
		{"add", func(p *Publisher) error { _, err := p.Add(all[20:25]); return err }},
		{"add held and repeated", func(p *Publisher) error {
			_, err := p.Add([]Entry{all[3], all[26], all[26], {Indicator: all[4].Indicator, Label: "again"}})
			return err
		}},
		{"remove", func(p *Publisher) error { return p.Remove(1, 21, 1) }},
		{"nothing", func(p *Publisher) error { return p.Remove(1) }},
		{"padded", func(p *Publisher) error { _, err := p.addPadded(all[30:37], 4, 2, padReader("a")); return err }},
		{"padding alone", func(p *Publisher) error { _, err := p.addPadded(nil, 4, 1, padReader("b")); return err }},
		{"add after padding", func(p *Publisher) error { _, err := p.Add(all[40:42]); return err }},
		{"remove new", func(p *Publisher) error { return p.Remove(30, 0) }},
	}
	for _, together := range []bool{false, true} {
		t.Run(fmt.Sprint("together=", together), func(t *testing.T) {
			p := mustPublish(t, key, all[:20], &PublishOptions{Headroom: 1, Padding: 16})
			j := newJournaled(t, p)
			for i, st := range steps {
				if err := st.do(p); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if !together || i == len(steps)-1 || i == 2 {
					j.commit(t)
					sameAs(t, j.replay(t, key), p)
				}
			}
			if p.Removed() != 4 || p.Filter().Version() != 20+5+1+8+4+2 {
				t.Fatalf("the steps did not all happen: %d removed, version %d", p.Removed(), p.Filter().Version())
			}
			// A change encoded from a replayed publisher, applied to the
			// state, is the same.
			r := j.replay(t, key)
			whole, _, err := p.MarshalChange(newJournaled(t, mustRestore(t, key, j.state)).mark)
			if err != nil {
				t.Fatal(err)
			}
			q := mustRestore(t, key, j.state)
			if err := q.ApplyChange(whole); err != nil {
				t.Fatal(err)
			}
			sameAs(t, q, r)
		})
	}
}

func mustRestore(t testing.TB, key *PrivateKey, state []byte) *Publisher {
	t.Helper()
	r, err := RestorePublisher(key, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A change applies once, in order, to its own key's publisher; a mark
// not reached is an error.
func TestChangeStale(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 21)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 10), nil), &PublishOptions{Capacity: 20})
	j := newJournaled(t, p)
	p.Add(entriesOf(synthetic(t, 10, 2), nil))
	j.commit(t)
	p.Remove(3)
	j.commit(t)
	r := mustRestore(t, key, j.state)
	if err := r.ApplyChange(j.changes[1]); !errors.Is(err, ErrStaleChange) {
		t.Errorf("second change first: %v", err)
	}
	if err := r.ApplyChange(j.changes[0]); err != nil {
		t.Fatal(err)
	}
	if err := r.ApplyChange(j.changes[0]); !errors.Is(err, ErrStaleChange) {
		t.Errorf("first change twice: %v", err)
	}
	other := mustPublish(t, testKey(t, SuiteRistretto255, 22), entriesOf(synthetic(t, 0, 10), nil), &PublishOptions{Capacity: 20})
	if err := other.ApplyChange(j.changes[0]); !errors.Is(err, ErrWrongKey) {
		t.Errorf("another key's change: %v", err)
	}
	if _, _, err := r.MarshalChange(p.Mark()); err == nil {
		t.Error("MarshalChange from a mark the publisher has not reached")
	}
}

// changeSample is a change of every field: entries with labels and
// references, a held indicator, padding, versions and removals; the
// publisher before it (restored), and the one after.
func changeSample(t testing.TB) (key *PrivateKey, before []byte, c []byte, after *Publisher) {
	key = testKey(t, SuiteRistretto255, 23)
	all := entriesOf(synthetic(t, 0, 20), func(i int) string { return fmt.Sprint("case ", i) })
	p := mustPublish(t, key, all[:10], &PublishOptions{Padding: 8, Headroom: 1})
	j := newJournaled(t, p)
	p.Add([]Entry{all[10], {Indicator: all[2].Indicator, Ref: "r"}})
	p.addPadded(all[11:13], 4, 1, padReader("sample"))
	p.Remove(4, 11)
	j.commit(t)
	return key, j.state, j.changes[0], p
}

// Every proper prefix of a change is refused, as are trailing bytes, and
// the publisher is unchanged after each refusal.
func TestChangeTruncated(t *testing.T) {
	key, before, c, after := changeSample(t)
	r := mustRestore(t, key, before)
	for n := range len(c) {
		if err := r.ApplyChange(c[:n]); err == nil {
			t.Fatalf("a change cut to %d of %d bytes applied", n, len(c))
		}
	}
	if err := r.ApplyChange(append(bytes.Clone(c), 0)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("trailing byte: %v", err)
	}
	if !bytes.Equal(mustMarshal(t, r), before) {
		t.Fatal("a refused change changed the publisher")
	}
	if err := r.ApplyChange(c); err != nil {
		t.Fatal(err)
	}
	sameAs(t, r, after)
}

// Each field of a change is checked: a change broken in one place is
// refused, and says so without a label or a tag.
func TestChangeCorrupt(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 24)
	all := entriesOf(synthetic(t, 0, 10), nil)
	base := mustPublish(t, key, all[:4], &PublishOptions{Capacity: 8})
	state := mustMarshal(t, base)
	mark := base.Mark()
	// One entry (the tag of all[4], label "L"), one added tag.
	p := mustRestore(t, key, state)
	p.Add([]Entry{{Indicator: all[4].Indicator, Label: "L"}})
	good, _, _ := p.MarshalChange(mark)
	at := changeFixedLen + 4 // the first entry's tag
	tagOf := func(i int) []byte {
		return bytes.Clone(good[at : at+tagSize])
	}
	newTag := tagOf(0)
	// the tag of all[0], held before
	q := mustRestore(t, key, state)
	q.Add([]Entry{all[0]})
	heldChange, _, _ := q.MarshalChange(mark)
	heldTag := bytes.Clone(heldChange[at : at+tagSize])

	build := func(tags [][]byte, labels []string, added [][]byte, pad [][]byte, versions [][2]uint32, removed []uint32) []byte {
		b := bytes.Clone(good[:changeFixedLen])
		b = binary.BigEndian.AppendUint32(b, uint32(len(tags)))
		for i, tg := range tags {
			b = append(b, tg...)
			b = binary.BigEndian.AppendUint16(b, uint16(len(labels[i])))
			b = append(b, labels[i]...)
			b = binary.BigEndian.AppendUint16(b, 0)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(added)))
		for _, a := range added {
			b = append(b, a...)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(pad)))
		for _, s := range pad {
			b = append(b, s...)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(versions)))
		for _, v := range versions {
			b = binary.BigEndian.AppendUint32(b, v[0])
			b = binary.BigEndian.AppendUint32(b, v[1])
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(removed)))
		for _, e := range removed {
			b = binary.BigEndian.AppendUint32(b, e)
		}
		return b
	}
	one := [][]byte{newTag}
	v1 := [][2]uint32{{1, 0}}
	if got := build(one, []string{"L"}, one, nil, v1, nil); !bytes.Equal(got, good) {
		t.Fatal("build does not make the good change")
	}
	seedOfHeld := deriveSeed(tag(heldTag))
	for _, c := range []struct {
		name   string
		change []byte
	}{
		{"label with a control character", build(one, []string{"L\n"}, one, nil, v1, nil)},
		{"label not UTF-8", build(one, []string{"\xff"}, one, nil, v1, nil)},
		{"added tag not a new entry's", build(one, []string{"L"}, [][]byte{heldTag}, nil, v1, nil)},
		{"new tag not added", build(one, []string{"L"}, nil, nil, nil, nil)},
		{"added twice", build([][]byte{newTag, newTag}, []string{"L", ""}, [][]byte{newTag, newTag}, nil, [][2]uint32{{2, 0}}, nil)},
		{"held tag added", build([][]byte{heldTag}, []string{""}, [][]byte{heldTag}, nil, v1, nil)},
		{"version not at the total", build(one, []string{"L"}, one, nil, [][2]uint32{{0, 0}}, nil)},
		{"version missing", build(one, []string{"L"}, one, nil, nil, nil)},
		{"version adding nothing", build(one, []string{"L"}, one, nil, [][2]uint32{{1, 0}, {1, 0}}, nil)},
		{"padding without room", build(one, []string{"L"}, one, [][]byte{bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 16), bytes.Repeat([]byte{3}, 16), bytes.Repeat([]byte{4}, 16)}, [][2]uint32{{1, 4}}, nil)},
		{"padding seed repeated", build(one, []string{"L"}, one, [][]byte{bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{1}, 16)}, [][2]uint32{{1, 2}}, nil)},
		{"padding seed a tag's", build(one, []string{"L"}, one, [][]byte{seedOfHeld[:]}, [][2]uint32{{1, 1}}, nil)},
		{"removal beyond the entries", build(one, []string{"L"}, one, nil, v1, []uint32{5})},
		{"removal repeated", build(one, []string{"L"}, one, nil, v1, []uint32{2, 2})},
	} {
		r := mustRestore(t, key, state)
		err := r.ApplyChange(c.change)
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrOversized) {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if bytes.Contains([]byte(err.Error()), []byte("\n")) || bytes.Contains([]byte(err.Error()), []byte("example.org")) {
			t.Errorf("%s: the error quotes the change: %v", c.name, err)
		}
		if !bytes.Equal(mustMarshal(t, r), state) {
			t.Errorf("%s: the refused change changed the publisher", c.name)
		}
	}
	// More than MaxRepeats entries of one indicator.
	tags, labels := make([][]byte, MaxRepeats), make([]string, MaxRepeats)
	for i := range tags {
		tags[i] = heldTag
	}
	if err := mustRestore(t, key, state).ApplyChange(build(tags, labels, nil, nil, nil, nil)); !errors.Is(err, ErrMalformed) {
		t.Errorf("%d more entries of a held indicator: %v", MaxRepeats, err)
	}
	if err := mustRestore(t, key, state).ApplyChange(build(tags[:MaxRepeats-1], labels[:MaxRepeats-1], nil, nil, nil, nil)); err != nil {
		t.Errorf("%d more entries of a held indicator: %v", MaxRepeats-1, err)
	}
	// A removal of an entry removed before.
	r := mustRestore(t, key, state)
	r.Remove(1)
	m := r.Mark()
	r2 := mustRestore(t, key, mustMarshal(t, r))
	r.Remove(1, 2)
	c, _, _ := r.MarshalChange(m)
	bad := append(bytes.Clone(c[:len(c)-8]), be32b(2)...)
	bad = append(bad, be32b(1)...)
	bad = append(bad, be32b(2)...)
	if err := r2.ApplyChange(bad); !errors.Is(err, ErrMalformed) {
		t.Errorf("removal of an entry removed before: %v", err)
	}
	if err := r2.ApplyChange(c); err != nil {
		t.Errorf("the good removal: %v", err)
	}
}

// Counts above the limits are refused before anything is allocated for
// them.
func TestChangeOversized(t *testing.T) {
	key, before, c, _ := changeSample(t)
	for _, off := range []int{changeFixedLen} {
		b := bytes.Clone(c)
		binary.BigEndian.PutUint32(b[off:], 1<<32-1)
		if err := mustRestore(t, key, before).ApplyChange(b); !errors.Is(err, ErrOversized) {
			t.Errorf("count at %d above the limit: %v", off, err)
		}
	}
}

func FuzzApplyChange(f *testing.F) {
	key, before, c, _ := changeSample(f)
	f.Add(c)
	j := newJournaled(f, mustRestore(f, key, before))
	j.p.Remove(0)
	j.commit(f)
	f.Add(j.changes[0])
	j.p.Add(entriesOf(synthetic(f, 50, 1), nil))
	f.Add(j.changes[0])
	base := mustRestore(f, key, before)
	mark := base.Mark()
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := RestorePublisher(key, before, &PublishOptions{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.ApplyChange(data); err != nil {
			if !bytes.Equal(mustMarshal(t, r), before) {
				t.Fatal("a refused change changed the publisher")
			}
			return
		}
		// An accepted change is the one encoding of what it did, and
		// leaves a state that restores.
		again, _, err := r.MarshalChange(mark)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted change re-encodes differently (%v)", err)
		}
		st := mustMarshal(t, r)
		q, err := RestorePublisher(key, st, nil)
		if err != nil {
			t.Fatalf("the state after an accepted change does not restore: %v", err)
		}
		checkReencode(t, st, q)
	})
}
