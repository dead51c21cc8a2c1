package indicator_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/fedmatch/fedmatch/internal/vectors"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// The canonicalization vectors (testdata/vectors.json) are made from the
// cases of vectorCases by this implementation. TestVectors makes them
// again and fails on any difference from the file; to change the file on
// purpose (a new case, a rule changed and documented in PROTOCOL.md section 4):
//
//	go test ./match/indicator -run '^TestVectors$' -update-vectors
var updateVectors = flag.Bool("update-vectors", false, "write testdata/vectors.json from vectorCases")

const vectorsFile = "testdata/vectors.json"

// A vectorInput is an input of a vectors case: with region, a phone
// number in a national writing.
type vectorInput struct {
	in, region string
}

// kindCases are the inputs of one kind's vectors: valid ones, which must
// canonicalize, and invalid ones, which must be refused with a reason
// code of their own (not the kind's catch-all "KIND.invalid").
type kindCases struct {
	kind           string
	valid, invalid []vectorInput
}

// Each built-in kind has at least this many valid and invalid cases.
const minValid, minInvalid = 40, 20

func TestVectors(t *testing.T) {
	byKind := map[string]kindCases{}
	for _, kc := range vectorCases {
		if _, dup := byKind[kc.kind]; dup {
			t.Fatalf("kind %s twice in vectorCases", kc.kind)
		}
		byKind[kc.kind] = kc
	}
	made := &vectors.File{
		Description: "fedmatch canonicalization vectors: for every built-in kind, inputs with their canonical value, " +
			"and inputs refused with their reason code. PROTOCOL.md section 4 gives the rules; internal/cmd/vectors compares " +
			"another implementation's results with these.",
		Unicode: indicator.UnicodeVersion,
	}
	for _, k := range indicator.Kinds() {
		kc, ok := byKind[k.Name()]
		if !ok {
			t.Errorf("kind %s has no vectors", k.Name())
			continue
		}
		delete(byKind, k.Name())
		if len(kc.valid) < minValid || len(kc.invalid) < minInvalid {
			t.Errorf("kind %s: %d valid and %d invalid cases, want at least %d and %d", k.Name(), len(kc.valid), len(kc.invalid), minValid, minInvalid)
		}
		kv := vectors.Kind{Kind: k.Name(), Valid: []vectors.Valid{}, Invalid: []vectors.Invalid{}}
		seen := map[vectorInput]bool{}
		for _, c := range kc.valid {
			if seen[c] {
				t.Errorf("%s %q: listed twice", k.Name(), c.in)
			}
			seen[c] = true
			canon, code, err := vectors.Canonicalize(k.Name(), c.in, c.region)
			if err != nil || code != "" {
				t.Errorf("%s %q (region %q): listed valid, refused: %s %v", k.Name(), c.in, c.region, code, err)
				continue
			}
			kv.Valid = append(kv.Valid, vectors.Valid{Input: c.in, Region: c.region, Canonical: canon})
		}
		for _, c := range kc.invalid {
			if seen[c] {
				t.Errorf("%s %q: listed twice", k.Name(), c.in)
			}
			seen[c] = true
			canon, code, err := vectors.Canonicalize(k.Name(), c.in, c.region)
			switch {
			case err != nil:
				t.Errorf("%s %q: %v", k.Name(), c.in, err)
				continue
			case code == "":
				t.Errorf("%s %q (region %q): listed invalid, canonical %q", k.Name(), c.in, c.region, canon)
				continue
			case code == k.Name()+".invalid" || code == "custom":
				t.Errorf("%s %q: refused without a reason code of its own (%s)", k.Name(), c.in, code)
			}
			kv.Invalid = append(kv.Invalid, vectors.Invalid{Input: c.in, Region: c.region, Code: code})
		}
		made.Kinds = append(made.Kinds, kv)
	}
	for name := range byKind {
		t.Errorf("vectorCases has kind %s, which is not built in", name)
	}
	data, err := vectors.Encode(made)
	if err != nil {
		t.Fatal(err)
	}
	if *updateVectors {
		if err := os.WriteFile(vectorsFile, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatalf("%v (make it with -update-vectors)", err)
	}
	if !bytes.Equal(old, data) {
		ref, err := vectors.Read(bytes.NewReader(old))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range vectors.Compare(ref, made) {
			t.Error(d)
		}
		t.Fatalf("%s differs from what this implementation makes of vectorCases; if the change is meant, run with -update-vectors", vectorsFile)
	}
}

// The file's own cases, recomputed through the path another
// implementation's authors use (internal/cmd/vectors -self), agree.
func TestVectorsSelfCheck(t *testing.T) {
	f, err := os.Open(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref, err := vectors.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := vectors.Compute(ref)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := vectors.Compare(ref, got); len(diffs) != 0 {
		t.Fatalf("%d differences, first: %v", len(diffs), diffs[0])
	}
	// And the comparison sees a difference.
	if len(ref.Kinds) > 0 && len(ref.Kinds[0].Valid) > 0 {
		got.Kinds[0].Valid[0].Canonical += "x"
		if diffs := vectors.Compare(ref, got); len(diffs) != 1 {
			t.Fatalf("a changed value: %d differences, want 1", len(diffs))
		}
	}
}
