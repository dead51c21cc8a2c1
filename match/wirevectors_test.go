package match

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/cloudflare/circl/group"
)

var update = flag.Bool("update", false, "rewrite testdata/wire_vectors.json")

// wireVector is one frozen exchange: every derived value and every message
// of the protocol, for implementers of PROTOCOL.md in other languages.
type wireVector struct {
	Suite   string `json:"suite"`
	Mode    string `json:"mode"`
	Seed    string `json:"seed"`
	KeyInfo string `json:"keyInfo"`
	SkS     string `json:"skS"`
	PkS     string `json:"pkS"`
	KeyID   string `json:"keyID"`
	Entries []struct {
		Kind      string   `json:"kind"`
		Value     string   `json:"value"`
		Label     string   `json:"label"`
		Input     string   `json:"input"`
		Info      string   `json:"info"`
		Output    string   `json:"output"`
		Tag       string   `json:"tag"`
		Item      string   `json:"item"`
		Locations []uint64 `json:"bloomLocations"`
	} `json:"entries"`
	FPR             float64  `json:"falsePositiveRate"`
	Epoch           uint64   `json:"epoch"`
	Filter          string   `json:"filter"`
	Query           []string `json:"query"`
	QueryKind       string   `json:"queryKind"`
	Blinds          []string `json:"blinds"`
	ChunkSize       int      `json:"chunkSize"`
	ProofR          []string `json:"proofR"`
	EvalRequest     string   `json:"evalRequest"`
	EvalResponse    string   `json:"evalResponse"`
	ConfirmRequest  string   `json:"confirmRequest"`
	ConfirmResponse string   `json:"confirmResponse"`
	Hits            []string `json:"hits"`
}

func scalarOf(s Suite, v uint64) group.Scalar {
	return s.params().group.NewScalar().SetUint64(v)
}

