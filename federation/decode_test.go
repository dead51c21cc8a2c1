package federation

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// Every decoder of bytes from outside (a partner's signed filter) or from
// disk (state files, the audit log) has a truncation test and a fuzz
// target here.

func sampleSignedFilter(t testing.TB) ([]byte, *Partner, time.Time) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	mk, _ := match.GenerateKey(match.SuiteRistretto255)
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var es []match.Entry
	for i := range 20 {
		es = append(es, match.Entry{Indicator: indicator.MustNew(indicator.IPv4, "192.0.2."+string(rune('0'+i%10)))})
	}
	pub, err := match.Publish(mk, func(yield func(match.Entry) bool) {
		for _, e := range es {
			if !yield(e) {
				return
			}
		}
	}, &match.PublishOptions{Epoch: 3, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := signFilter("pub", key, pub.Filter())
	if err != nil {
		t.Fatal(err)
	}
	return signed, &Partner{ID: "pub", Identity: key.Public().(ed25519.PublicKey)}, now
}

func TestSignedFilterTruncated(t *testing.T) {
	signed, p, now := sampleSignedFilter(t)
	for n := range len(signed) {
		if _, err := verifyFilter(signed[:n], p, now); err == nil {
			t.Fatalf("cut at %d of %d: accepted", n, len(signed))
		}
	}
	if _, err := verifyFilter(append(bytes.Clone(signed), 0), p, now); err == nil {
		t.Fatal("trailing byte accepted")
	}
	if _, err := verifyFilter(make([]byte, maxFilterBytes+1), p, now); !errors.Is(err, ErrFilterMalformed) {
		t.Fatalf("oversized: %v", err)
	}
}

func FuzzSignedFilter(f *testing.F) {
	signed, p, now := sampleSignedFilter(f)
	f.Add(signed)
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := verifyFilter(data, p, now)
		if err != nil {
			return
		}
		// Only the genuine bytes verify.
		if !bytes.Equal(data, signed) || fl.Epoch() != 3 {
			t.Fatalf("accepted a filter other than the one signed")
		}
	})
}

func TestStateFileTruncated(t *testing.T) {
	full := encodeState(stateBudgets, (&budgets{used: map[budgetKey]counters{{"p", 1}: {5, 2}}}).encode())
	for n := range len(full) {
		if _, err := decodeState(full[:n], stateBudgets); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("cut at %d: %v", n, err)
		}
	}
	payload, err := decodeState(full, stateBudgets)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(payload) {
		if _, err := decodeBudgets(payload[:n]); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("budgets cut at %d: %v", n, err)
		}
	}
	enc := encodeNodeState("n", schedule{current: epochRef{2, time.Unix(5, 0)}, previous: epochRef{1, time.Unix(1, 0)}, graceUntil: time.Unix(9, 0)})
	for n := range len(enc) {
		if _, _, err := decodeNodeState(enc[:n]); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("node state cut at %d: %v", n, err)
		}
	}
	if _, got, err := decodeNodeState(enc); err != nil || got.current.number != 2 || got.previous.number != 1 {
		t.Fatalf("node state: %+v, %v", got, err)
	}
	// A declared budgets count far above what the bytes hold is refused
	// before the map is allocated.
	if _, err := decodeBudgets([]byte{0xff, 0xff, 0xff, 0xff}); !errors.Is(err, ErrCorruptState) {
		t.Fatal(err)
	}
}

func FuzzStateFiles(f *testing.F) {
	f.Add(encodeState(stateBudgets, (&budgets{used: map[budgetKey]counters{{"p", 1}: {5, 2}}}).encode()))
	f.Add(encodeState(stateNode, encodeNodeState("n", schedule{current: epochRef{1, time.Unix(1, 0)}})))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []stateType{stateNode, stateBudgets, stateKey, statePublisher, stateAuditHead} {
			payload, err := decodeState(data, typ)
			if err != nil {
				continue
			}
			switch typ {
			case stateNode:
				decodeNodeState(payload)
			case stateBudgets:
				decodeBudgets(payload)
			}
		}
		decodeNodeState(data)
		decodeBudgets(data)
	})
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
