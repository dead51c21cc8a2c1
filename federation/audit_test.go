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

// TestCorruptState: a node refuses to start on a state directory whose
// files are corrupted, truncated, foreign or another node's, and says so;
// it never starts afresh over them.
func TestCorruptState(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 10), "L"), nil}, nil)
	tn.publishAll()
	node := tn.nodes[0]
	node.Close()
	dir := node.cfg.StateDir
	for _, name := range []string{nodeStateFile, keyFile(1), pubFile(1), budgetsFile, auditHeadFile} {
		orig, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			if name == budgetsFile {
				continue // no evaluation yet
			}
			t.Fatal(err)
		}
		for what, data := range map[string][]byte{
			"flipped":   flipByte(orig, len(orig)/2),
			"truncated": orig[:len(orig)-10],
			"foreign":   []byte("#!/bin/sh\necho hello\n"),
			"empty":     {},
		} {
			os.WriteFile(filepath.Join(dir, name), data, 0o600)
			if _, err := New(node.cfg); !errors.Is(err, ErrCorruptState) && !errors.As(err, new(*AuditError)) {
				t.Errorf("%s %s: %v, want ErrCorruptState", what, name, err)
			}
		}
		os.WriteFile(filepath.Join(dir, name), orig, 0o600)
	}
	// A directory held by a running node.
	held, err := New(node.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(node.cfg); !errors.Is(err, ErrStateInUse) {
		t.Errorf("second node on one directory: %v", err)
	}
	held.Close()
	// Another node's state directory.
	cfg := *node.cfg
	cfg.ID = "agency-9"
	if _, err := New(&cfg); err == nil {
		t.Error("a node started on another node's state")
	}
	// The untouched directory still loads.
	n, err := New(node.cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	// State files are private.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", e.Name(), info.Mode())
		}
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode %v", info.Mode())
	}
}

func flipByte(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x40
	return c
}