func hexOf(t *testing.T, m binaryCodec) string {
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// makeWireVector runs a fixed exchange with fixed blinds and proof
// randomness.
func makeWireVector(t *testing.T, suite Suite, mode Mode) wireVector {
	v := wireVector{Suite: suite.String(), Mode: mode.String(), FPR: 1e-9, Epoch: 20261121, ChunkSize: 2, QueryKind: "email"}
	seed := bytes.Repeat([]byte{0xa3}, 32)
	v.Seed, v.KeyInfo = hex.EncodeToString(seed), hex.EncodeToString([]byte("fedmatch wire vectors"))
	key, err := DeriveKey(suite, mode, seed, []byte("fedmatch wire vectors"))
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := key.k.MarshalBinary()
	v.SkS, v.PkS, v.KeyID = hex.EncodeToString(sk), hex.EncodeToString(key.Public().Bytes()), key.KeyID().String()

	list := []Entry{
		{Indicator: MustIndicator(KindEmail, "courier@example.org"), Label: "case 1"},
		{Indicator: MustIndicator(KindEmail, "broker@example.net"), Label: "case 2"},
		{Indicator: MustIndicator(KindIPv4, "192.0.2.44"), Label: ""},
	}
	p := mustPublish(t, key, list, &PublishOptions{Mode: mode, FalsePositiveRate: v.FPR, Epoch: v.Epoch})
	sc := newScratch(suite.params())
	for _, e := range list {
		info := kindInfo(e.Indicator.kind.name)
		ev, err := newEvaluator(key, mode, info)
		if err != nil {
			t.Fatal(err)
		}
		in := e.Indicator.appendInput(nil)
		y, err := ev.evaluate(sc, in)
		if err != nil {
			t.Fatal(err)
		}
		tg := deriveTag(y)
		it := deriveItem(tg)
		locs := bloom.Locations(it[:], uint(p.Filter().Hashes()))
		for i := range locs {
			locs[i] %= uint64(p.Filter().Bits())
		}
		if mode != ModePOPRF {
			info = nil
		}
		v.Entries = append(v.Entries, struct {
			Kind      string   `json:"kind"`
			Value     string   `json:"value"`
			Label     string   `json:"label"`
			Input     string   `json:"input"`
			Info      string   `json:"info"`
			Output    string   `json:"output"`
			Tag       string   `json:"tag"`
			Item      string   `json:"item"`
			Locations []uint64 `json:"bloomLocations"`
		}{e.Indicator.kind.name, e.Indicator.value, e.Label, hex.EncodeToString(in), hex.EncodeToString(info),
			hex.EncodeToString(y), hex.EncodeToString(tg[:]), hex.EncodeToString(it[:]), locs})
	}
	v.Filter = hexOf(t, p.Filter())

	q, err := NewQuerier(p.Filter(), &QuerierOptions{ChunkSize: v.ChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	query := []Indicator{
		MustIndicator(KindEmail, "someone@example.com"),
		MustIndicator(KindEmail, "broker@example.net"),
		MustIndicator(KindEmail, "courier@example.org"),
	}
	var blinds []group.Scalar
	for i, ind := range query {
		v.Query = append(v.Query, ind.value)
		s := scalarOf(suite, uint64(1000+i))
		b, _ := s.MarshalBinary()
		v.Blinds = append(v.Blinds, hex.EncodeToString(b))
		blinds = append(blinds, s)
	}
	qu, req, err := q.blind(query, blinds)
	if err != nil {
		t.Fatal(err)
	}
	v.EvalRequest = hexOf(t, req)
	var proofR []group.Scalar
	if mode.verifiable() {
		for c := range numChunks(len(query), v.ChunkSize) {
			s := scalarOf(suite, uint64(4242+c))
			b, _ := s.MarshalBinary()
			v.ProofR = append(v.ProofR, hex.EncodeToString(b))
			proofR = append(proofR, s)
		}
	}
	resp, err := p.evaluate(req, kindInfo(req.kind), proofR)
	if err != nil {
		t.Fatal(err)
	}
	v.EvalResponse = hexOf(t, resp)
	creq, err := qu.Finalize(resp)
	if err != nil {
		t.Fatal(err)
	}
	v.ConfirmRequest = hexOf(t, creq)
	cresp, _, err := p.Confirm(creq)
	if err != nil {
		t.Fatal(err)
	}
	v.ConfirmResponse = hexOf(t, cresp)
	hits, err := qu.Hits(cresp)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		v.Hits = append(v.Hits, h.Indicator.String()+" "+h.Label)
	}
	return v
}

// TestWireVectors regenerates the frozen vectors of PROTOCOL.md and
// compares them with testdata/wire_vectors.json: any change to the wire
// format, the labels or the derivations shows up here. Run with -update
// only for a deliberate format change (with a new format version).
func TestWireVectors(t *testing.T) {
	got := []wireVector{
		makeWireVector(t, SuiteRistretto255, ModePOPRF),
		makeWireVector(t, SuiteP256, ModeVOPRF),
	}
	if len(got[0].Hits) != 2 || !slices.Contains(got[0].Hits, "email:broker@example.net case 2") {
		t.Fatalf("vector exchange hits %v", got[0].Hits)
	}
	enc, err := json.MarshalIndent(got, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	enc = append(enc, '\n')
	const path = "testdata/wire_vectors.json"
	if *update {
		if err := os.WriteFile(path, enc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, want) {
		t.Fatalf("wire vectors changed; diff %s against the regenerated output (go test -run WireVectors -update)", path)
	}
	// The frozen messages decode, and a querier with the frozen blinds
	// gets the frozen hits from the frozen response.
	for _, v := range got {
		for _, m := range []struct {
			hexData string
			dst     binaryDecoder
		}{{v.Filter, new(Filter)}, {v.EvalRequest, new(EvalRequest)}, {v.EvalResponse, new(EvalResponse)},
			{v.ConfirmRequest, new(ConfirmRequest)}, {v.ConfirmResponse, new(ConfirmResponse)}} {
			b, _ := hex.DecodeString(m.hexData)
			if err := m.dst.UnmarshalBinary(b); err != nil {
				t.Errorf("%s/%s frozen %T: %v", v.Suite, v.Mode, m.dst, err)
			}
		}
	}
}
