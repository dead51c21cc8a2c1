package federation

import (
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// A schedule is which epochs a node serves: the current one and, after a
// rotation, the previous one until graceUntil. It is what node.state
// holds. Its methods are pure: what is due at a time, and what the
// schedule becomes after a rotation or once the previous epoch is
// dropped, are functions of values, with no clock and no files.
type schedule struct {
	current, previous epochRef  // number 0: none
	graceUntil        time.Time // the previous epoch serves until then
}

// An epochRef names an epoch and when it started. Epochs are numbered
// from 1; number 0 is no epoch.
type epochRef struct {
	number uint64
	start  time.Time
}

// duties are what is due at a time.
type duties struct {
	drop   uint64    // the previous epoch, whose grace period is over: destroy its key (0: none)
	rotate bool      // the current epoch has lasted its length: start the next one
	next   time.Time // when something is next due (zero before the first publication)
}

// due says what is due at t for epochs of length: the previous epoch is
// dropped once t reaches graceUntil, the current one rotated once it has
// lasted length. next is the earlier of the two, which is not after t
// when something is due.
func (s schedule) due(t time.Time, length time.Duration) duties {
	var d duties
	if s.current.number != 0 {
		d.next = s.current.start.Add(length)
		d.rotate = !t.Before(d.next)
	}
	if s.previous.number != 0 {
		d.drop = s.previous.number
		if t.Before(s.graceUntil) {
			d.drop = 0
		}
		if d.next.IsZero() || s.graceUntil.Before(d.next) {
			d.next = s.graceUntil
		}
	}
	return d
}

// rotated is the schedule after a rotation at t: the next epoch starts,
// the current one serves for grace more, and the previous one, if any,
// is no longer served (its key is to be destroyed). The next epoch is
// numbered after the current one and after last, the highest epoch the
// node ever started (epochs retired at start leave the schedule but not
// the numbering: partners refuse a filter of an older epoch than one they
// have seen). The first rotation is the first publication: with no
// epoch before, epoch 1, with no previous epoch.
func (s schedule) rotated(t time.Time, grace time.Duration, last uint64) schedule {
	next := schedule{current: epochRef{max(s.current.number, last) + 1, t}}
	if s.current.number != 0 {
		next.previous, next.graceUntil = s.current, t.Add(grace)
	}
	return next
}

// dropped is the schedule once the previous epoch is no longer served.
func (s schedule) dropped() schedule {
	return schedule{current: s.current}
}

// previousServes reports whether the previous epoch still serves at t.
func (s schedule) previousServes(t time.Time) bool {
	return s.previous.number != 0 && t.Before(s.graceUntil)
}

// live reports whether epoch is one the schedule serves, so that its
// files and budgets are kept.
func (s schedule) live(epoch uint64) bool {
	return epoch != 0 && (epoch == s.current.number || epoch == s.previous.number)
}

// The file names of the state, and of each epoch's key and publisher.
const nodeStateFile = "node.state"

func keyFile(n uint64) string { return fmt.Sprintf("epoch-%d.key", n) }
func pubFile(n uint64) string { return fmt.Sprintf("epoch-%d.pub", n) }

// encodeNodeState encodes node.state: the node's ID and its schedule.
//
//	idLen:u8 id (present:u8 [number:u64 start:i64])×2 graceUntil:i64
//
// Times are Unix nanoseconds; present is 0 for no epoch, 1 for one. A
// schedule without a previous epoch has a zero graceUntil, which encodes
// as the Unix nanoseconds of the zero time.Time.
func encodeNodeState(id string, s schedule) []byte {
	b := []byte{byte(len(id))}
	b = append(b, id...)
	for _, e := range []epochRef{s.current, s.previous} {
		if e.number == 0 {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.BigEndian.AppendUint64(b, e.number)
		b = binary.BigEndian.AppendUint64(b, uint64(e.start.UnixNano()))
	}
	return binary.BigEndian.AppendUint64(b, uint64(s.graceUntil.UnixNano()))
}

func decodeNodeState(data []byte) (id string, s schedule, err error) {
	corrupt := func(what string) (string, schedule, error) {
		return "", schedule{}, fmt.Errorf("%w: node.state%s", ErrCorruptState, what)
	}
	str := cryptobyte.String(data)
	var idb cryptobyte.String
	if !str.ReadUint8LengthPrefixed(&idb) {
		return corrupt("")
	}
	for _, dst := range []*epochRef{&s.current, &s.previous} {
		var present uint8
		if !str.ReadUint8(&present) || present > 1 {
			return corrupt("")
		}
		if present == 0 {
			continue
		}
		var start uint64
		if !str.ReadUint64(&dst.number) || !str.ReadUint64(&start) || dst.number == 0 {
			return corrupt("")
		}
		dst.start = time.Unix(0, int64(start))
	}
	var grace uint64
	if !str.ReadUint64(&grace) || !str.Empty() {
		return corrupt("")
	}
	s.graceUntil = time.Unix(0, int64(grace))
	if s.previous.number != 0 && s.previous.number >= s.current.number {
		return corrupt(": inconsistent epochs")
	}
	return string(idb), s, nil
}
