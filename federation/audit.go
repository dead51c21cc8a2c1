package federation

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// The audit log is an append-only file of records, each chained to the one
// before by a hash and signed by the node identity:
//
//	record  = length:u32 payload hash[32] signature[64]
//	payload = seq:u64 time:i64 type:u8 epoch:u64 count:u64 hits:u64
//	          partnerLen:u8 partner detailLen:u16 detail
//	hash    = SHA-256(previous hash || payload); the first previous hash is
//	          SHA-256("fedmatch-v1 audit log" || node ID)
//	signature = Ed25519(identity, "fedmatch-v1 audit record" || hash)
//
// audit.head, rewritten after every append, holds the last sequence number
// and hash, signed, so that a log cut short is detected too. Records carry
// counts, partner IDs, kinds and key IDs, never an indicator value or a
// secret.

const (
	auditFile      = "audit.log"
	auditHeadFile  = "audit.head"
	labelAuditLog  = "fedmatch-v1 audit log"
	labelAuditRec  = "fedmatch-v1 audit record"
	labelAuditHead = "fedmatch-v1 audit head"
	maxAuditRecord = 4096
)

// An AuditType is the kind of an audit record. The values are on disk; do
// not reorder.
type AuditType uint8

const (
	AuditStart        AuditType = 1 // the node started; Detail: recovery notes
	AuditPublication  AuditType = 2 // a filter was published; Count: entries
	AuditRotation     AuditType = 3 // a new key and epoch; Detail: key id
	AuditDestruction  AuditType = 4 // an old epoch's key was destroyed
	AuditEvaluation   AuditType = 5 // a partner's batch; Count: elements, Detail: kind
	AuditConfirmation AuditType = 6 // a partner's confirm; Count: tags, Hits
	AuditRefusal      AuditType = 7 // a request refused by policy; Detail: reason
)

func (t AuditType) String() string {
	switch t {
	case AuditStart:
		return "start"
	case AuditPublication:
		return "publication"
	case AuditRotation:
		return "rotation"
	case AuditDestruction:
		return "destruction"
	case AuditEvaluation:
		return "evaluation"
	case AuditConfirmation:
		return "confirmation"
	case AuditRefusal:
		return "refusal"
	}
	return fmt.Sprintf("AuditType(%d)", uint8(t))
}

// An AuditRecord is one entry of the audit log.
type AuditRecord struct {
	Seq     uint64
	Time    time.Time
	Type    AuditType
	Partner string
	Epoch   uint64
	Count   uint64
	Hits    uint64
	Detail  string
}

func (r *AuditRecord) String() string {
	s := fmt.Sprintf("#%d %s %v epoch=%d", r.Seq, r.Time.UTC().Format(time.RFC3339), r.Type, r.Epoch)
	if r.Partner != "" {
		s += " partner=" + r.Partner
	}
	if r.Count != 0 || r.Type == AuditEvaluation || r.Type == AuditConfirmation {
		s += fmt.Sprintf(" count=%d", r.Count)
	}
	if r.Type == AuditConfirmation {
		s += fmt.Sprintf(" hits=%d", r.Hits)
	}
	if r.Detail != "" {
		s += " " + r.Detail
	}
	return s
}

func (r *AuditRecord) payload() []byte {
	b := binary.BigEndian.AppendUint64(nil, r.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.UnixNano()))
	b = append(b, byte(r.Type))
	b = binary.BigEndian.AppendUint64(b, r.Epoch)
	b = binary.BigEndian.AppendUint64(b, r.Count)
	b = binary.BigEndian.AppendUint64(b, r.Hits)
	b = append(b, byte(len(r.Partner)))
	b = append(b, r.Partner...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Detail)))
	return append(b, r.Detail...)
}

func parseAuditPayload(p []byte) (AuditRecord, bool) {
	s := cryptobyte.String(p)
	var r AuditRecord
	var t int64
	var typ uint8
	var partner, detail cryptobyte.String
	if !s.ReadUint64(&r.Seq) || !readInt64(&s, &t) || !s.ReadUint8(&typ) || !s.ReadUint64(&r.Epoch) ||
		!s.ReadUint64(&r.Count) || !s.ReadUint64(&r.Hits) || !s.ReadUint8LengthPrefixed(&partner) ||
		!s.ReadUint16LengthPrefixed(&detail) || !s.Empty() {
		return r, false
	}
	r.Time, r.Type, r.Partner, r.Detail = time.Unix(0, t), AuditType(typ), string(partner), string(detail)
	return r, true
}

func readInt64(s *cryptobyte.String, v *int64) bool {
	var u uint64
	if !s.ReadUint64(&u) {
		return false
	}
	*v = int64(u)
	return true
}

func genesis(nodeID string) [32]byte {
	return sha256.Sum256([]byte(labelAuditLog + nodeID))
}

