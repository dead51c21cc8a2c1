package federation

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// TestStateFileTruncated: no proper prefix of a state file decodes, nor
// one of another type. (The payloads' own truncation tests are
// TestBudgetsTruncated and TestNodeStateTruncated.)
func TestStateFileTruncated(t *testing.T) {
	full := encodeState(stateBudgets, (&budgets{used: map[budgetKey]counters{{"p", 1}: {5, 2}}}).encode())
	for n := range len(full) {
		if _, err := decodeState(full[:n], stateBudgets); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("cut at %d: %v", n, err)
		}
	}
	if _, err := decodeState(full, stateBudgets); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeState(full, stateNode); !errors.Is(err, ErrCorruptState) {
		t.Fatalf("budgets read as node state: %v", err)
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
