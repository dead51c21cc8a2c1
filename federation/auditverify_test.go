package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// auditRecords splits an audit log into its records.
func auditRecords(data []byte) [][]byte {
	var recs [][]byte
	for off := 0; off < len(data); {
		n := int(binary.BigEndian.Uint32(data[off:]))
		end := off + 4 + n + 32 + 64
		recs = append(recs, data[off:end])
		off = end
	}
	return recs
}

// TestAuditTampering edits a real audit log in every way and checks that
// VerifyAudit says where.
func TestAuditTampering(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 10), "L"), nil}, nil)
	tn.publishAll()
	for range 3 {
		if r := tn.nodes[1].Match(context.Background(), emails(t, "x", 5, 10))[0]; r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	node := tn.nodes[0]
	pub := node.cfg.Identity.Public().(ed25519.PublicKey)
	rep, err := VerifyAudit(node.cfg.StateDir, node.cfg.ID, pub)
	if err != nil || rep.Records < 8 || rep.Signed != rep.Records || rep.Torn {
		t.Fatalf("genuine log: %+v, %v", rep, err)
	}
	logData, _ := os.ReadFile(filepath.Join(node.cfg.StateDir, auditFile))
	headData, _ := os.ReadFile(filepath.Join(node.cfg.StateDir, auditHeadFile))
	recs := auditRecords(logData)
	if uint64(len(recs)) != rep.Records {
		t.Fatalf("%d records split, %d verified", len(recs), rep.Records)
	}
	flip := func(rec []byte, at int) []byte {
		r := bytes.Clone(rec)
		r[at] ^= 1
		return r
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	forged := func() []byte {
		// A record appended with the right chain hash but no valid
		// signature.
		last := recs[len(recs)-1]
		var prev [32]byte
		copy(prev[:], last[len(last)-96:len(last)-64])
		r := AuditRecord{Seq: uint64(len(recs)), Type: AuditEvaluation, Partner: "agency-1", Count: 1}
		p := r.payload()
		h := chain(prev, p)
		out := binary.BigEndian.AppendUint32(nil, uint32(len(p)))
		out = append(append(out, p...), h[:]...)
		return append(out, ed25519.Sign(otherKey, append([]byte(labelAuditRec), h[:]...))...)
	}()
	for _, c := range []struct {
		name   string
		log    [][]byte
		head   []byte // nil: keep; empty: delete
		want   string
		record uint64
	}{
		{"edited payload", replace(recs, 3, flip(recs[3], 20)), nil, "hash chain", 3},
		{"edited hash", replace(recs, 3, flip(recs[3], len(recs[3])-70)), nil, "hash chain", 3},
		{"edited signature", replace(recs, 3, flip(recs[3], len(recs[3])-5)), nil, "signature", 3},
		{"deleted record", slices.Delete(slices.Clone(recs), 2, 3), nil, "hash chain", 2},
		{"deleted last record", recs[:len(recs)-1], nil, "removed", uint64(len(recs) - 1)},
		{"deleted everything", nil, nil, "removed", 0},
		{"inserted record", slices.Insert(slices.Clone(recs), 2, recs[1]), nil, "hash chain", 2},
		{"reordered records", swap(recs, 2, 3), nil, "hash chain", 2},
		{"forged record", append(slices.Clone(recs), forged), nil, "signature", uint64(len(recs))},
		{"missing head", recs, []byte{}, "audit.head is missing", 0},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, auditFile), bytes.Join(c.log, nil), 0o600)
		switch {
		case c.head == nil:
			os.WriteFile(filepath.Join(dir, auditHeadFile), headData, 0o600)
		case len(c.head) > 0:
			os.WriteFile(filepath.Join(dir, auditHeadFile), c.head, 0o600)
		}
		_, err := VerifyAudit(dir, node.cfg.ID, pub)
		var ae *AuditError
		if !errors.As(err, &ae) || !strings.Contains(ae.Reason, c.want) || ae.Record != c.record {
			t.Errorf("%s: %v, want an AuditError at record %d (%s)", c.name, err, c.record, c.want)
		}
	}
	// A head edited or swapped for another node's is refused too.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, auditFile), logData, 0o600)
	os.WriteFile(filepath.Join(dir, auditHeadFile), flip(headData, 20), 0o600)
	if _, err := VerifyAudit(dir, node.cfg.ID, pub); !errors.Is(err, ErrCorruptState) {
		t.Errorf("edited head: %v", err)
	}
	// Another node's log does not verify under this node's identity.
	if _, err := VerifyAudit(tn.nodes[1].cfg.StateDir, node.cfg.ID, pub); err == nil {
		t.Error("another node's log verified")
	}
	// A torn last record (a crash during an append) is not tampering: it
	// is reported, and cut when the node starts.
	os.WriteFile(filepath.Join(dir, auditHeadFile), headData, 0o600)
	os.WriteFile(filepath.Join(dir, auditFile), append(bytes.Clone(logData), recs[1][:30]...), 0o600)
	if rep, err := VerifyAudit(dir, node.cfg.ID, pub); err != nil || !rep.Torn {
		t.Errorf("torn tail: %+v, %v", rep, err)
	}
	// A directory without a log is an error, not "0 records". Regression:
	// a wrong or missing state directory verified.
	for _, d := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		if _, err := VerifyAudit(d, node.cfg.ID, pub); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("no audit log: %v", err)
		}
		if _, err := ReadAudit(d, node.cfg.ID, pub); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("no audit log, read: %v", err)
		}
	}
	// No record holds an indicator value.
	if bytes.Contains(logData, []byte("example.org")) {
		t.Error("the audit log holds an indicator")
	}
}