func chain(prev [32]byte, payload []byte) [32]byte {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(payload)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func headMessage(nodeID string, seq uint64, hash [32]byte) []byte {
	b := []byte(labelAuditHead)
	b = append(b, byte(len(nodeID)))
	b = append(b, nodeID...)
	b = binary.BigEndian.AppendUint64(b, seq)
	return append(b, hash[:]...)
}

// An AuditError locates a verification failure of the audit log.
type AuditError struct {
	Record uint64 // sequence number expected at the failure
	Offset int64  // byte offset of the failing record in audit.log
	Reason string
}

func (e *AuditError) Error() string {
	return fmt.Sprintf("federation: audit log: record %d (offset %d): %s", e.Record, e.Offset, e.Reason)
}

// AuditReport summarises a verified audit log.
type AuditReport struct {
	Records uint64 // records in the log
	Signed  uint64 // records covered by the signed head
	Torn    bool   // the log ends in an incomplete record (a crash during an append)
}

// auditLog appends records to a state directory's audit log.
type auditLog struct {
	mu     sync.Mutex
	dir    string
	nodeID string
	key    ed25519.PrivateKey
	f      *os.File
	seq    uint64 // next sequence number
	last   [32]byte
	crash  func(string) // test crash points
	closed bool
}

// VerifyAudit checks the audit log in dir: every record's chain hash,
// signature and sequence number, and the signed head, which catches a log
// cut short. It returns an *AuditError saying where the first edit,
// deletion, insertion or reordering is.
func VerifyAudit(dir, nodeID string, identity ed25519.PublicKey) (AuditReport, error) {
	rep, _, _, err := scanAudit(dir, nodeID, identity, nil)
	return rep, err
}

// ReadAudit returns the records of the audit log in dir, verified as by
// VerifyAudit.
func ReadAudit(dir, nodeID string, identity ed25519.PublicKey) ([]AuditRecord, error) {
	var recs []AuditRecord
	_, _, _, err := scanAudit(dir, nodeID, identity, func(r AuditRecord) { recs = append(recs, r) })
	return recs, err
}

// scanAudit verifies the log and returns the report, the offset where the
// complete records end, and the last hash.
func scanAudit(dir, nodeID string, identity ed25519.PublicKey, each func(AuditRecord)) (AuditReport, int64, [32]byte, error) {
	var rep AuditReport
	last := genesis(nodeID)
	data, err := os.ReadFile(filepath.Join(dir, auditFile))
	if errors.Is(err, os.ErrNotExist) {
		data, err = nil, nil
	}
	if err != nil {
		return rep, 0, last, err
	}
	off := 0
	for off < len(data) {
		fail := func(reason string) (AuditReport, int64, [32]byte, error) {
			return rep, int64(off), last, &AuditError{Record: rep.Records, Offset: int64(off), Reason: reason}
		}
		if len(data)-off < 4 {
			rep.Torn = true
			break
		}
		n := int(binary.BigEndian.Uint32(data[off:]))
		if n > maxAuditRecord {
			return fail("length field out of range")
		}
		if len(data)-off < 4+n+32+64 {
			rep.Torn = true
			break
		}
		payload := data[off+4 : off+4+n]
		var hash [32]byte
		copy(hash[:], data[off+4+n:])
		sig := data[off+4+n+32 : off+4+n+32+64]
		if chain(last, payload) != hash {
			return fail("hash chain broken (the record or one before it was edited, removed or inserted)")
		}
		if !ed25519.Verify(identity, append([]byte(labelAuditRec), hash[:]...), sig) {
			return fail("signature does not verify")
		}
		r, ok := parseAuditPayload(payload)
		if !ok {
			return fail("malformed record")
		}
		if r.Seq != rep.Records {
			return fail(fmt.Sprintf("sequence number %d out of order", r.Seq))
		}
		if each != nil {
			each(r)
		}
		last = hash
		rep.Records++
		off += 4 + n + 32 + 64
	}
	// The signed head: the log must reach it, and agree with it.
	head, err := readState(dir, auditHeadFile, stateAuditHead)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if rep.Records > 0 {
			return rep, int64(off), last, &AuditError{Record: 0, Offset: 0, Reason: "audit.head is missing"}
		}
	case err != nil:
		return rep, int64(off), last, err
	default:
		s := cryptobyte.String(head)
		var seq uint64
		var hash, sig []byte
		if !s.ReadUint64(&seq) || !s.ReadBytes(&hash, 32) || !s.ReadBytes(&sig, 64) || !s.Empty() {
			return rep, int64(off), last, fmt.Errorf("%w: audit.head", ErrCorruptState)
		}
		var h [32]byte
		copy(h[:], hash)
		if !ed25519.Verify(identity, headMessage(nodeID, seq, h), sig) {
			return rep, int64(off), last, &AuditError{Record: seq, Reason: "audit.head signature does not verify"}
		}
		if seq > rep.Records {
			return rep, int64(off), last, &AuditError{Record: rep.Records, Offset: int64(off),
				Reason: fmt.Sprintf("log ends at %d records, the signed head says %d: records were removed", rep.Records, seq)}
		}
		if seq > 0 {
			// The head's hash must be the chain hash of record seq-1.
			if got := chainAt(data, nodeID, seq); got != h {
				return rep, int64(off), last, &AuditError{Record: seq - 1, Reason: "record does not match the signed head"}
			}
		}
		rep.Signed = seq
	}
	return rep, int64(off), last, nil
}

