package match

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"
)

func statePublisher(t testing.TB, n int) (*PrivateKey, *Publisher) {
	key := testKey(t, SuiteRistretto255, 11)
	es := entriesOf(synthetic(t, 0, n), func(i int) string {
		if i%3 == 0 {
			return fmt.Sprint("label ", i)
		}
		return ""
	})
	for i := range es {
		if i%5 == 0 {
			es[i].Ref = fmt.Sprint("ref-", i)
		}
	}
	es = append(es, es[7]) // a duplicate
	p := mustPublish(t, key, es, &PublishOptions{Epoch: 9, NotBefore: time.Unix(1000, 0), NotAfter: time.Unix(2000, 0)})
	return key, p
}

func TestPublisherStateRoundTrip(t *testing.T) {
	key, p := statePublisher(t, 300)
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	q, err := RestorePublisher(key, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	f1, _ := p.Filter().MarshalBinary()
	f2, _ := q.Filter().MarshalBinary()
	if !bytes.Equal(f1, f2) || q.Entries() != p.Entries() {
		t.Fatal("restored filter differs")
	}
	if b2, _ := q.MarshalBinary(); !bytes.Equal(b, b2) {
		t.Fatal("restored state re-encodes differently")
	}
	// The restored publisher answers as the original: hits, labels, refs.
	query := synthetic(t, 285, 30)
	h1, c1, _ := roundTrip(t, p, nil, query)
	h2, c2, _ := roundTrip(t, q, nil, query)
	if fmt.Sprint(h1) != fmt.Sprint(h2) || fmt.Sprint(c1) != fmt.Sprint(c2) || len(h1) != 15 {
		t.Fatalf("restored publisher answers differently:\n%v %v\n%v %v", h1, c1, h2, c2)
	}
	if c1[0].Entry != 285 || c1[0].Label != "label 285" || c1[0].Ref != "ref-285" {
		t.Fatalf("confirmed %+v", c1[0])
	}
	if _, err := RestorePublisher(testKey(t, SuiteRistretto255, 12), b, nil); !errors.Is(err, ErrWrongKey) {
		t.Errorf("another key: %v", err)
	}
	// A state is restored only in the mode the caller expects: one key
	// never serves two modes.
	v := mustPublish(t, key, entriesOf(synthetic(t, 0, 5), nil), &PublishOptions{Mode: ModeVOPRF})
	vb, _ := v.MarshalBinary()
	if _, err := RestorePublisher(key, vb, nil); !errors.Is(err, ErrWrongMode) {
		t.Errorf("VOPRF state restored as POPRF: %v", err)
	}
	if r, err := RestorePublisher(key, vb, &PublishOptions{Mode: ModeVOPRF}); err != nil || r.Filter().Mode() != ModeVOPRF {
		t.Errorf("VOPRF state restored as VOPRF: %v", err)
	}
}

func TestPublisherStateCorrupt(t *testing.T) {
	key, p := statePublisher(t, 30)
	b, _ := p.MarshalBinary()
	for n := range len(b) {
		if _, err := RestorePublisher(key, b[:n], &PublishOptions{Workers: 1}); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d of %d: %v", n, len(b), err)
		}
	}
	if _, err := RestorePublisher(key, append(bytes.Clone(b), 0), &PublishOptions{Workers: 1}); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}
	for i := range 8 * len(b) {
		c := bytes.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		q, err := RestorePublisher(key, c, &PublishOptions{Workers: 1})
		if err != nil {
			continue
		}
		// Accepted flips are in data (a tag, a label byte) and re-encode
		// to what was given.
		if out, _ := q.MarshalBinary(); !bytes.Equal(out, c) {
			t.Fatalf("bit %d: accepted, re-encodes differently", i)
		}
	}
	// Counts above the limits, and orders broken.
	off := msgHeaderLen
	for _, c := range []struct {
		name string
		edit func([]byte)
		want error
	}{
		{"entries", func(b []byte) { binary.BigEndian.PutUint64(b[off:], MaxEntries+1) }, ErrOversized},
		{"m", func(b []byte) { binary.BigEndian.PutUint64(b[off+32:], MaxFilterBits+1) }, ErrOversized},
		{"index count", func(b []byte) { binary.BigEndian.PutUint32(b[off+41:], 1<<31) }, ErrOversized},
		{"index order", func(b []byte) {
			e0 := bytes.Clone(b[off+45 : off+65])
			copy(b[off+45:off+65], b[off+65:off+85])
			copy(b[off+65:off+85], e0)
		}, ErrMalformed},
		{"index entry twice", func(b []byte) { copy(b[off+45:off+65], b[off+65:off+85]) }, ErrMalformed},
	} {
		x := bytes.Clone(b)
		c.edit(x)
		if _, err := RestorePublisher(key, x, &PublishOptions{Workers: 1}); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// A state in which more than MaxRepeats entries hold one indicator is
// refused, as Publish refuses to build one.
func TestPublisherStateTooManyRepeats(t *testing.T) {
	key, p := statePublisher(t, 10)
	t0 := randomTag()
	for _, n := range []int{MaxRepeats, MaxRepeats + 1} {
		idx := make([]indexEntry, n)
		for i := range idx {
			idx[i] = indexEntry{tag: t0, entry: uint32(i)}
		}
		q := &Publisher{key: key, hdr: p.hdr, st: &pubState{filter: p.st.filter, index: idx, entries: n, capacity: p.st.filter.Len()}}
		b, err := q.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		r, err := RestorePublisher(key, b, nil)
		switch {
		case n <= MaxRepeats && (err != nil || r.Filter().Len() != 1):
			t.Errorf("%d entries of one indicator: %v", n, err)
		case n > MaxRepeats && !errors.Is(err, ErrMalformed):
			t.Errorf("%d entries of one indicator: %v", n, err)
		}
	}
}

func FuzzPublisherState(f *testing.F) {
	key, p := statePublisher(f, 30)
	b, _ := p.MarshalBinary()
	f.Add(b)
	empty := mustPublish(f, key, nil, nil)
	e, _ := empty.MarshalBinary()
	f.Add(e)
	// A 0x0C state: room, two versions, a removal.
	v := mustPublish(f, key, entriesOf(synthetic(f, 0, 6), nil), &PublishOptions{Capacity: 12})
	v.Add(entriesOf(synthetic(f, 6, 2), nil))
	v.Add(entriesOf(synthetic(f, 8, 1), nil))
	v.Remove(1)
	vb, _ := v.MarshalBinary()
	f.Add(vb)
	// A 0x0F state: padding, a version of padding alone, a removal.
	_, pb := paddedState(f, key)
	f.Add(pb)
	if _, err := RestorePublisher(key, pb, nil); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := RestorePublisher(key, data, &PublishOptions{Workers: 1})
		if err != nil {
			return
		}
		checkReencode(t, data, q)
	})
}