func replace(recs [][]byte, i int, r []byte) [][]byte {
	out := slices.Clone(recs)
	out[i] = r
	return out
}

func swap(recs [][]byte, i, j int) [][]byte {
	out := slices.Clone(recs)
	out[i], out[j] = out[j], out[i]
	return out
}

// auditFixture writes a real audit log of a few records to a directory.
func auditFixture(t testing.TB) (dir string, key ed25519.PrivateKey) {
	dir = t.TempDir()
	_, key, _ = ed25519.GenerateKey(rand.Reader)
	s, err := openFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	a, _, err := openAudit(s, "node", key)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := a.append(AuditRecord{Time: time.Unix(int64(i), 0), Type: AuditEvaluation, Partner: "p", Epoch: 1, Count: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	a.close()
	return dir, key
}

// TestAuditTruncated cuts the log at every length: a cut inside a record
// is a torn tail (a crash), a cut at a record boundary is a removal the
// signed head catches; never silence, from VerifyAudit or at a node's
// start.
func TestAuditTruncated(t *testing.T) {
	dir, key := auditFixture(t)
	pub := key.Public().(ed25519.PublicKey)
	data, _ := os.ReadFile(filepath.Join(dir, auditFile))
	head, _ := os.ReadFile(filepath.Join(dir, auditHeadFile))
	for n := range len(data) {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, auditFile), data[:n], 0o600)
		os.WriteFile(filepath.Join(d, auditHeadFile), head, 0o600)
		_, err := VerifyAudit(d, "node", pub)
		var ae *AuditError
		if !errors.As(err, &ae) {
			t.Fatalf("cut at %d of %d: %v", n, len(data), err)
		}
		m := newMemStore()
		m.log, m.files[auditHeadFile] = data[:n], head
		if _, _, err := openAudit(m, "node", key); !errors.As(err, &ae) {
			t.Fatalf("start on a log cut at %d of %d: %v", n, len(data), err)
		}
	}
}

func FuzzAuditLog(f *testing.F) {
	dir, key := auditFixture(f)
	data, _ := os.ReadFile(filepath.Join(dir, auditFile))
	head, _ := os.ReadFile(filepath.Join(dir, auditHeadFile))
	f.Add(data, head)
	pub := key.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, log, h []byte) {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, auditFile), log, 0o600)
		os.WriteFile(filepath.Join(d, auditHeadFile), h, 0o600)
		rep, err := VerifyAudit(d, "node", pub)
		if err == nil && rep.Records > 5 {
			t.Fatalf("%d records verified; only 5 were signed", rep.Records)
		}
		// A node's start, from the head, no more.
		m := newMemStore()
		m.log, m.files[auditHeadFile] = bytes.Clone(log), bytes.Clone(h)
		if _, sum, err := openAudit(m, "node", key); err == nil && sum.records > 5 {
			t.Fatalf("%d records at start; only 5 were signed", sum.records)
		}
	})
}

// readCounter is a store that counts the bytes read from its log.
type readCounter struct {
	store
	bytes atomic.Int64
}

func (r *readCounter) readLog(off int64) (io.ReadCloser, error) {
	rc, err := r.store.readLog(off)
	if err != nil {
		return nil, err
	}
	return &countingReader{rc, &r.bytes}, nil
}

type countingReader struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// testRecords are n records of every kind, over a few epochs.
func testRecords(n int) []AuditRecord {
	recs := make([]AuditRecord, n)
	for i := range recs {
		e := uint64(1 + i/50)
		recs[i] = AuditRecord{Time: time.Unix(int64(i), 0), Type: AuditType(1 + i%7), Partner: "agency-1", Epoch: e, Count: uint64(i)}
	}
	return recs
}

