package federation

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
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
	AuditConfirmation AuditType = 6 // a partner's confirm; Count: tags, Hits: tags confirmed, Detail: the entries hit, if more
	AuditRefusal      AuditType = 7 // a request refused by policy; Detail: reason
	AuditMisbehaviour AuditType = 8 // a partner's confirm answers hid hits (match.ErrMisbehaviour): it is not queried again in its epoch; Epoch: the partner's, Count: indicators queried, Hits: hits confirmed, Detail: candidates, "not an entry" answers, bound
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
	case AuditMisbehaviour:
		return "misbehaviour"
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

// auditLog appends records to a store's audit log.
type auditLog struct {
	mu     sync.Mutex
	s      store
	nodeID string
	key    ed25519.PrivateKey
	seq    uint64 // next sequence number
	last   [32]byte
	closed bool
}

// VerifyAudit checks the audit log in dir: every record's chain hash,
// signature and sequence number, and the signed head, which catches a log
// cut short. It returns an *AuditError saying where the first edit,
// deletion, insertion or reordering is. It only reads dir, and takes no
// lock.
func VerifyAudit(dir, nodeID string, identity ed25519.PublicKey) (AuditReport, error) {
	sc, err := scanAudit(readFS(dir), nodeID, identity, nil)
	return sc.report, err
}

// ReadAudit returns the records of the audit log in dir, verified as by
// VerifyAudit.
func ReadAudit(dir, nodeID string, identity ed25519.PublicKey) ([]AuditRecord, error) {
	var recs []AuditRecord
	_, err := scanAudit(readFS(dir), nodeID, identity, func(r AuditRecord) { recs = append(recs, r) })
	return recs, err
}

// An auditScan is what verifying a log found: the report, where the
// complete records end, and the chain hash of the last one.
type auditScan struct {
	report AuditReport
	end    int64
	last   [32]byte
}

// scanAudit verifies the audit log of s, record by record (calling each,
// if not nil, with each verified record) and against its signed head.
func scanAudit(s store, nodeID string, identity ed25519.PublicKey, each func(AuditRecord)) (auditScan, error) {
	data, err := s.readLog()
	if err != nil {
		return auditScan{last: genesis(nodeID)}, err
	}
	sc, err := scanRecords(data, nodeID, identity, each)
	if err != nil {
		return sc, err
	}
	sc.report.Signed, err = checkHead(s, data, nodeID, identity, sc)
	return sc, err
}

// scanRecords verifies the records of a log: chain hashes, signatures,
// sequence numbers. An incomplete last record is reported as torn.
func scanRecords(data []byte, nodeID string, identity ed25519.PublicKey, each func(AuditRecord)) (auditScan, error) {
	sc := auditScan{last: genesis(nodeID)}
	for int(sc.end) < len(data) {
		off := int(sc.end)
		fail := func(reason string) (auditScan, error) {
			return sc, &AuditError{Record: sc.report.Records, Offset: sc.end, Reason: reason}
		}
		if len(data)-off < 4 {
			sc.report.Torn = true
			break
		}
		n := int(binary.BigEndian.Uint32(data[off:]))
		if n > maxAuditRecord {
			return fail("length field out of range")
		}
		if len(data)-off < 4+n+32+64 {
			sc.report.Torn = true
			break
		}
		payload := data[off+4 : off+4+n]
		var hash [32]byte
		copy(hash[:], data[off+4+n:])
		sig := data[off+4+n+32 : off+4+n+32+64]
		if chain(sc.last, payload) != hash {
			return fail("hash chain broken (the record or one before it was edited, removed or inserted)")
		}
		if !ed25519.Verify(identity, append([]byte(labelAuditRec), hash[:]...), sig) {
			return fail("signature does not verify")
		}
		r, ok := parseAuditPayload(payload)
		if !ok {
			return fail("malformed record")
		}
		if r.Seq != sc.report.Records {
			return fail(fmt.Sprintf("sequence number %d out of order", r.Seq))
		}
		if each != nil {
			each(r)
		}
		sc.last = hash
		sc.report.Records++
		sc.end += int64(4 + n + 32 + 64)
	}
	return sc, nil
}

