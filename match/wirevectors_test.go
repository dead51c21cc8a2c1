package match

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cloudflare/circl/group"

	"github.com/fedmatch/fedmatch/match/indicator"
)

var update = flag.Bool("update", false, "rewrite testdata/wire_vectors.json")

// wireVector is one frozen exchange: every derived value and every message
// of the protocol, for implementers of PROTOCOL.md in other languages.
type wireVector struct {
	Suite           string      `json:"suite"`
	Mode            string      `json:"mode"`
	Seed            string      `json:"seed"`
	KeyInfo         string      `json:"keyInfo"`
	SkS             string      `json:"skS"`
	PkS             string      `json:"pkS"`
	KeyID           string      `json:"keyID"`
	Entries         []wireEntry `json:"entries"`
	FPR             float64     `json:"falsePositiveRate"`
	Epoch           uint64      `json:"epoch"`
	Filter          string      `json:"filter"`
	Query           []string    `json:"query"`
	QueryKind       string      `json:"queryKind"`
	Blinds          []string    `json:"blinds"`
	ChunkSize       int         `json:"chunkSize"`
	ProofR          []string    `json:"proofR"`
	EvalRequest     string      `json:"evalRequest"`
	EvalResponse    string      `json:"evalResponse"`
	ConfirmRequest  string      `json:"confirmRequest"`
	ConfirmResponse string      `json:"confirmResponse"`
	Hits            []string    `json:"hits"`
}

