package federation

import (
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// t0 is when the schedules of these tests start; L and G their epoch
// length and grace period.
var (
	t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	L  = 24 * time.Hour
	G  = time.Hour
)

func t0plus(d time.Duration) time.Time { return t0.Add(d) }

// Schedules at the stages of a node's life.
var (
	unpublished = schedule{}
	first       = schedule{current: epochRef{1, t0}}                                                              // after the first publication
	inGrace     = schedule{current: epochRef{2, t0plus(L)}, previous: epochRef{1, t0}, graceUntil: t0plus(L + G)} // after the first rotation
	longGrace   = schedule{current: epochRef{2, t0plus(L)}, previous: epochRef{1, t0}, graceUntil: t0plus(3 * L)} // a grace period longer than an epoch
)

// sameSchedule compares schedules; graceUntil means nothing without a
// previous epoch.
func sameSchedule(a, b schedule) bool {
	return a.current.number == b.current.number && a.current.start.Equal(b.current.start) &&
		a.previous.number == b.previous.number && a.previous.start.Equal(b.previous.start) &&
		(a.previous.number == 0 || a.graceUntil.Equal(b.graceUntil))
}

func TestScheduleDue(t *testing.T) {
	for _, c := range []struct {
		name string
		s    schedule
		t    time.Time
		want duties
	}{
		{"never published", unpublished, t0, duties{}},
		{"first epoch, just started", first, t0, duties{next: t0plus(L)}},
		{"first epoch, a nanosecond before its end", first, t0plus(L - 1), duties{next: t0plus(L)}},
		{"first epoch, exactly at its end", first, t0plus(L), duties{rotate: true, next: t0plus(L)}},
		{"first epoch, long overdue", first, t0plus(5 * L), duties{rotate: true, next: t0plus(L)}},
		{"in grace", inGrace, t0plus(L + G/2), duties{next: t0plus(L + G)}},
		{"a nanosecond before the grace ends", inGrace, t0plus(L + G - 1), duties{next: t0plus(L + G)}},
		{"exactly at the grace's end", inGrace, t0plus(L + G), duties{drop: 1, next: t0plus(L + G)}},
		{"grace ended while stopped", inGrace, t0plus(L + 3*G), duties{drop: 1, next: t0plus(L + G)}},
		{"grace and epoch ended while stopped", inGrace, t0plus(3 * L), duties{drop: 1, rotate: true, next: t0plus(L + G)}},
		{"grace longer than the epoch", longGrace, t0plus(2 * L), duties{rotate: true, next: t0plus(2 * L)}},
		{"grace longer than the epoch, over", longGrace, t0plus(3 * L), duties{drop: 1, rotate: true, next: t0plus(2 * L)}},
	} {
		got := c.s.due(c.t, L)
		if got.drop != c.want.drop || got.rotate != c.want.rotate || !got.next.Equal(c.want.next) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestScheduleTransitions(t *testing.T) {
	for _, c := range []struct {
		name string
		got  schedule
		want schedule
	}{
		// The first publication starts epoch 1, with nothing in grace.
		{"first publication", unpublished.rotated(t0, G, 0), first},
		{"first rotation", first.rotated(t0plus(L), G, 0), inGrace},
		// The previous epoch is no longer served: its key is destroyed.
		{"rotation in grace", inGrace.rotated(t0plus(L+G/2), G, 0),
			schedule{current: epochRef{3, t0plus(L + G/2)}, previous: epochRef{2, t0plus(L)}, graceUntil: t0plus(L + G/2 + G)}},
		{"drop", inGrace.dropped(), schedule{current: epochRef{2, t0plus(L)}}},
		{"drop, then rotate", inGrace.dropped().rotated(t0plus(2*L), G, 0),
			schedule{current: epochRef{3, t0plus(2 * L)}, previous: epochRef{2, t0plus(L)}, graceUntil: t0plus(2*L + G)}},
		{"drop without a previous epoch", first.dropped(), first},
	} {
		if !sameSchedule(c.got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, c.got, c.want)
		}
	}
}

func TestScheduleServes(t *testing.T) {
	for _, c := range []struct {
		name     string
		s        schedule
		t        time.Time
		previous bool
		live     []uint64
	}{
		{"never published", unpublished, t0, false, nil},
		{"first epoch", first, t0, false, []uint64{1}},
		{"in grace", inGrace, t0plus(L + G - 1), true, []uint64{1, 2}},
		// The key's files are kept until Maintain drops it, but it no
		// longer serves evaluations.
		{"exactly at the grace's end", inGrace, t0plus(L + G), false, []uint64{1, 2}},
	} {
		if got := c.s.previousServes(c.t); got != c.previous {
			t.Errorf("%s: previous serves: %v", c.name, got)
		}
		for e := uint64(0); e <= 3; e++ {
			want := false
			for _, l := range c.live {
				want = want || l == e
			}
			if c.s.live(e) != want {
				t.Errorf("%s: epoch %d live: %v", c.name, e, !want)
			}
		}
	}
}

// TestNodeStateVectors: node.state's payload is what it was before the
// schedule had a type of its own (vectors from that code).
func TestNodeStateVectors(t *testing.T) {
	for _, c := range []struct {
		id  string
		s   schedule
		hex string
	}{
		{"n", unpublished, "016e0000a1b203eb3d1a0000"},
		{"node-a", first, "066e6f64652d6101000000000000000118ea0da41e9d800000a1b203eb3d1a0000"},
		{"node-a", inGrace, "066e6f64652d6101000000000000000218ea5c38afec800001000000000000000118ea0da41e9d800018ea5f7ee0a52000"},
	} {
		enc := encodeNodeState(c.id, c.s)
		if got := hex.EncodeToString(enc); got != c.hex {
			t.Errorf("%s %+v: %s, want %s", c.id, c.s, got, c.hex)
		}
		id, s, err := decodeNodeState(enc)
		if err != nil || id != c.id || !sameSchedule(s, c.s) {
			t.Errorf("%s: decoded %q %+v, %v", c.hex, id, s, err)
		}
	}
}

// TestNodeStateTruncated: no proper prefix of node.state decodes, nor a
// state naming epoch 0 or a previous epoch not before the current one.
func TestNodeStateTruncated(t *testing.T) {
	enc := encodeNodeState("n", schedule{current: epochRef{2, time.Unix(5, 0)}, previous: epochRef{1, time.Unix(1, 0)}, graceUntil: time.Unix(9, 0)})
	for n := range len(enc) {
		if _, _, err := decodeNodeState(enc[:n]); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("node state cut at %d: %v", n, err)
		}
	}
	if _, got, err := decodeNodeState(enc); err != nil || got.current.number != 2 || got.previous.number != 1 {
		t.Fatalf("node state: %+v, %v", got, err)
	}
	zero := append([]byte{1, 'n', 1}, make([]byte, 8+8+1+8)...) // current: epoch 0
	if _, _, err := decodeNodeState(zero); !errors.Is(err, ErrCorruptState) {
		t.Errorf("epoch 0: %v", err)
	}
	for _, s := range []schedule{
		{current: epochRef{2, t0}, previous: epochRef{2, t0}},
		{current: epochRef{2, t0}, previous: epochRef{3, t0}},
	} {
		// Encoded by hand: encodeNodeState writes whatever it is given.
		if _, _, err := decodeNodeState(encodeNodeState("n", s)); !errors.Is(err, ErrCorruptState) {
			t.Errorf("%+v: %v", s, err)
		}
	}
}
