package match

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cloudflare/circl/group"
)

// rfcVectors mirrors the test-vector format of RFC 9497 Appendix A, as
// published in JSON alongside the RFC. testdata/rfc9497_vectors.json holds
// the ristretto255-SHA512 and P256-SHA256 vectors of all three modes.
type rfcVectors struct {
	Identifier string `json:"identifier"`
	Mode       uint8  `json:"mode"`
	Seed       string `json:"seed"`
	KeyInfo    string `json:"keyInfo"`
	SkSm       string `json:"skSm"`
	PkSm       string `json:"pkSm"`
	Vectors    []struct {
		Batch             int    `json:"Batch"`
		Blind             string `json:"Blind"`
		Info              string `json:"Info"`
		BlindedElement    string `json:"BlindedElement"`
		EvaluationElement string `json:"EvaluationElement"`
		Input             string `json:"Input"`
		Output            string `json:"Output"`
		Proof             struct {
			Proof string `json:"proof"`
			R     string `json:"r"`
		} `json:"Proof"`
	} `json:"vectors"`
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unhexList decodes the comma-separated lists of batched vectors.
func unhexList(t *testing.T, s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Split(s, ",") {
		out = append(out, unhex(t, f))
	}
	return out
}

// TestRFC9497Vectors reproduces RFC 9497 Appendix A through fedmatch's own
// paths: DeriveKey for the key pair; the querier's blinding for the
// blinded elements; the publisher's Evaluate, with the vectors' proof
// randomness, for the evaluated elements and the proofs, byte for byte;
// the querier's verification and Finalize for the outputs; and the
// publisher's direct evaluation (used to build filters) for the outputs
// again.
func TestRFC9497Vectors(t *testing.T) {
	data, err := os.ReadFile("testdata/rfc9497_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var all []rfcVectors
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != 6 {
		t.Fatalf("%d vector sets, want 6 (2 suites × 3 modes)", len(all))
	}
	for _, vs := range all {
		var suite Suite
		switch vs.Identifier {
		case "ristretto255-SHA512":
			suite = SuiteRistretto255
		case "P256-SHA256":
			suite = SuiteP256
		default:
			t.Fatalf("unexpected suite %q", vs.Identifier)
		}
		mode, err := modeFromCode(vs.Mode)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(vs.Identifier+"/"+mode.String(), func(t *testing.T) {
			testRFCVectorSet(t, suite, mode, &vs)
		})
	}
}

func testRFCVectorSet(t *testing.T, suite Suite, mode Mode, vs *rfcVectors) {
	sp := suite.params()
	key, err := DeriveKey(suite, mode, unhex(t, vs.Seed), unhex(t, vs.KeyInfo))
	if err != nil {
		t.Fatal(err)
	}
	if sk, _ := key.k.MarshalBinary(); !bytes.Equal(sk, unhex(t, vs.SkSm)) {
		t.Fatalf("skSm = %x, want %s", sk, vs.SkSm)
	}
	if vs.PkSm != "" && !bytes.Equal(key.Public().Bytes(), unhex(t, vs.PkSm)) {
		t.Fatalf("pkSm = %x, want %s", key.Public().Bytes(), vs.PkSm)
	}
	p := mustPublish(t, key, nil, &PublishOptions{Mode: mode})
	q, err := NewQuerier(p.Filter(), &QuerierOptions{InsecureAllowOPRF: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs.Vectors {
		inputs := unhexList(t, v.Input)
		info := unhex(t, v.Info)
		var blinds []group.Scalar
		for _, b := range unhexList(t, v.Blind) {
			s := sp.group.NewScalar()
			if err := s.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			blinds = append(blinds, s)
		}
		if len(inputs) != v.Batch || len(blinds) != v.Batch {
			t.Fatalf("vector %d: batch %d with %d inputs", i, v.Batch, len(inputs))
		}
		qu, req, err := q.blindInputs("rfc", info, inputs, blinds)
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.Join(unhexList(t, v.BlindedElement), nil); !bytes.Equal(req.elems, want) {
			t.Fatalf("vector %d: blinded elements\n got %x\nwant %x", i, req.elems, want)
		}
		var proofR []group.Scalar
		if mode.verifiable() {
			r := sp.group.NewScalar()
			if err := r.UnmarshalBinary(unhex(t, v.Proof.R)); err != nil {
				t.Fatal(err)
			}
			proofR = []group.Scalar{r}
		}
		resp, err := p.evaluate(req, info, proofR)
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.Join(unhexList(t, v.EvaluationElement), nil); !bytes.Equal(resp.elems, want) {
			t.Fatalf("vector %d: evaluated elements\n got %x\nwant %x", i, resp.elems, want)
		}
		if mode.verifiable() && !bytes.Equal(resp.proofs, unhex(t, v.Proof.Proof)) {
			t.Fatalf("vector %d: proof\n got %x\nwant %s", i, resp.proofs, v.Proof.Proof)
		}
		wantOut := unhexList(t, v.Output)
		got := make([][]byte, len(inputs))
		if err := qu.outputs(resp, func(_, j int, y []byte) { got[j] = bytes.Clone(y) }); err != nil {
			t.Fatalf("vector %d: finalize: %v", i, err)
		}
		ev, err := newEvaluator(key, mode, info)
		if err != nil {
			t.Fatal(err)
		}
		sc := newScratch(sp)
		for j := range inputs {
			if !bytes.Equal(got[j], wantOut[j]) {
				t.Errorf("vector %d.%d: finalized output\n got %x\nwant %x", i, j, got[j], wantOut[j])
			}
			y, err := ev.evaluate(sc, inputs[j])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(y, wantOut[j]) {
				t.Errorf("vector %d.%d: direct evaluation\n got %x\nwant %x", i, j, y, wantOut[j])
			}
		}
		if mode.verifiable() {
			// The same response with one proof bit flipped must be refused.
			bad := *resp
			bad.proofs = bytes.Clone(resp.proofs)
			bad.proofs[len(bad.proofs)-1] ^= 1
			qu2, _, err := q.blindInputs("rfc", info, inputs, blinds)
			if err != nil {
				t.Fatal(err)
			}
			err = qu2.outputs(&bad, func(int, int, []byte) {})
			if !errors.Is(err, ErrInvalidProof) {
				t.Errorf("vector %d: flipped proof bit: got %v, want ErrInvalidProof", i, err)
			}
		}
	}
}
