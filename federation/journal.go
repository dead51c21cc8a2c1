package federation

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/match"
)

// The change journal. A change of the current epoch's list (Node.Add,
// Node.Remove, a tick of Config.ChangeInterval) is not written by
// rewriting epoch-N.pub, which holds the whole publisher, but appended to
// epoch-N.chg beside it, in bytes proportional to the change
// (match.Publisher.MarshalChange): a change of 10 entries costs the same
// on disk with a list of ten million as with a list of ten.
//
//	journal = header record*
//	header  = magic "FDMJ" version:u8 epoch:u64 genLen:u8 gen from:u64 sum[32]
//	          sum = SHA-256(the header before it)
//	record  = length:u64 body sum[32]
//	          sum = SHA-256(the previous record's sum, or the header's ||
//	          length || body)
//	body    = change:  0x01 seq:u64 auditEnd:u64
//	                   count:u8 × (entries:u64 detailLen:u16 detail)
//	                   the change (match type 0x10), to the end of the body
//	        | audited: 0x02 seq:u64
//
// epoch-N.pub is then a state file of type 10 (statePublisherJournal):
// genLen:u8 gen applied:u64 and the publisher's state, which includes
// the changes up to applied; or, if the epoch has a count filter, of
// type 14 (statePublisherCount), which has countLen:u64 countFilter
// after applied (the count filter of the list as published, which no
// change alters and a fold keeps). A journal belongs to the epoch's line of
// versions gen, and starts after change from; its changes are numbered
// from+1, from+2, ... At start, the state is restored and the journal's
// changes after applied are applied in order. A journal of another line
// is one a publication replaced (the state was written, the journal not
// yet): it is ignored, and replaced. Records are chained: an edited,
// removed or reordered record is ErrCorruptState; so is a journal that
// starts after its state (a change lost) or ends before it. A last record
// cut short or whose checksum fails, with nothing after it, is what a
// crash during an append leaves: it was never acknowledged, and is cut.
//
// A change is committed in this order, each step durable before the
// next: (1) its change record is appended (the commit point: the version
// is then served, and is what a restart serves); (2) its audit records
// (AuditChange) are appended to the audit log; (3) an audited record is
// appended to the journal. A change record without its audited record
// is found at start: its audit records are looked for in the audit log
// after auditEnd (the log's end before the change; each record's detail
// names the change, "change k"), and those missing are appended, marked
// "recorded at start after a stop"; then the audited record. So a crash
// at any step leaves the change either not served and not audited, or
// served and audited exactly once.
//
// Compaction: once every change of the journal is audited and the
// journal is larger than a quarter of epoch-N.pub (compactDivisor), (1)
// epoch-N.pub is rewritten whole, with applied = the last change, then
// (2) epoch-N.chg is replaced by a header with from = applied. A crash
// between the two leaves a journal whose changes up to applied the state
// holds: they are skipped. Each write is atomic (writeState, store.write),
// so a crash at any point loses nothing and applies nothing twice. A
// publication or a rotation writes a new line's state (applied 0) then
// its empty journal. Replaying a journal costs about what writing it did,
// and the rewrite amortises to at most four times the bytes of the
// changes it folds in.
const (
	chgMagic   = "FDMJ"
	chgVersion = 1
	// Record kinds. The values are on disk; do not reorder.
	chgChange  = 1
	chgAudited = 2
	// compactDivisor: the journal is folded into epoch-N.pub once it is
	// larger than 1/compactDivisor of it.
	compactDivisor = 4
	chgSumLen      = sha256.Size
	// chgAfterStop marks the audit records of a change appended at start,
	// the node having stopped before it could append them.
	chgAfterStop = " (recorded at start after a stop)"
)

func chgFile(n uint64) string { return fmt.Sprintf("epoch-%d.chg", n) }

