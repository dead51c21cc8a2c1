package federation

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
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
// audit.head, a state file (statefile.go) of type 6, is the signed head of
// the log, and a checkpoint of it: the number of records, the chain hash
// of the last one, the offset where it ends, and what a node needs to know
// of all the records at start (the highest epoch with a rotation record,
// the two highest with evaluation or count records; 0 for none):
//
//	head      = seq:u64 hash[32] end:u64 rotated:u64 evaluated:u64
//	            evaluatedBefore:u64 signature[64]
//	signature = Ed25519(identity, "fedmatch-v1 audit checkpoint" ||
//	            idLen:u8 || node ID || head before its signature)
//
// Earlier versions wrote a head of type 5 (seq:u64 hash[32] signature[64],
// signed over "fedmatch-v1 audit head" || idLen:u8 || node ID || seq ||
// hash), without the offset and the summary; it is still read, and a node
// starting on it verifies the log from the genesis once and replaces it.
//
// Appends are committed in groups: the records appended while a group is
// being written wait, and are then written together, with one write and
// one fsync of the log followed by one rewrite of the head (temporary
// file, fsync, rename, directory fsync); each append returns only once its
// group is durable. The head is written after the records it covers are
// durable, so it is never ahead of the log: a crash leaves a log that ends
// at its head, or continues past it with records of one group that no
// append acknowledged, the last of which may be torn. A group that fails
// fails every append in it, and leaves the log and its head as they were.
//
// [VerifyAudit] reads the whole log as a stream, from the genesis, checking
// every record's chain hash, signature and sequence number, and the head:
// it finds any edit, deletion, insertion or reordering, and a log cut short
// of its head. A node's start verifies a bounded amount, whatever the
// log's length: the head's signature; that the log holds, where the head
// says record seq-1 ends, that record's hash and a valid signature over
// it; and every record after it (those of one group at most), cutting a
// torn last one. It takes the records the head covers on the head's
// signature; an edit to them is for VerifyAudit to find.
//
// Records carry counts, partner IDs, kinds and key IDs, never an indicator
// value or a secret.

