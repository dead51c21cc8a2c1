package federation

import (
	"bufio"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/crypto/cryptobyte"
)

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
	Torn    bool   // the log ends in an incomplete record (a crash during an append, or one in progress)
}

// VerifyAudit checks the audit log in dir: every record's chain hash,
// signature and sequence number from the first, and the signed head,
// which catches a log cut short. It returns an *AuditError saying where
// the first edit, deletion, insertion or reordering is. It reads the log
// as a stream, in memory that does not grow with its length. It only
// reads dir, and takes no lock: beside a running node, it may report a
// torn last record, an append in progress. A directory without an audit
// log (no node ever started there, or it is not a state directory) is an
// error wrapping os.ErrNotExist.
func VerifyAudit(dir, nodeID string, identity ed25519.PublicKey) (AuditReport, error) {
	sc, err := scanAudit(readFS(dir), nodeID, identity, nil)
	if err == nil && !sc.hasHead {
		err = fmt.Errorf("federation: no audit log in %s (no %s): %w", dir, auditHeadFile, os.ErrNotExist)
	}
	return sc.report, err
}

// ReadAudit returns the records of the audit log in dir, verified as by
// VerifyAudit.
func ReadAudit(dir, nodeID string, identity ed25519.PublicKey) ([]AuditRecord, error) {
	var recs []AuditRecord
	sc, err := scanAudit(readFS(dir), nodeID, identity, func(r AuditRecord) { recs = append(recs, r) })
	if err == nil && !sc.hasHead {
		err = fmt.Errorf("federation: no audit log in %s (no %s): %w", dir, auditHeadFile, os.ErrNotExist)
	}
	return recs, err
}

// A checkpoint is an audit log after its first seq records: what its
// signed head says, and what a node's start needs to know of them.
type checkpoint struct {
	seq       uint64    // records
	hash      [32]byte  // chain hash of the last record; the genesis hash if none
	end       int64     // offset where the last record ends
	rotated   uint64    // the highest epoch with a rotation record (0: none)
	evaluated [2]uint64 // the two highest epochs with evaluation records, highest first (0: none)
}

// start is the checkpoint of an empty log.
func start(nodeID string) checkpoint { return checkpoint{hash: genesis(nodeID)} }

// add moves c past record r, whose chain hash is hash and which takes
// size bytes.
func (c *checkpoint) add(r *AuditRecord, hash [32]byte, size int) {
	c.seq++
	c.hash = hash
	c.end += int64(size)
	switch e := r.Epoch; r.Type {
	case AuditRotation:
		c.rotated = max(c.rotated, e)
	case AuditEvaluation, AuditCount: // both spend budget
		switch {
		case e == c.evaluated[0] || e == c.evaluated[1]:
		case e > c.evaluated[0]:
			c.evaluated = [2]uint64{e, c.evaluated[0]}
		case e > c.evaluated[1]:
			c.evaluated[1] = e
		}
	}
}

// body is the head's content before its signature.
func (c *checkpoint) body() []byte {
	b := binary.BigEndian.AppendUint64(nil, c.seq)
	b = append(b, c.hash[:]...)
	for _, v := range []uint64{uint64(c.end), c.rotated, c.evaluated[0], c.evaluated[1]} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	return b
}

func checkpointMessage(nodeID string, body []byte) []byte {
	b := []byte(labelAuditCP)
	b = append(b, byte(len(nodeID)))
	b = append(b, nodeID...)
	return append(b, body...)
}

// sign returns the payload of audit.head for c.
func (c *checkpoint) sign(nodeID string, key ed25519.PrivateKey) []byte {
	body := c.body()
	return append(body, ed25519.Sign(key, checkpointMessage(nodeID, body))...)
}

// A signedHead is a verified audit.head.
type signedHead struct {
	cp     checkpoint
	legacy bool // of type 5: cp holds seq and hash only
}

func legacyHeadMessage(nodeID string, seq uint64, hash [32]byte) []byte {
	b := []byte(labelAuditHead)
	b = append(b, byte(len(nodeID)))
	b = append(b, nodeID...)
	b = binary.BigEndian.AppendUint64(b, seq)
	return append(b, hash[:]...)
}

