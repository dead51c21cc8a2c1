package federation

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// State files share one container, so that a file from another program,
// another kind of state file, a truncated or a corrupted one is a clear
// error at load, never a silent reset:
//
//	magic "FDMS" version:u8 type:u8 length:u64 payload SHA-256(all before)
const (
	stateMagic   = "FDMS"
	stateVersion = 1
	stateHeader  = len(stateMagic) + 2 + 8
	stateTrailer = sha256.Size
	// maxStateFile bounds a state file read at load: a publisher of the
	// largest watchlist (2^32 entries at 20 bytes, plus labels) fits.
	maxStateFile = 1 << 38
)

// stateType identifies a state file. The values are on disk; do not
// reorder.
type stateType uint8

const (
	stateNode            stateType = 1 // node.state: epochs
	stateKey             stateType = 2 // epoch-N.key: an OPRF private key
	statePublisher       stateType = 3 // epoch-N.pub: a publisher's state
	stateBudgets         stateType = 4 // budgets
	stateAuditHead       stateType = 5 // audit.head of earlier versions: read, never written (audit.go)
	stateAuditCheckpoint stateType = 6 // audit.head: the signed head of the audit log, a checkpoint
	statePartners        stateType = 7 // partners.state: the last filter accepted from each partner
	stateStanding        stateType = 8 // standing-ID: a partner's standing match (a match.Watch)
	statePublisherLine   stateType = 9 // epoch-N.pub of earlier releases: genLen:u8 gen, then a publisher's state
	// epoch-N.pub: genLen:u8 gen applied:u64, then a publisher's state
	// that includes the changes of epoch-N.chg up to applied (journal.go)
	statePublisherJournal stateType = 10
	statePartnersFrom     stateType = 12 // partners.state: as statePartners, with each filter's notBefore
	stateStandingMarks    stateType = 13 // standing-ID: a standing match with its reported hits and spread
	// epoch-N.pub: as statePublisherJournal, with the epoch's count
	// filter (cardinality-only matching) after applied:
	// countLen:u64 countFilter
	statePublisherCount stateType = 14
)

func (t stateType) String() string {
	switch t {
	case stateNode:
		return "node state"
	case stateKey:
		return "key"
	case statePublisher:
		return "publisher state"
	case stateBudgets:
		return "budgets"
	case stateAuditHead:
		return "audit head"
	case stateAuditCheckpoint:
		return "audit checkpoint"
	case statePartners, statePartnersFrom:
		return "partners' filters"
	case stateStanding, stateStandingMarks:
		return "standing match"
	case statePublisherLine:
		return "publisher state and line"
	case statePublisherJournal:
		return "publisher state with a journal"
	case statePublisherCount:
		return "publisher state with a journal and a count filter"
	}
	return fmt.Sprintf("state type %d", uint8(t))
}

// ErrCorruptState reports a state file that is foreign, truncated,
// corrupted or of another version; the node refuses to start on it.
var ErrCorruptState = errors.New("federation: corrupt state file")

// ErrStateInUse reports a state directory another node holds.
var ErrStateInUse = errors.New("federation: state directory in use by another node")

// ErrUnsafeState reports a state directory, or a file in it, that is not
// the node's alone: a symbolic link, a file that is not a regular file, a
// directory another user owns or can write. The node refuses to start on
// it, and the error says what to fix; it never follows such a link.
var ErrUnsafeState = errors.New("federation: unsafe state directory")

func encodeState(t stateType, payload []byte) []byte {
	b := make([]byte, 0, stateHeader+len(payload)+stateTrailer)
	b = append(b, stateMagic...)
	b = append(b, stateVersion, byte(t))
	b = binary.BigEndian.AppendUint64(b, uint64(len(payload)))
	b = append(b, payload...)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

func decodeState(data []byte, want stateType) ([]byte, error) {
	_, payload, err := decodeStateOf(data, want)
	return payload, err
}

// decodeStateOf decodes a state file of any of the types wanted (the
// first names the file in errors), and says which it is.
func decodeStateOf(data []byte, wants ...stateType) (stateType, []byte, error) {
	switch {
	case len(data) < stateHeader+stateTrailer:
		return 0, nil, fmt.Errorf("%w: %d bytes, truncated", ErrCorruptState, len(data))
	case string(data[:4]) != stateMagic:
		return 0, nil, fmt.Errorf("%w: not a fedmatch state file", ErrCorruptState)
	case data[4] != stateVersion:
		return 0, nil, fmt.Errorf("%w: version %d, want %d", ErrCorruptState, data[4], stateVersion)
	case !slices.Contains(wants, stateType(data[5])):
		return 0, nil, fmt.Errorf("%w: a %v file where a %v file belongs", ErrCorruptState, stateType(data[5]), wants[0])
	}
	n := binary.BigEndian.Uint64(data[6:])
	if n != uint64(len(data)-stateHeader-stateTrailer) {
		return 0, nil, fmt.Errorf("%w: declares %d payload bytes, holds %d", ErrCorruptState, n, len(data)-stateHeader-stateTrailer)
	}
	body := data[:len(data)-stateTrailer]
	sum := sha256.Sum256(body)
	if string(sum[:]) != string(data[len(body):]) {
		return 0, nil, fmt.Errorf("%w: checksum mismatch", ErrCorruptState)
	}
	return stateType(data[5]), data[stateHeader:len(body)], nil
}

// readState reads and checks a state file. A missing file is
// os.ErrNotExist (wrapped).
func readState(s store, name string, want stateType) ([]byte, error) {
	data, err := s.read(name)
	if err != nil {
		return nil, err
	}
	payload, err := decodeState(data, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return payload, nil
}

// writeState replaces a state file atomically: after a crash it is
// either the old or the new one.
func writeState(s store, name string, t stateType, payload []byte) error {
	return s.write(name, encodeState(t, payload))
}