// A journal is what a node knows of an epoch's epoch-N.chg. It is shared
// by the versions of the epoch (the epoch values commit makes) and
// changed only under opMu.
type journal struct {
	gen     string   // the line of versions of epoch-N.pub and of the journal
	from    uint64   // the change the journal starts after
	applied uint64   // the last change epoch-N.pub includes
	seq     uint64   // the last change journaled
	size    int64    // the journal's bytes up to its last valid record
	base    int64    // epoch-N.pub's bytes
	sum     [32]byte // the checksum the next record chains to
	mark    match.Mark
	// ok says the file ends at size with a valid record: the next record
	// is appended. Otherwise (none, one of another line, a torn record or
	// a failed append after it) the file is rewritten with its records up
	// to size and the next one.
	ok bool
	// legacy says epoch-N.pub is of an earlier release, without applied:
	// New rewrites it.
	legacy    bool
	unaudited []chgRecord // changes without an audited record, in order
	notes     []string    // what load repaired, for the start record
}

// A chgRecord is a change record as read back: its number, the audit
// log's end before it, and its audit records.
type chgRecord struct {
	seq      uint64
	auditEnd int64
	recs     []AuditRecord
}

func chgHeader(epoch uint64, gen string, from uint64) []byte {
	b := append([]byte(chgMagic), chgVersion)
	b = binary.BigEndian.AppendUint64(b, epoch)
	b = append(b, byte(len(gen)))
	b = append(b, gen...)
	b = binary.BigEndian.AppendUint64(b, from)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

func chgHeaderSum(epoch uint64, gen string, from uint64) [32]byte {
	h := chgHeader(epoch, gen, from)
	return [32]byte(h[len(h)-chgSumLen:])
}

// appendChgRecord appends the record of body to b, chained to *sum, and
// moves *sum to its checksum.
func appendChgRecord(b []byte, sum *[32]byte, body []byte) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint64(b, uint64(len(body)))
	b = append(b, body...)
	*sum = chgChain(*sum, b[start:])
	return append(b, sum[:]...)
}

func chgChain(prev [32]byte, rec []byte) [32]byte {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(rec)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func chgChangeBody(seq uint64, auditEnd int64, recs []AuditRecord, change []byte) []byte {
	b := binary.BigEndian.AppendUint64([]byte{chgChange}, seq)
	b = binary.BigEndian.AppendUint64(b, uint64(auditEnd))
	b = append(b, byte(len(recs)))
	for _, r := range recs {
		b = binary.BigEndian.AppendUint64(b, r.Count)
		b = binary.BigEndian.AppendUint16(b, uint16(len(r.Detail)))
		b = append(b, r.Detail...)
	}
	return append(b, change...)
}

// readChgHeader reads a journal's header: its epoch, line, first change
// and length, and checksum.
func readChgHeader(data []byte) (epoch uint64, gen string, from uint64, n int, sum [32]byte, err error) {
	s := cryptobyte.String(data)
	var magic []byte
	var version uint8
	var g cryptobyte.String
	if !s.ReadBytes(&magic, len(chgMagic)) || string(magic) != chgMagic || !s.ReadUint8(&version) || version != chgVersion ||
		!s.ReadUint64(&epoch) || !s.ReadUint8LengthPrefixed(&g) || !s.ReadUint64(&from) {
		return 0, "", 0, 0, sum, errors.New("not a journal header of this version")
	}
	n = len(data) - len(s)
	if len(s) < chgSumLen || sha256.Sum256(data[:n]) != [32]byte(s[:chgSumLen]) {
		return 0, "", 0, 0, sum, errors.New("journal header checksum mismatch")
	}
	return epoch, string(g), from, n + chgSumLen, [32]byte(s[:chgSumLen]), nil
}

// replayJournal reads epoch-N.chg for the publisher pub, restored from
// epoch-N.pub of line gen that includes the changes up to applied, and
// applies its changes after applied. It returns what the node needs to
// append to it, and what it found to repair.
func (n *Node) replayJournal(epoch uint64, pub *match.Publisher, gen string, applied uint64) (*journal, error) {
	jr := &journal{gen: gen, from: applied, applied: applied, seq: applied, mark: pub.Mark(),
		sum: chgHeaderSum(epoch, gen, applied)} // of the journal to write, if there is none
	name := chgFile(epoch)
	data, err := n.store.read(name)
	if errors.Is(err, os.ErrNotExist) {
		jr.notes = append(jr.notes, "made the missing "+name)
		return jr, nil
	}
	if err != nil {
		return nil, err
	}
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCorruptState, name, fmt.Sprintf(format, args...))
	}
	e, g, from, off, sum, err := readChgHeader(data)
	switch {
	case err != nil:
		return nil, corrupt("%v", err)
	case e != epoch:
		return nil, corrupt("the journal of epoch %d", e)
	case g != gen:
		// A publication wrote epoch-N.pub, and stopped before it replaced
		// the journal of the line before.
		jr.notes = append(jr.notes, "replaced "+name+" of an earlier publication")
		return jr, nil
	case from > applied:
		return nil, corrupt("starts after change %d, its state includes only up to %d", from, applied)
	}
	jr.from, jr.seq, jr.sum = from, from, sum
	torn := false
	for off < len(data) {
		rest := data[off:]
		// A record that does not fit, or fails its checksum, with nothing
		// after it, is one a crash cut short.
		if len(rest) < 8 {
			torn = true
			break
		}
		l := binary.BigEndian.Uint64(rest)
		if l > uint64(len(rest)) || 8+int(l)+chgSumLen > len(rest) {
			torn = true
			break
		}
		rec := rest[:8+int(l)+chgSumLen]
		body := rec[8 : 8+l]
		next := chgChain(jr.sum, rec[:8+l])
		if next != [32]byte(rec[8+l:]) {
			if len(rec) == len(rest) {
				torn = true
				break
			}
			return nil, corrupt("record at offset %d: checksum mismatch", off)
		}
		if err := jr.replay(pub, body); err != nil {
			return nil, corrupt("record at offset %d: %v", off, err)
		}
		jr.sum = next
		off += len(rec)
	}
	if jr.seq < applied {
		return nil, corrupt("ends at change %d, its state includes up to %d", jr.seq, applied)
	}
	jr.size, jr.ok, jr.mark = int64(off), !torn, pub.Mark()
	if torn {
		jr.notes = append(jr.notes, "cut an incomplete last record of "+name)
	}
	return jr, nil
}

