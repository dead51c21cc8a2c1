package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
// signed head catches; never silence.
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
	})
}

// A failed audit write leaves the log verifiable and the next append
// works. Regression: a failed write left part of a record behind, which
// broke the chain of every later record.
func TestAuditWriteFailure(t *testing.T) {
	dir, key := auditFixture(t)
	fs, err := openFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.close()
	full := true
	s := &faultStore{store: fs, fault: func(op, name string) error {
		if op == "append" && full {
			return errors.New("no space left on device")
		}
		return nil
	}}
	a, _, err := openAudit(s, "node", key)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.append(AuditRecord{Type: AuditEvaluation, Partner: "p"}); err == nil {
		t.Fatal("append to a full disk succeeded")
	}
	full = false
	if err := a.append(AuditRecord{Type: AuditEvaluation, Partner: "p"}); err != nil {
		t.Fatal(err)
	}
	a.close()
	if rep, err := VerifyAudit(dir, "node", key.Public().(ed25519.PublicKey)); err != nil || rep.Records != 6 {
		t.Fatalf("after a failed append: %+v, %v", rep, err)
	}
}