// readHead reads and verifies audit.head: nil if there is none.
func readHead(s store, nodeID string, identity ed25519.PublicKey) (*signedHead, error) {
	data, err := s.read(auditHeadFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	typ, payload, err := decodeStateOf(data, stateAuditCheckpoint, stateAuditHead)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", auditHeadFile, err)
	}
	var h signedHead
	var hash, sig []byte
	var msg []byte
	p := cryptobyte.String(payload)
	if typ == stateAuditHead {
		h.legacy = true
		if !p.ReadUint64(&h.cp.seq) || !p.ReadBytes(&hash, 32) || !p.ReadBytes(&sig, 64) || !p.Empty() {
			return nil, fmt.Errorf("%w: %s", ErrCorruptState, auditHeadFile)
		}
		copy(h.cp.hash[:], hash)
		msg = legacyHeadMessage(nodeID, h.cp.seq, h.cp.hash)
	} else {
		var end uint64
		if !p.ReadUint64(&h.cp.seq) || !p.ReadBytes(&hash, 32) || !p.ReadUint64(&end) || !p.ReadUint64(&h.cp.rotated) ||
			!p.ReadUint64(&h.cp.evaluated[0]) || !p.ReadUint64(&h.cp.evaluated[1]) || !p.ReadBytes(&sig, 64) || !p.Empty() {
			return nil, fmt.Errorf("%w: %s", ErrCorruptState, auditHeadFile)
		}
		copy(h.cp.hash[:], hash)
		h.cp.end = int64(end)
		msg = checkpointMessage(nodeID, payload[:len(payload)-64])
	}
	if !ed25519.Verify(identity, msg, sig) {
		return nil, &AuditError{Record: h.cp.seq, Reason: "audit.head signature does not verify"}
	}
	if !h.legacy && (h.cp.end < 0 || (h.cp.seq == 0) != (h.cp.end == 0) || h.cp.seq > 0 && h.cp.end < 4+auditTrailer) {
		return nil, fmt.Errorf("%w: %s: record %d cannot end at offset %d", ErrCorruptState, auditHeadFile, h.cp.seq, h.cp.end)
	}
	return &h, nil
}

// An auditScan is what verifying a log found.
type auditScan struct {
	report  AuditReport
	cp      checkpoint // after the last complete record
	hasHead bool       // there is an audit.head (which verified)
	headOK  bool       // audit.head is of the current type and covers every record
}

// scanAudit verifies the audit log of s from the genesis, record by record
// (calling each, if not nil, with each verified record), and against its
// signed head.
func scanAudit(s store, nodeID string, identity ed25519.PublicKey, each func(AuditRecord)) (auditScan, error) {
	sc := auditScan{cp: start(nodeID)}
	head, err := readHead(s, nodeID, identity)
	if err != nil {
		return sc, err
	}
	r, err := s.readLog(0)
	if err != nil {
		return sc, err
	}
	defer r.Close()
	// atHead is the log after the records the head covers.
	var atHead *checkpoint
	if head != nil && head.cp.seq == 0 {
		atHead = &checkpoint{}
		*atHead = sc.cp
	}
	sc.cp, sc.report.Torn, err = scanRecords(r, sc.cp, identity, func(rec *AuditRecord, c *checkpoint) {
		if each != nil {
			each(*rec)
		}
		if head != nil && c.seq == head.cp.seq {
			atHead = &checkpoint{}
			*atHead = *c
		}
	})
	sc.report.Records = sc.cp.seq
	if err != nil {
		return sc, err
	}
	switch {
	case head == nil && sc.cp.seq > 0:
		return sc, &AuditError{Record: 0, Offset: 0, Reason: "audit.head is missing"}
	case head == nil:
		return sc, nil
	case atHead == nil:
		return sc, &AuditError{Record: sc.cp.seq, Offset: sc.cp.end,
			Reason: fmt.Sprintf("log ends at %d records, the signed head says %d: records were removed", sc.cp.seq, head.cp.seq)}
	case head.legacy && atHead.hash != head.cp.hash, !head.legacy && *atHead != head.cp:
		return sc, &AuditError{Record: max(head.cp.seq, 1) - 1, Offset: atHead.end, Reason: "record does not match the signed head"}
	}
	sc.report.Signed, sc.hasHead = head.cp.seq, true
	sc.headOK = !head.legacy && head.cp.seq == sc.cp.seq
	return sc, nil
}

// scanFromHead verifies the audit log of s from its signed head: the
// head's signature, that the log holds, where the head says its last
// record ends, that record's hash and a valid signature over it, and the
// records after it. A node's start does this: what it reads does not grow
// with the log. A log without a head of the current type is verified from
// the genesis, as by scanAudit.
func scanFromHead(s store, nodeID string, identity ed25519.PublicKey) (auditScan, error) {
	head, err := readHead(s, nodeID, identity)
	if err != nil {
		return auditScan{cp: start(nodeID)}, err
	}
	if head == nil || head.legacy {
		return scanAudit(s, nodeID, identity, nil)
	}
	sc := auditScan{cp: head.cp, hasHead: true}
	if head.cp.seq == 0 && head.cp.hash != start(nodeID).hash {
		return sc, &AuditError{Record: 0, Reason: "audit.head is not the head of this node's log"}
	}
	r, err := s.readLog(max(head.cp.end-auditTrailer, 0))
	if err != nil {
		return sc, err
	}
	defer r.Close()
	if head.cp.seq > 0 {
		var last [auditTrailer]byte
		if _, err := io.ReadFull(r, last[:]); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return sc, &AuditError{Record: head.cp.seq, Offset: head.cp.end,
				Reason: fmt.Sprintf("the log ends before offset %d, where the signed head says record %d ends: records were removed", head.cp.end, head.cp.seq-1)}
		} else if err != nil {
			return sc, err
		}
		if string(last[:32]) != string(head.cp.hash[:]) || !ed25519.Verify(identity, append([]byte(labelAuditRec), last[:32]...), last[32:]) {
			return sc, &AuditError{Record: head.cp.seq - 1, Offset: head.cp.end - auditTrailer, Reason: "record does not match the signed head"}
		}
	}
	sc.cp, sc.report.Torn, err = scanRecords(r, head.cp, identity, nil)
	sc.report.Records, sc.report.Signed = sc.cp.seq, head.cp.seq
	sc.headOK = sc.cp.seq == head.cp.seq
	return sc, err
}