// replay reads the body of one record of the journal: a change, applied
// to pub if the state does not include it, or an audited record.
func (jr *journal) replay(pub *match.Publisher, body []byte) error {
	s := cryptobyte.String(body)
	var kind uint8
	var seq uint64
	if !s.ReadUint8(&kind) || !s.ReadUint64(&seq) {
		return errors.New("truncated record")
	}
	switch kind {
	case chgChange:
		if seq != jr.seq+1 {
			return fmt.Errorf("change %d after change %d", seq, jr.seq)
		}
		c := chgRecord{seq: seq}
		var end uint64
		var count uint8
		if !s.ReadUint64(&end) || !s.ReadUint8(&count) {
			return errors.New("truncated change record")
		}
		c.auditEnd = int64(end)
		for range count {
			r := AuditRecord{Type: AuditChange}
			var detail cryptobyte.String
			if !s.ReadUint64(&r.Count) || !s.ReadUint16LengthPrefixed(&detail) {
				return errors.New("truncated change record")
			}
			r.Detail = string(detail)
			c.recs = append(c.recs, r)
		}
		if seq > jr.applied {
			if err := pub.ApplyChange(s); err != nil {
				return fmt.Errorf("change %d: %w", seq, err)
			}
		}
		jr.seq = seq
		jr.unaudited = append(jr.unaudited, c)
	case chgAudited:
		i := slices.IndexFunc(jr.unaudited, func(c chgRecord) bool { return c.seq == seq })
		if i < 0 || !s.Empty() {
			return fmt.Errorf("audited record of change %d, which is not journaled or already audited", seq)
		}
		jr.unaudited = slices.Delete(jr.unaudited, i, i+1)
	default:
		return fmt.Errorf("record of unknown kind %d", kind)
	}
	return nil
}

// journalChange journals the change of e's publisher since what is on
// disk as the next change record, with the audit records recs, to which
// it adds the change's number; e's journal then holds it as unaudited,
// for auditChange. It is the change's commit point. opMu is held.
func (n *Node) journalChange(e *epoch, recs []AuditRecord) error {
	jr := e.jr
	if jr == nil || jr.legacy {
		return fmt.Errorf("federation: %s of an earlier release: restart the node to convert it", pubFile(e.number))
	}
	change, mark, err := e.pub.MarshalChange(jr.mark)
	if err != nil {
		return err
	}
	seq := jr.seq + 1
	for i := range recs {
		recs[i].Detail += fmt.Sprintf(", change %d", seq)
	}
	sum := jr.sum
	rec := appendChgRecord(nil, &sum, chgChangeBody(seq, n.audit.end(), recs, change))
	size, err := n.appendJournal(e, rec)
	if err != nil {
		return err
	}
	jr.seq, jr.sum, jr.size, jr.mark = seq, sum, size, mark
	jr.unaudited = append(jr.unaudited, chgRecord{seq: seq, recs: recs})
	return nil
}