// checkHead checks the signed head against the verified records of data:
// the log must reach it, and agree with it. It returns the number of
// records the head covers.
func checkHead(s store, data []byte, nodeID string, identity ed25519.PublicKey, sc auditScan) (uint64, error) {
	head, err := readState(s, auditHeadFile, stateAuditHead)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if sc.report.Records > 0 {
			return 0, &AuditError{Record: 0, Offset: 0, Reason: "audit.head is missing"}
		}
		return 0, nil
	case err != nil:
		return 0, err
	}
	hs := cryptobyte.String(head)
	var seq uint64
	var hash, sig []byte
	if !hs.ReadUint64(&seq) || !hs.ReadBytes(&hash, 32) || !hs.ReadBytes(&sig, 64) || !hs.Empty() {
		return 0, fmt.Errorf("%w: audit.head", ErrCorruptState)
	}
	var h [32]byte
	copy(h[:], hash)
	if !ed25519.Verify(identity, headMessage(nodeID, seq, h), sig) {
		return 0, &AuditError{Record: seq, Reason: "audit.head signature does not verify"}
	}
	if seq > sc.report.Records {
		return 0, &AuditError{Record: sc.report.Records, Offset: sc.end,
			Reason: fmt.Sprintf("log ends at %d records, the signed head says %d: records were removed", sc.report.Records, seq)}
	}
	// The head's hash must be the chain hash of record seq-1.
	if seq > 0 && chainAt(data, nodeID, seq) != h {
		return 0, &AuditError{Record: seq - 1, Reason: "record does not match the signed head"}
	}
	return seq, nil
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

// openAudit verifies the log of s and opens it for appending. An
// incomplete last record (a crash during an append, which was therefore
// never acknowledged) is cut off, and reported in the summary.
func openAudit(s store, nodeID string, key ed25519.PrivateKey) (*auditLog, auditSummary, error) {
	sum := auditSummary{evaluated: map[uint64]bool{}}
	sc, err := scanAudit(s, nodeID, key.Public().(ed25519.PublicKey), func(r AuditRecord) {
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
	sum.records = sc.report.Records
	if sc.report.Torn {
		if err := s.truncateLog(sc.end); err != nil {
			return nil, sum, err
		}
		sum.recovered = "cut an incomplete last audit record"
	}
	a := &auditLog{s: s, nodeID: nodeID, key: key, seq: sc.report.Records, last: sc.last}
	if sc.report.Signed != sc.report.Records || sc.report.Records == 0 {
		// Records appended before a crash could write the head are signed
		// records of this node: sign the head again. An empty log gets its
		// head before its first record, so that a crash between that
		// record and its head leaves a head behind, not a log without one.
		if err := a.writeHead(); err != nil {
			return nil, sum, err
		}
	}
	return a, sum, nil
}

// append writes a record, durably, and updates the signed head. If it
// fails, the log is as it was and the record can be appended again.
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
	b := binary.BigEndian.AppendUint32(nil, uint32(len(p)))
	b = append(b, p...)
	b = append(b, hash[:]...)
	b = append(b, ed25519.Sign(a.key, append([]byte(labelAuditRec), hash[:]...))...)
	if err := a.s.appendLog(b); err != nil {
		return fmt.Errorf("federation: audit log: %w", err)
	}
	a.seq++
	a.last = hash
	return a.writeHead()
}

func (a *auditLog) writeHead() error {
	sig := ed25519.Sign(a.key, headMessage(a.nodeID, a.seq, a.last))
	b := binary.BigEndian.AppendUint64(nil, a.seq)
	b = append(b, a.last[:]...)
	return writeState(a.s, auditHeadFile, stateAuditHead, append(b, sig...))
}

// close makes later appends fail; the store is the node's to close.
func (a *auditLog) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
}