type wireEntry struct {
	Kind      string   `json:"kind"`
	Value     string   `json:"value"`
	Label     string   `json:"label"`
	Input     string   `json:"input"`
	Info      string   `json:"info"`
	Output    string   `json:"output"`
	Tag       string   `json:"tag"`
	Seed      string   `json:"seed"` // the tag's filter seed (PROTOCOL.md 1.4)
	Positions []uint64 `json:"bitPositions"`
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
	v := wireVector{Suite: suite.String(), Mode: mode.String(), FPR: 1e-9, Epoch: 20261121, ChunkSize: MinChunkSize, QueryKind: "email"}
	seed := bytes.Repeat([]byte{0xa3}, 32)
	v.Seed, v.KeyInfo = hex.EncodeToString(seed), hex.EncodeToString([]byte("fedmatch wire vectors"))
	key, err := DeriveKey(suite, mode, seed, []byte("fedmatch wire vectors"))
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := key.k.MarshalBinary()
	v.SkS, v.PkS, v.KeyID = hex.EncodeToString(sk), hex.EncodeToString(key.Public().Bytes()), key.KeyID().String()

	list := []Entry{
		{Indicator: indicator.MustNew(indicator.Email, "courier@example.org"), Label: "case 1"},
		{Indicator: indicator.MustNew(indicator.Email, "broker@example.net"), Label: "case 2"},
		{Indicator: indicator.MustNew(indicator.IPv4, "192.0.2.44"), Label: ""},
	}
	p := mustPublish(t, key, list, &PublishOptions{Mode: mode, FalsePositiveRate: v.FPR, Epoch: v.Epoch})
	sc := newScratch(suite.params())
	for _, e := range list {
		info := kindInfo(e.Indicator.Kind().Name())
		ev, err := newEvaluator(key, mode, info)
		if err != nil {
			t.Fatal(err)
		}
		in := appendInput(nil, e.Indicator)
		y, err := ev.evaluate(sc, in)
		if err != nil {
			t.Fatal(err)
		}
		tg := deriveTag(y)
		sd := deriveSeed(tg)
		locs := slices.Clone(newPositioner().positions(tg, uint64(p.Filter().Bits()), p.Filter().Hashes()))
		if mode != ModePOPRF {
			info = nil
		}
		v.Entries = append(v.Entries, wireEntry{e.Indicator.Kind().Name(), e.Indicator.Value(), e.Label,
			hex.EncodeToString(in), hex.EncodeToString(info), hex.EncodeToString(y), hex.EncodeToString(tg[:]), hex.EncodeToString(sd[:]), locs})
	}
	v.Filter = hexOf(t, p.Filter())

	q, err := NewQuerier(p.Filter(), &QuerierOptions{ChunkSize: v.ChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	// 20 indicators in two chunks (16 + 4), two of them shared, one in
	// each chunk.
	var query []indicator.Indicator
	for i := range 20 {
		switch i {
		case 5:
			query = append(query, indicator.MustNew(indicator.Email, "broker@example.net"))
		case 17:
			query = append(query, indicator.MustNew(indicator.Email, "courier@example.org"))
		default:
			query = append(query, indicator.MustNew(indicator.Email, fmt.Sprintf("someone%d@example.com", i)))
		}
	}
	var blinds []group.Scalar
	for i, ind := range query {
		v.Query = append(v.Query, ind.Value())
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
		v.Hits = append(v.Hits, h.Indicator.String()+" "+oneLabel(h))
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
	checkVectorFile(t, "testdata/wire_vectors.json", "WireVectors", got)
	for _, v := range got {
		checkFrozen(t, v)
	}
}

// checkVectorFile compares v, as indented JSON, with the frozen file at
// path, after rewriting the file with -update; test names the test that
// regenerates it.
func checkVectorFile(t *testing.T, path, test string, v any) {
	t.Helper()
	enc, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	enc = append(enc, '\n')
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
		t.Fatalf("%s changed; diff it against the regenerated output (go test -run %s ./match -args -update)", path, test)
	}
}

// checkFrozen checks a frozen vector against PROTOCOL.md independently of
// the code that produced it: the input and info framing, the tag and the
// bit positions recomputed from their definitions; every message decodes
// and re-encodes to the same bytes; the confirm request carries the tags
// of the shared entries, and the confirm response their labels.
func checkFrozen(t *testing.T, v wireVector) {
	m, k := filterParams(t, v.Filter)
	tagOf := map[string]wireEntry{}
	for _, e := range v.Entries {
		wantIn := "fedmatch-v1/" + e.Kind + "\x00" + e.Value
		if in, _ := hex.DecodeString(e.Input); string(in) != wantIn {
			t.Errorf("%s: input %q, want %q", v.Suite, in, wantIn)
		}
		y, _ := hex.DecodeString(e.Output)
		sum := sha256.Sum256(append([]byte("fedmatch-v1 confirm tag"), y...))
		if hex.EncodeToString(sum[:16]) != e.Tag {
			t.Errorf("%s: tag of %s is not SHA-256(label || y)[:16]", v.Suite, e.Value)
		}
		tg, _ := hex.DecodeString(e.Tag)
		sd := sha256.Sum256(append([]byte("fedmatch-v1 filter seed"), tg...))
		if hex.EncodeToString(sd[:16]) != e.Seed {
			t.Errorf("%s: seed of %s is not SHA-256(label || tag)[:16]", v.Suite, e.Value)
		}
		xof := sha3.SumSHAKE128(append([]byte("fedmatch-v1 filter bits"), sd[:16]...), 8*k)
		for i, p := range e.Positions {
			if want := binary.BigEndian.Uint64(xof[8*i:]) % m; p != want || len(e.Positions) != k {
				t.Errorf("%s: position %d of %s is %d, want %d", v.Suite, i, e.Value, p, want)
			}
		}
		tagOf[e.Tag] = e
	}
	for _, msg := range []struct {
		hexData string
		dst     interface {
			binaryCodec
			binaryDecoder
		}
	}{{v.Filter, new(Filter)}, {v.EvalRequest, new(EvalRequest)}, {v.EvalResponse, new(EvalResponse)},
		{v.ConfirmRequest, new(ConfirmRequest)}, {v.ConfirmResponse, new(ConfirmResponse)}} {
		b, _ := hex.DecodeString(msg.hexData)
		if err := msg.dst.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s/%s frozen %T: %v", v.Suite, v.Mode, msg.dst, err)
		}
		if re, _ := msg.dst.MarshalBinary(); !bytes.Equal(re, b) {
			t.Errorf("%s/%s frozen %T re-encodes differently", v.Suite, v.Mode, msg.dst)
		}
	}
	var creq ConfirmRequest
	var cresp ConfirmResponse
	b, _ := hex.DecodeString(v.ConfirmRequest)
	creq.UnmarshalBinary(b)
	b, _ = hex.DecodeString(v.ConfirmResponse)
	cresp.UnmarshalBinary(b)
	var hits []string
	for i := range creq.Len() {
		e, ok := tagOf[hex.EncodeToString(creq.tags[i*tagSize:(i+1)*tagSize])]
		if !ok || !cresp.results[i].hit || strings.Join(cresp.results[i].labels, "") != e.Label {
			t.Errorf("%s: confirm answer %d does not match the entries", v.Suite, i)
			continue
		}
		hits = append(hits, e.Kind+":"+e.Value+" "+e.Label)
	}
	if !slices.Equal(hits, v.Hits) {
		t.Errorf("%s: hits %v, frozen %v", v.Suite, hits, v.Hits)
	}
}

// filterParams reads m and k from an encoded filter by their offsets in
// PROTOCOL.md section 2.1.
func filterParams(t *testing.T, hexFilter string) (uint64, int) {
	b, _ := hex.DecodeString(hexFilter)
	suite, err := suiteFromCode(b[6])
	if err != nil {
		t.Fatal(err)
	}
	off := 6 + 2 + 16 + suite.params().elemLen + 8*4
	return binary.BigEndian.Uint64(b[off:]), int(b[off+8])
}