// writeTestLog writes records to the empty store s with their head, as
// appends would but faster (one write), and returns the head.
func writeTestLog(t testing.TB, s store, key ed25519.PrivateKey, recs []AuditRecord) checkpoint {
	t.Helper()
	c := start("node")
	var b []byte
	for _, r := range recs {
		b = c.appendRecord(b, r, key)
	}
	if err := s.appendLog(b); err != nil {
		t.Fatal(err)
	}
	if err := writeState(s, auditHeadFile, stateAuditCheckpoint, c.sign("node", key)); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAuditStartBounded: a node's start reads the head and the end of the
// last record it covers, not the log: what it learns of the records (their
// number, the last rotation, the last evaluations) comes from the signed
// head, and agrees with the records. Records appended after the head (a
// crash before the head was written) are verified, and the head is signed
// again over them. Regression: the start read the whole log into memory
// and verified every record, so that a log grown by a partner's requests
// made every start slower.
func TestAuditStartBounded(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	m := newMemStore()
	recs := testRecords(2000)
	writeTestLog(t, m, key, recs[:1990])
	rc := &readCounter{store: m.reopen()}
	a, sum, err := openAudit(rc, "node", key)
	if err != nil {
		t.Fatal(err)
	}
	if n := rc.bytes.Load(); n > auditTrailer {
		t.Errorf("start read %d bytes of the log", n)
	}
	want := auditSummary{records: 1990, rotated: 40, evaluated: map[uint64]bool{40: true, 39: true}}
	if sum.records != want.records || sum.rotated != want.rotated || len(sum.evaluated) != 2 || !sum.evaluated[40] || !sum.evaluated[39] {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	// Ten records after the head, as a crash before the head leaves them.
	var b []byte
	c := a.head
	for _, r := range recs[1990:] {
		b = c.appendRecord(b, r, key)
	}
	if err := rc.appendLog(b); err != nil {
		t.Fatal(err)
	}
	rc.bytes.Store(0)
	if _, sum, err = openAudit(rc, "node", key); err != nil || sum.records != 2000 {
		t.Fatalf("start with records after the head: %+v, %v", sum, err)
	}
	if n := rc.bytes.Load(); n != auditTrailer+int64(len(b)) {
		t.Errorf("start read %d bytes, want the head's record's end and the %d bytes after it", n, len(b))
	}
	rc.bytes.Store(0)
	if _, sum, err = openAudit(rc, "node", key); err != nil || sum.records != 2000 || rc.bytes.Load() != auditTrailer {
		t.Fatalf("start after the head was signed again: %+v, %v; read %d bytes", sum, err, rc.bytes.Load())
	}
	// What the head says agrees with the records, checked by a full scan.
	if sc, err := scanAudit(rc, "node", key.Public().(ed25519.PublicKey), nil); err != nil || sc.cp.rotated != 40 || sc.cp.evaluated != [2]uint64{40, 39} {
		t.Fatalf("full scan: %+v, %v", sc, err)
	}
}

// TestAuditVerifyStreams: VerifyAudit reads the log as a stream: when it
// verifies a record it has read at most a buffer's worth past it.
// Regression: it read the whole log into memory first, about 1.5 times
// the log's size for a log of any length.
func TestAuditVerifyStreams(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	m := newMemStore()
	recs := testRecords(3000)
	writeTestLog(t, m, key, recs)
	rc := &readCounter{store: m}
	var end, worst int64
	sc, err := scanAudit(rc, "node", key.Public().(ed25519.PublicKey), func(r AuditRecord) {
		end += int64(4 + len(r.payload()) + auditTrailer)
		worst = max(worst, rc.bytes.Load()-end)
	})
	if err != nil || sc.report.Records != 3000 {
		t.Fatalf("%+v, %v", sc.report, err)
	}
	if worst > 64<<10 {
		t.Errorf("read %d bytes ahead of the record verified; the log is %d bytes", worst, end)
	}
}

// TestAuditStartChecks: what a node's start refuses, and what it leaves
// to VerifyAudit.
func TestAuditStartChecks(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	m := newMemStore()
	head := writeTestLog(t, m, key, testRecords(20))
	log, _ := readAll(m)
	last := int(head.end)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	otherHead := (&head).sign("node", otherKey)
	flip := func(i int) []byte {
		b := bytes.Clone(log)
		b[i] ^= 1
		return b
	}
	for _, c := range []struct {
		name string
		log  []byte
		head []byte // nil: keep
		want string // "": the start succeeds
	}{
		{"cut short", log[:last-1], nil, "records were removed"},
		{"cut by 200 bytes", log[:last-200], nil, "records were removed"},
		{"last record's hash edited", flip(last - auditTrailer), nil, "does not match the signed head"},
		{"last record's signature edited", flip(last - 1), nil, "does not match the signed head"},
		{"forged record after the head", append(bytes.Clone(log), forgedRecord(head, otherKey)...), nil, "signature does not verify"},
		{"head of another identity", log, otherHead, "audit.head signature"},
		{"torn record after the head", append(bytes.Clone(log), 0, 0, 0), nil, ""},
		// The start takes the records the head covers on the head's
		// signature: VerifyAudit finds this one.
		{"earlier record edited", flip(100), nil, ""},
	} {
		s := m.reopen()
		s.log = c.log
		if c.head != nil {
			s.files[auditHeadFile] = encodeState(stateAuditCheckpoint, c.head)
		}
		_, sum, err := openAudit(s, "node", key)
		switch {
		case c.want == "" && (err != nil || sum.records != 20):
			t.Errorf("%s: start: %+v, %v", c.name, sum, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: start: %v, want an error saying %q", c.name, err, c.want)
		}
		if _, err := scanAudit(s, "node", pub, nil); c.name == "earlier record edited" && err == nil {
			t.Errorf("%s: the full scan missed it", c.name)
		}
	}
}

// forgedRecord is a record that continues the chain after c, signed by
// another key.
func forgedRecord(c checkpoint, key ed25519.PrivateKey) []byte {
	return c.appendRecord(nil, AuditRecord{Type: AuditEvaluation, Partner: "agency-1", Count: 1}, key)
}

// TestAuditLegacyHead: a log whose head is of the earlier type (5: seq,
// hash) verifies, and a node starting on it verifies the log from the
// genesis once and signs a head of the current type.
func TestAuditLegacyHead(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	m := newMemStore()
	head := writeTestLog(t, m, key, testRecords(30))
	legacy := func(seq uint64, hash [32]byte) []byte {
		b := binary.BigEndian.AppendUint64(nil, seq)
		b = append(b, hash[:]...)
		return encodeState(stateAuditHead, append(b, ed25519.Sign(key, legacyHeadMessage("node", seq, hash))...))
	}
	m.files[auditHeadFile] = legacy(head.seq, head.hash)
	if sc, err := scanAudit(m, "node", pub, nil); err != nil || sc.report.Signed != 30 {
		t.Fatalf("legacy head: %+v, %v", sc.report, err)
	}
	rc := &readCounter{store: m.reopen()}
	if _, sum, err := openAudit(rc, "node", key); err != nil || sum.records != 30 || sum.rotated != 1 {
		t.Fatalf("start on a legacy head: %+v, %v", sum, err)
	}
	if data, _ := rc.read(auditHeadFile); data[5] != byte(stateAuditCheckpoint) {
		t.Errorf("the legacy head was not replaced: type %d", data[5])
	}
	rc.bytes.Store(0)
	if _, _, err := openAudit(rc, "node", key); err != nil || rc.bytes.Load() != auditTrailer {
		t.Fatalf("second start: %v, read %d bytes", err, rc.bytes.Load())
	}
	// A legacy head that does not match, or says more than the log holds.
	for _, h := range [][]byte{legacy(head.seq, [32]byte{1}), legacy(head.seq+1, head.hash)} {
		s := m.reopen()
		s.files[auditHeadFile] = h
		var ae *AuditError
		if _, _, err := openAudit(s, "node", key); !errors.As(err, &ae) {
			t.Errorf("start on a wrong legacy head: %v", err)
		}
	}
}

// TestCheckpointAdd: what a checkpoint keeps of the records it passes.
func TestCheckpointAdd(t *testing.T) {
	c := start("node")
	for _, r := range []AuditRecord{
		{Type: AuditRotation, Epoch: 3}, {Type: AuditRotation, Epoch: 2}, {Type: AuditEvaluation, Epoch: 2},
		{Type: AuditEvaluation, Epoch: 3}, {Type: AuditEvaluation, Epoch: 3}, {Type: AuditEvaluation, Epoch: 2},
		{Type: AuditEvaluation, Epoch: 1}, {Type: AuditDestruction, Epoch: 9}, {Type: AuditEvaluation, Epoch: 5},
	} {
		c.add(&r, [32]byte{}, 10)
	}
	if c.seq != 9 || c.end != 90 || c.rotated != 3 || c.evaluated != [2]uint64{5, 3} {
		t.Fatalf("%+v", c)
	}
}