const (
	auditFile      = "audit.log"
	auditHeadFile  = "audit.head"
	labelAuditLog  = "fedmatch-v1 audit log"
	labelAuditRec  = "fedmatch-v1 audit record"
	labelAuditHead = "fedmatch-v1 audit head" // the head of type 5, read only
	labelAuditCP   = "fedmatch-v1 audit checkpoint"
	maxAuditRecord = 4096
	auditTrailer   = 32 + 64 // a record's hash and signature
	// maxAuditGroup bounds the records committed in one write.
	maxAuditGroup = 1024
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
	AuditConfirmation AuditType = 6 // a partner's confirm; Epoch: of the key its tags use, Count: tags, Hits: tags confirmed, Detail: the entries hit, if more
	AuditRefusal      AuditType = 7 // a partner's refusals in one period (a minute); Count: refusals, Detail: how many of each error code, and the period
	AuditMisbehaviour AuditType = 8 // a partner's confirm answers hid hits (match.ErrMisbehaviour): it is not queried again in its epoch; Epoch: the partner's, Count: indicators queried, Hits: hits confirmed, Detail: candidates, "not an entry" answers, bound
	AuditChange       AuditType = 9 // entries added to or removed from the current epoch's list (Node.Add, Node.Remove, Node.RemoveEntries); Count: entries added, Detail: the filter version, entries removed
	// AuditCount is a partner's cardinality-only batch (POST count),
	// charged to its evaluation budget: Epoch: charged, Count: elements,
	// Detail: kind (and the key's epoch if another). Never the count the
	// partner learns, which the publisher does not know.
	AuditCount AuditType = 10
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
	case AuditChange:
		return "change"
	case AuditCount:
		return "count"
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
	if r.Count != 0 || r.Type == AuditEvaluation || r.Type == AuditConfirmation || r.Type == AuditCount {
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

// appendRecord encodes r as the record after the checkpoint c, signed with
// key, appends it to b, and moves c past it.
func (c *checkpoint) appendRecord(b []byte, r AuditRecord, key ed25519.PrivateKey) []byte {
	r.Seq = c.seq
	p := r.payload()
	hash := chain(c.hash, p)
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
	b = append(b, p...)
	b = append(b, hash[:]...)
	b = append(b, ed25519.Sign(key, append([]byte(labelAuditRec), hash[:]...))...)
	c.add(&r, hash, len(b)-start)
	return b
}

// auditLog appends records to a store's audit log, in groups (see the
// comment at the top of this file).
type auditLog struct {
	s      store
	nodeID string
	key    ed25519.PrivateKey

	mu      sync.Mutex
	idle    sync.Cond      // broadcast when writing becomes false
	head    checkpoint     // the log as committed, and its head
	queue   []*auditWaiter // appends waiting for the next group
	writing bool           // an append is committing a group
	closed  bool
	broken  error // why appends fail until the node restarts: a group that failed could not be undone
}

// An auditWaiter is an append waiting for its group.
type auditWaiter struct {
	rec  AuditRecord
	done chan error // its group's outcome, or errYourTurn
}

// errYourTurn tells a waiting append to commit the next group itself.
var errYourTurn = errors.New("federation: audit log: commit the next group")

func newAuditLog(s store, nodeID string, key ed25519.PrivateKey, head checkpoint) *auditLog {
	a := &auditLog{s: s, nodeID: nodeID, key: key, head: head}
	a.idle.L = &a.mu
	return a
}

// append writes a record, durably, and updates the signed head. If it
// fails, the log is as it was and the record can be appended again.
// Concurrent appends share one write, one fsync and one head (group
// commit): the first commits the group, and hands the next one, made of
// the appends that arrived meanwhile, to the first of them.
func (a *auditLog) append(r AuditRecord) error {
	if len(r.Partner) > 255 || len(r.Detail) > 1024 {
		return errors.New("federation: audit record field too long")
	}
	w := &auditWaiter{rec: r, done: make(chan error, 1)}
	a.mu.Lock()
	if err := a.usable(); err != nil {
		a.mu.Unlock()
		return err
	}
	a.queue = append(a.queue, w)
	lead := !a.writing
	a.writing = true
	a.mu.Unlock()
	if lead {
		a.commit()
	}
	for {
		err := <-w.done
		if err != errYourTurn {
			return err
		}
		a.commit()
	}
}

// usable says why appends fail, if they do; a.mu is held.
func (a *auditLog) usable() error {
	switch {
	case a.closed:
		return errClosed
	case a.broken != nil:
		return a.broken
	}
	return nil
}

// commit writes the next group, the first appends of the queue, gives each
// its outcome, and hands the rest of the queue on. The caller's append is
// the first of the queue, so it is in the group.
func (a *auditLog) commit() {
	a.mu.Lock()
	n := min(len(a.queue), maxAuditGroup)
	group := a.queue[:n:n]
	a.queue = slices.Clone(a.queue[n:])
	from := a.head
	a.mu.Unlock()

	to, broken, err := a.write(from, group)

	a.mu.Lock()
	defer a.mu.Unlock()
	if err == nil {
		a.head = to
	} else {
		err = fmt.Errorf("federation: audit log: %w", err)
	}
	if broken {
		a.broken = fmt.Errorf("federation: audit log: a failed append could not be undone, appends fail until the node restarts: %w", err)
	}
	for _, w := range group {
		w.done <- err
	}
	if len(a.queue) > 0 && a.usable() == nil {
		a.queue[0].done <- errYourTurn
		return
	}
	for _, w := range a.queue {
		w.done <- a.usable()
	}
	a.queue = nil
	a.writing = false
	a.idle.Broadcast()
}

// write appends the records of group after from, the log as committed,
// then the head after them, and returns that head. If it fails, it puts
// the log and its head back as they were at from; broken says it could
// not.
func (a *auditLog) write(from checkpoint, group []*auditWaiter) (to checkpoint, broken bool, err error) {
	to = from
	var b []byte
	for _, w := range group {
		b = to.appendRecord(b, w.rec, a.key)
	}
	if err := a.s.appendLog(b); err != nil {
		return from, false, err
	}
	if err := a.writeHead(to); err != nil {
		// A failed write may have replaced the head all the same (the
		// rename done, the directory's fsync failed): the old head goes
		// back first, then the records, so that the head is never ahead
		// of the log.
		if a.writeHead(from) != nil || a.s.truncateLog(from.end) != nil {
			return from, true, err
		}
		return from, false, err
	}
	return to, false, nil
}

func (a *auditLog) writeHead(c checkpoint) error {
	return writeState(a.s, auditHeadFile, stateAuditCheckpoint, c.sign(a.nodeID, a.key))
}

// close makes later appends fail, once the group being written, if any,
// is; the store is the node's to close.
func (a *auditLog) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for a.writing {
		a.idle.Wait()
	}
}