// appendJournal appends rec to e's journal, or rewrites the journal with
// its valid records and rec if it cannot be appended to, and returns
// its new size. If it fails, the journal on disk is as it was, or ends
// in part of rec (a torn record) and is no longer appended to.
func (n *Node) appendJournal(e *epoch, rec []byte) (int64, error) {
	jr := e.jr
	name := chgFile(e.number)
	if jr.ok {
		if err := n.store.appendFile(name, rec); err != nil {
			jr.ok = false
			return 0, err
		}
		return jr.size + int64(len(rec)), nil
	}
	prefix := chgHeader(e.number, jr.gen, jr.from) // jr.sum is its checksum (chgHeaderSum)
	if jr.size > 0 {
		data, err := n.store.read(name)
		if err != nil {
			return 0, err
		}
		if int64(len(data)) < jr.size {
			return 0, fmt.Errorf("%w: %s shorter than its records", ErrCorruptState, name)
		}
		prefix = data[:jr.size]
	}
	data := append(prefix, rec...)
	if err := n.store.write(name, data); err != nil {
		return 0, err
	}
	jr.ok = true
	return int64(len(data)), nil
}

// auditChange appends the audit records of e's last change, then its
// audited record, and folds the journal into epoch-N.pub if it has grown
// beyond a quarter of it. It returns the audit log's error: the change
// is served and stays unaudited until the next start. opMu is held.
func (n *Node) auditChange(e *epoch) error {
	jr := e.jr
	c := jr.unaudited[len(jr.unaudited)-1]
	for _, r := range c.recs {
		r.Time = n.cfg.Now()
		if err := n.audit.append(r); err != nil {
			return err
		}
	}
	n.audited(e, c.seq)
	if len(jr.unaudited) == 0 && jr.size > jr.base/compactDivisor {
		if err := n.savePublisher(e, jr.seq); err != nil {
			// The change is on disk and audited; the journal goes on.
			n.log.Error("journal compaction", "epoch", e.number, "err", err)
		}
	}
	return nil
}

// audited appends the audited record of change seq, whose audit records
// are durable, and forgets it as unaudited. A failure is only logged: the
// next start finds the audit records in the log.
func (n *Node) audited(e *epoch, seq uint64) {
	jr := e.jr
	jr.unaudited = slices.DeleteFunc(jr.unaudited, func(c chgRecord) bool { return c.seq == seq })
	sum := jr.sum
	rec := appendChgRecord(nil, &sum, binary.BigEndian.AppendUint64([]byte{chgAudited}, seq))
	size, err := n.appendJournal(e, rec)
	if err != nil {
		n.log.Error("journal", "epoch", e.number, "err", err)
		return
	}
	jr.sum, jr.size = sum, size
}

// repairJournals converts the state files of an earlier release and
// writes the journals that load found missing, of an earlier
// publication, or torn, at start; it returns notes for the start record.
func (n *Node) repairJournals() ([]string, error) {
	var notes []string
	for _, e := range []*epoch{n.current, n.previous} {
		if e == nil || e.jr == nil {
			continue
		}
		jr := e.jr
		notes = append(notes, jr.notes...)
		jr.notes = nil
		switch {
		case jr.legacy:
			if err := n.savePublisher(e, 0); err != nil {
				return nil, err
			}
			notes = append(notes, "rewrote "+pubFile(e.number)+" with a journal")
		case !jr.ok:
			size, err := n.appendJournal(e, nil)
			if err != nil {
				return nil, err
			}
			jr.size = size
		}
	}
	return notes, nil
}