// TestPublisherStateLabelFarAway restores a state that declares the
// largest entry count and labels only its last entry: the labels must cost
// what they hold, not the entry number (a fuzz find: the dense label table
// once allocated 64 GiB here).
func TestPublisherStateLabelFarAway(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 11)
	es := entriesOf(synthetic(t, 0, 3), nil)
	es[2].Label = "last"
	b, err := mustPublish(t, key, es, nil).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// The state ends: label count 1, entry 2, length, "last", ref count 0.
	at := len(b) - 4 - len("last") - 2 - 4
	if binary.BigEndian.Uint32(b[at:]) != 2 {
		t.Fatalf("layout: entry %d at the label", binary.BigEndian.Uint32(b[at:]))
	}
	binary.BigEndian.PutUint64(b[msgHeaderLen:], MaxEntries)
	binary.BigEndian.PutUint32(b[at:], MaxEntries-1)
	var q *Publisher
	allocated := bytesAllocated(func() { q, err = RestorePublisher(key, b, &PublishOptions{Workers: 1}) })
	if err != nil {
		t.Fatal(err)
	}
	if allocated > 1<<16 {
		t.Errorf("restoring a %d-byte state allocated %d bytes", len(b), allocated)
	}
	if q.Entries() != MaxEntries || q.st.labels.get(MaxEntries-1) != "last" || q.st.labels.get(2) != "" {
		t.Errorf("restored %d entries, labels %q %q", q.Entries(), q.st.labels.get(MaxEntries-1), q.st.labels.get(2))
	}
	checkReencode(t, b, q)
}