// chainAt returns the chain hash after the first n records of data, which
// were verified already.
func chainAt(data []byte, nodeID string, n uint64) [32]byte {
	last := genesis(nodeID)
	off := 0
	for range n {
		l := int(binary.BigEndian.Uint32(data[off:]))
		copy(last[:], data[off+4+l:])
		off += 4 + l + 32 + 64
	}
	return last
}

// auditSummary is what a node needs to know of its log at start.
type auditSummary struct {
	records   uint64
	recovered string          // what was repaired (a torn last record)
	rotated   uint64          // the highest epoch with a rotation record
	evaluated map[uint64]bool // epochs with evaluation records
}

// openAudit verifies the log and opens it for appending. An incomplete
// last record (a crash during an append, which was therefore never
// acknowledged) is cut off, and reported in the summary.
func openAudit(dir, nodeID string, key ed25519.PrivateKey) (a *auditLog, sum auditSummary, err error) {
	sum.evaluated = map[uint64]bool{}
	rep, end, last, err := scanAudit(dir, nodeID, key.Public().(ed25519.PublicKey), func(r AuditRecord) {
		switch r.Type {
		case AuditRotation:
			sum.rotated = max(sum.rotated, r.Epoch)
		case AuditEvaluation:
			sum.evaluated[r.Epoch] = true
		}
	})
	if err != nil {
		return nil, sum, err
	}
	sum.records = rep.Records
	path := filepath.Join(dir, auditFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, sum, err
	}
	fail := func(err error) (*auditLog, auditSummary, error) {
		f.Close()
		return nil, sum, err
	}
	if rep.Torn {
		if err := f.Truncate(end); err != nil {
			return fail(err)
		}
		if err := f.Sync(); err != nil {
			return fail(err)
		}
		sum.recovered = "cut an incomplete last audit record"
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return fail(err)
	}
	a = &auditLog{dir: dir, nodeID: nodeID, key: key, f: f, seq: rep.Records, last: last}
	if rep.Signed != rep.Records {
		// Records appended before a crash could write the head are signed
		// records of this node: sign the head again.
		if err := a.writeHead(); err != nil {
			return fail(err)
		}
	}
	return a, sum, nil
}

// append writes a record, syncs it, and updates the signed head.
func (a *auditLog) append(r AuditRecord) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errClosed
	}
	if len(r.Partner) > 255 || len(r.Detail) > 1024 {
		return errors.New("federation: audit record field too long")
	}
	r.Seq = a.seq
	p := r.payload()
	hash := chain(a.last, p)
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(p)))
	b.Write(p)
	b.Write(hash[:])
	b.Write(ed25519.Sign(a.key, append([]byte(labelAuditRec), hash[:]...)))
	end, err := a.f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("federation: audit log: %w", err)
	}
	if a.crash != nil {
		// Tests: a crash in the middle of the write leaves a torn record.
		a.f.Write(b.Bytes()[:b.Len()/2])
		a.crash("audit: torn record")
		if err := a.f.Truncate(end); err != nil {
			return err
		}
		if _, err := a.f.Seek(end, io.SeekStart); err != nil {
			return err
		}
	}
	// A failed write or sync (a full disk) must not leave part of a record
	// behind, or every later record would break the chain: cut back.
	undo := func(err error) error {
		if terr := a.f.Truncate(end); terr == nil {
			a.f.Seek(end, io.SeekStart)
		}
		return fmt.Errorf("federation: audit log: %w", err)
	}
	if _, err := a.f.Write(b.Bytes()); err != nil {
		return undo(err)
	}
	if err := a.f.Sync(); err != nil {
		return undo(err)
	}
	a.seq++
	a.last = hash
	if a.crash != nil {
		a.crash("audit: before head")
	}
	return a.writeHead()
}

func (a *auditLog) writeHead() error {
	sig := ed25519.Sign(a.key, headMessage(a.nodeID, a.seq, a.last))
	b := binary.BigEndian.AppendUint64(nil, a.seq)
	b = append(b, a.last[:]...)
	return writeState(a.dir, auditHeadFile, stateAuditHead, append(b, sig...))
}

func (a *auditLog) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	return a.f.Close()
}