// scanRecords verifies the records of r, the log after the checkpoint c:
// chain hashes, signatures, sequence numbers. It calls each, if not nil,
// with each verified record and the checkpoint after it. It returns the
// checkpoint after the last complete record, and whether an incomplete
// one follows it (torn).
func scanRecords(r io.Reader, c checkpoint, identity ed25519.PublicKey, each func(*AuditRecord, *checkpoint)) (_ checkpoint, torn bool, _ error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf [4 + maxAuditRecord + auditTrailer]byte
	msg := make([]byte, len(labelAuditRec), len(labelAuditRec)+32)
	copy(msg, labelAuditRec)
	for {
		fail := func(reason string) (checkpoint, bool, error) {
			return c, false, &AuditError{Record: c.seq, Offset: c.end, Reason: reason}
		}
		if _, err := io.ReadFull(br, buf[:4]); err == io.EOF {
			return c, false, nil
		} else if err == io.ErrUnexpectedEOF {
			return c, true, nil
		} else if err != nil {
			return c, false, err
		}
		n := int(binary.BigEndian.Uint32(buf[:4]))
		if n > maxAuditRecord {
			return fail("length field out of range")
		}
		rec := buf[4 : 4+n+auditTrailer]
		if _, err := io.ReadFull(br, rec); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return c, true, nil
		} else if err != nil {
			return c, false, err
		}
		payload, sig := rec[:n], rec[n+32:]
		var hash [32]byte
		copy(hash[:], rec[n:])
		if chain(c.hash, payload) != hash {
			return fail("hash chain broken (the record or one before it was edited, removed or inserted)")
		}
		if !ed25519.Verify(identity, append(msg[:len(labelAuditRec)], hash[:]...), sig) {
			return fail("signature does not verify")
		}
		rd, ok := parseAuditPayload(payload)
		if !ok {
			return fail("malformed record")
		}
		if rd.Seq != c.seq {
			return fail(fmt.Sprintf("sequence number %d out of order", rd.Seq))
		}
		c.add(&rd, hash, 4+n+auditTrailer)
		if each != nil {
			each(&rd, &c)
		}
	}
}

// auditSummary is what a node needs to know of its log at start.
type auditSummary struct {
	records   uint64
	recovered string // what was repaired (a torn last record)
	rotated   uint64 // the highest epoch with a rotation record
	// evaluated holds the two highest epochs with evaluation records:
	// enough for New, as evaluations are charged to the current epoch,
	// which never goes back.
	evaluated map[uint64]bool
}

// openAudit verifies the log of s from its signed head (scanFromHead) and
// opens it for appending. An incomplete last record (a crash during an
// append, which was therefore never acknowledged) is cut off, and reported
// in the summary.
func openAudit(s store, nodeID string, key ed25519.PrivateKey) (*auditLog, auditSummary, error) {
	sum := auditSummary{evaluated: map[uint64]bool{}}
	sc, err := scanFromHead(s, nodeID, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, sum, err
	}
	sum.records, sum.rotated = sc.cp.seq, sc.cp.rotated
	for _, e := range sc.cp.evaluated {
		if e != 0 {
			sum.evaluated[e] = true
		}
	}
	if sc.report.Torn {
		if err := s.truncateLog(sc.cp.end); err != nil {
			return nil, sum, err
		}
		sum.recovered = "cut an incomplete last audit record"
	}
	a := newAuditLog(s, nodeID, key, sc.cp)
	if !sc.headOK {
		// Records appended before a crash could write the head are signed
		// records of this node: sign the head again. An empty log gets its
		// head before its first record, so that a crash between that
		// record and its head leaves a head behind, not a log without one;
		// a head of an earlier version is replaced.
		if err := a.writeHead(sc.cp); err != nil {
			return nil, sum, err
		}
	}
	return a, sum, nil
}