// auditJournals appends, at start, the audit records of the journaled
// changes that a stop kept out of the audit log, then their audited
// records: those the log already holds (the stop came after them) are
// not appended again.
func (n *Node) auditJournals() error {
	for _, e := range []*epoch{n.current, n.previous} {
		if e == nil || e.jr == nil || len(e.jr.unaudited) == 0 {
			continue
		}
		from := e.jr.unaudited[0].auditEnd
		for _, c := range e.jr.unaudited {
			from = min(from, c.auditEnd)
		}
		logged, err := changeDetails(n.store, from, e.number)
		if err != nil {
			return err
		}
		for _, c := range slices.Clone(e.jr.unaudited) {
			for _, r := range c.recs {
				if logged[r.Detail] {
					continue
				}
				r.Time, r.Epoch, r.Detail = n.cfg.Now(), e.number, r.Detail+chgAfterStop
				if err := n.audit.append(r); err != nil {
					return err
				}
			}
			n.audited(e, c.seq)
		}
	}
	return nil
}

// changeDetails returns the details of the change records of epoch in
// the audit log from offset off, a record's start, on. It reads, and does
// not verify: New verified the records after the signed head, and those
// it covers are checked by VerifyAudit.
func changeDetails(s store, off int64, epoch uint64) (map[string]bool, error) {
	r, err := s.readLog(off)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for len(data) >= 4 {
		l := int(binary.BigEndian.Uint32(data))
		if l > maxAuditRecord || len(data) < 4+l+auditTrailer {
			break
		}
		if rec, ok := parseAuditPayload(data[4 : 4+l]); ok && rec.Type == AuditChange && rec.Epoch == epoch {
			// One appended at an earlier start counts: that start stopped
			// before the audited record.
			out[strings.TrimSuffix(rec.Detail, chgAfterStop)] = true
		}
		data = data[4+l+auditTrailer:]
	}
	return out, nil
}

// end returns the offset where the committed records of the log end.
func (a *auditLog) end() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.head.end
}

// encodePublisherFile is the payload of epoch-N.pub: the line, the last
// change included, the count filter's encoding if there is one (then of
// type statePublisherCount), and the publisher's state.
func encodePublisherFile(gen string, applied uint64, count, state []byte) []byte {
	b := append([]byte{byte(len(gen))}, gen...)
	b = binary.BigEndian.AppendUint64(b, applied)
	if count != nil {
		b = binary.BigEndian.AppendUint64(b, uint64(len(count)))
		b = append(b, count...)
	}
	return append(b, state...)
}

// decodePublisherFile splits the payload of epoch-N.pub of type typ into
// its line (none in the oldest files), the last change it includes, the
// count filter's encoding (statePublisherCount only; nil otherwise) and
// the publisher's state.
func decodePublisherFile(typ stateType, pb []byte) (gen string, applied uint64, count, state []byte, ok bool) {
	if typ == statePublisher {
		return "", 0, nil, pb, true
	}
	s := cryptobyte.String(pb)
	var g cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&g) || !validGeneration(string(g)) {
		return "", 0, nil, nil, false
	}
	journaled := typ == statePublisherJournal || typ == statePublisherCount
	if journaled && (len(g) == 0 || !s.ReadUint64(&applied)) {
		return "", 0, nil, nil, false
	}
	if typ == statePublisherCount {
		var l uint64
		if !s.ReadUint64(&l) || l == 0 || l > uint64(len(s)) || !s.ReadBytes(&count, int(l)) {
			return "", 0, nil, nil, false
		}
	}
	return string(g), applied, count, s, true
}

// decodeCountFilter decodes the count filter kept in epoch-N.pub (nil if
// b is) and checks it against the epoch's publisher: a count filter of
// the same epoch and validity as its filter, under its count key.
func decodeCountFilter(b []byte, pub *match.Publisher) (*match.Filter, error) {
	if b == nil {
		return nil, nil
	}
	f := pub.Filter()
	var cf match.Filter
	if err := cf.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("count filter: %v", err)
	}
	switch {
	case !cf.IsCount():
		return nil, errors.New("count filter: a filter of another type")
	case cf.Epoch() != f.Epoch() || cf.KeyID() != pub.CountPublicKey().KeyID() || !cf.NotBefore().Equal(f.NotBefore()) || !cf.NotAfter().Equal(f.NotAfter()):
		return nil, fmt.Errorf("count filter: of epoch %d, key %v, not the epoch's count filter", cf.Epoch(), cf.KeyID())
	}
	return &cf, nil
}
