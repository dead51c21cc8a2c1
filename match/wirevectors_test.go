package match

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
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

// countVector is one frozen cardinality-only exchange (PROTOCOL.md 2.9):
// the key, the publisher's entries with their evaluated elements N and
// count tags, the count filter, the querier's batch and its one blind,
// the request, the evaluations in request order, the proof randomness,
// the shuffle's seed and the response, and the count.
type countVector struct {
	Suite   string `json:"suite"`
	Mode    string `json:"mode"`
	Seed    string `json:"seed"`
	KeyInfo string `json:"keyInfo"`
	SkS     string `json:"skS"`
	PkS     string `json:"pkS"`
	KeyID   string `json:"keyID"`
	// SkC, PkC and KeyIDC are the count key's, derived from skS
	// (PROTOCOL.md 1.3): the count filter's and the count messages'.
	SkC       string       `json:"skC"`
	PkC       string       `json:"pkC"`
	KeyIDC    string       `json:"keyIDC"`
	Entries   []countEntry `json:"entries"`
	FPR       float64      `json:"falsePositiveRate"`
	Epoch     uint64       `json:"epoch"`
	Filter    string       `json:"countFilter"`
	Query     []string     `json:"query"` // as given, a repeat included
	QueryKind string       `json:"queryKind"`
	Blind     string       `json:"blind"`
	Request   string       `json:"countRequest"`
	// Evaluated is the publisher's evaluation of each request element,
	// in request order, before the shuffle.
	Evaluated   []string `json:"evaluatedInRequestOrder"`
	ProofR      string   `json:"proofR,omitempty"`
	ShuffleSeed string   `json:"shuffleSeed"`
	Response    string   `json:"countResponse"`
	Queried     int      `json:"queried"`
	Shared      int      `json:"shared"`
}

type countEntry struct {
	Kind      string   `json:"kind"`
	Value     string   `json:"value"`
	Input     string   `json:"input"`
	Info      string   `json:"info"`
	Element   string   `json:"evaluatedElement"` // N, the element Finalize hashes
	Output    string   `json:"output"`
	CountElem string   `json:"countElement"` // Nc, the count key's evaluation: what the count tag hashes
	CountTag  string   `json:"countTag"`
	Seed      string   `json:"seed"`
	Positions []uint64 `json:"bitPositions"`
}

// makeCountVector runs a fixed cardinality-only exchange with a fixed
// blind, proof randomness and shuffle seed, under the key of the wire
// vectors of the same suite and mode.
func makeCountVector(t *testing.T, suite Suite, mode Mode) countVector {
	v := countVector{Suite: suite.String(), Mode: mode.String(), FPR: 1e-9, Epoch: 20261122, QueryKind: "email"}
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
		{Indicator: indicator.MustNew(indicator.Email, "mule@example.com"), Label: "case 3"},
		{Indicator: indicator.MustNew(indicator.IPv4, "192.0.2.44"), Label: ""},
	}
	p := mustPublish(t, key, list, &PublishOptions{Mode: mode, FalsePositiveRate: v.FPR, Epoch: v.Epoch, Count: true})
	cf := p.CountFilter()
	skc, _ := p.countKey.k.MarshalBinary()
	v.SkC, v.PkC, v.KeyIDC = hex.EncodeToString(skc), hex.EncodeToString(p.countKey.Public().Bytes()), p.countKey.KeyID().String()
	sc := newScratch(suite.params())
	for _, e := range list {
		info := kindInfo(e.Indicator.Kind().Name())
		ev, err := newEvaluator(key, mode, info)
		if err != nil {
			t.Fatal(err)
		}
		cev, err := newEvaluator(p.countKey, mode, info)
		if err != nil {
			t.Fatal(err)
		}
		in := appendInput(nil, e.Indicator)
		y, err := ev.evaluate(sc, in)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := sc.point.Copy().Mul(sc.point, ev.evalKey).MarshalBinaryCompress()
		nc, err := cev.countElement(sc)
		if err != nil {
			t.Fatal(err)
		}
		ct := deriveCountTag(nc)
		sd := deriveSeed(ct)
		locs := slices.Clone(newPositioner().positions(ct, uint64(cf.Bits()), cf.Hashes()))
		if mode != ModePOPRF {
			info = nil
		}
		v.Entries = append(v.Entries, countEntry{e.Indicator.Kind().Name(), e.Indicator.Value(), hex.EncodeToString(in),
			hex.EncodeToString(info), hex.EncodeToString(n), hex.EncodeToString(y), hex.EncodeToString(nc), hex.EncodeToString(ct[:]), hex.EncodeToString(sd[:]), locs})
	}
	v.Filter = hexOf(t, cf)

	q, err := NewQuerier(cf, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Six distinct emails, two of them the publisher's, and one repeated,
	// which the request holds once.
	var query []indicator.Indicator
	for _, s := range []string{"someone1@example.com", "broker@example.net", "someone2@example.com",
		"someone3@example.com", "broker@example.net", "mule@example.com", "someone4@example.com"} {
		query = append(query, indicator.MustNew(indicator.Email, s))
		v.Query = append(v.Query, s)
	}
	blind := scalarOf(suite, 31337)
	b, _ := blind.MarshalBinary()
	v.Blind = hex.EncodeToString(b)
	cq, req, err := q.blindCount(query, blind.Copy())
	if err != nil {
		t.Fatal(err)
	}
	v.Request = hexOf(t, req)
	ev, err := newEvaluator(p.countKey, mode, kindInfo(req.kind))
	if err != nil {
		t.Fatal(err)
	}
	el := suite.params().elemLen
	for i := range req.count {
		c, err := decodeElement(suite.params(), req.elems[i*el:(i+1)*el])
		if err != nil {
			t.Fatal(err)
		}
		d, _ := suite.params().group.NewElement().Mul(c, ev.evalKey).MarshalBinaryCompress()
		v.Evaluated = append(v.Evaluated, hex.EncodeToString(d))
	}
	var proofR group.Scalar
	if mode.verifiable() {
		proofR = scalarOf(suite, 4243)
		b, _ := proofR.MarshalBinary()
		v.ProofR = hex.EncodeToString(b)
	}
	shuffleSeed := bytes.Repeat([]byte{0x5c}, 32)
	v.ShuffleSeed = hex.EncodeToString(shuffleSeed)
	resp, err := p.evaluateCount(req, proofR, bytes.NewReader(shuffleSeed))
	if err != nil {
		t.Fatal(err)
	}
	v.Response = hexOf(t, resp)
	res, err := cq.Count(resp)
	if err != nil {
		t.Fatal(err)
	}
	v.Queried, v.Shared = res.Queried, res.Shared
	return v
}

// TestCountVectors regenerates the frozen count vectors of PROTOCOL.md
// and compares them with testdata/count_vectors.json, then checks them
// against PROTOCOL.md independently of the code that produced them.
func TestCountVectors(t *testing.T) {
	got := []countVector{
		makeCountVector(t, SuiteRistretto255, ModePOPRF),
		makeCountVector(t, SuiteP256, ModeVOPRF),
	}
	for _, v := range got {
		if v.Queried != 6 || v.Shared != 2 {
			t.Fatalf("%s vector counted %d of %d, want 2 of 6", v.Suite, v.Shared, v.Queried)
		}
	}
	checkVectorFile(t, "testdata/count_vectors.json", "CountVectors", got)
	for _, v := range got {
		checkCountFrozen(t, v)
	}
	// PROTOCOL.md quotes the first vector: the count tag of 1.3 and the
	// start of the count response in section 3.
	doc, err := os.ReadFile("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	v := got[0]
	i := slices.IndexFunc(v.Entries, func(e countEntry) bool { return e.Value == "broker@example.net" })
	e := v.Entries[i]
	resp := v.Response
	quoted := []string{
		"Nc       = " + e.CountElem, "countTag = " + e.CountTag, "seed     = " + e.Seed,
		fmt.Sprintf("its positions start %d, %d, %d, %d.", e.Positions[0], e.Positions[1], e.Positions[2], e.Positions[3]),
		strings.Join([]string{resp[:8], resp[8:10], resp[10:12], resp[12:14], resp[14:16], resp[16:48]}, " ") + "\n    " +
			resp[48:56] + " " + resp[56:120] + " ...",
	}
	for _, q := range quoted {
		if !strings.Contains(string(doc), q) {
			t.Errorf("PROTOCOL.md does not quote the count vector: %q", q)
		}
	}
}

// checkCountFrozen checks a frozen count vector with circl's group
// arithmetic and the hashes of PROTOCOL.md alone: each entry's N is the
// element RFC 9497 Finalize hashes to its output; the count tag, seed and
// bit positions follow from N; the request's elements are the blind times
// HashToGroup of the distinct query inputs, in first-seen order; the
// evaluations are the key (POPRF: the inverse of the tweaked key) times
// them, and the response holds them permuted; unblinding the response
// gives the entries' N for the shared values; and as many elements pass
// the count filter as the vector's count. Then the code's Count accepts
// the frozen response (its proof verifies) and counts the same.
func checkCountFrozen(t *testing.T, v countVector) {
	var g group.Group
	var id string
	var hashOf func([]byte) []byte
	switch v.Suite {
	case "ristretto255-SHA512":
		g, id = group.Ristretto255, v.Suite
		hashOf = func(b []byte) []byte { s := sha512.Sum512(b); return s[:] }
	case "P256-SHA256":
		g, id = group.P256, v.Suite
		hashOf = func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
	default:
		t.Fatalf("suite %s", v.Suite)
	}
	modeByte := map[string]byte{"OPRF": 0, "VOPRF": 1, "POPRF": 2}[v.Mode]
	ctx := "OPRFV1-" + string([]byte{modeByte}) + "-" + id
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	elem := func(b []byte) group.Element {
		e := g.NewElement()
		if err := e.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: element %x: %v", v.Suite, b, err)
		}
		return e
	}
	enc := func(e group.Element) string { b, _ := e.MarshalBinaryCompress(); return hex.EncodeToString(b) }
	u16 := func(n int) []byte { return []byte{byte(n >> 8), byte(n)} }

	// The count key: HashToScalar(SerializeScalar(skS)) under the DST
	// "fedmatch-v1 count key", and its public key.
	skS, skC := g.NewScalar(), g.NewScalar()
	if err := skS.UnmarshalBinary(unhex(v.SkS)); err != nil {
		t.Fatal(err)
	}
	if err := skC.UnmarshalBinary(unhex(v.SkC)); err != nil {
		t.Fatal(err)
	}
	if !g.HashToScalar(unhex(v.SkS), []byte("fedmatch-v1 count key")).IsEqual(skC) {
		t.Errorf("%s: skC is not derived from skS", v.Suite)
	}
	if enc(g.NewElement().MulGen(skC)) != v.PkC {
		t.Errorf("%s: pkC is not skC·G", v.Suite)
	}
	// evalScalar is the scalar a key evaluates with: the key, or in POPRF
	// the inverse of the key tweaked by the info (RFC 9497 3.3.3).
	evalScalar := func(sk group.Scalar, info string) group.Scalar {
		if v.Mode != "POPRF" {
			return sk
		}
		framed := append(append([]byte("Info"), u16(len(info))...), info...)
		tw := g.NewScalar().Add(sk, g.HashToScalar(framed, []byte("HashToScalar-"+ctx)))
		return g.NewScalar().Inv(tw)
	}
	m, k := filterParams(t, v.Filter)
	filter := unhex(v.Filter)
	bits := filter[6+2+16+len(unhex(v.PkS))+8*4+9:]
	if filter[5] != 0x13 {
		t.Errorf("%s: count filter of type %#x", v.Suite, filter[5])
	}
	positions := func(ct []byte) []uint64 {
		sd := sha256.Sum256(append([]byte("fedmatch-v1 filter seed"), ct...))
		xof := sha3.SumSHAKE128(append([]byte("fedmatch-v1 filter bits"), sd[:16]...), 8*k)
		var ps []uint64
		for i := range k {
			ps = append(ps, binary.BigEndian.Uint64(xof[8*i:])%m)
		}
		return ps
	}
	passes := func(n []byte) bool {
		ct := sha256.Sum256(append([]byte("fedmatch-v1 count tag"), n...))
		for _, p := range positions(ct[:16]) {
			if bits[p/8]&(1<<(p%8)) == 0 {
				return false
			}
		}
		return true
	}
	nOf := map[string]string{} // value -> N, for the query's kind
	for _, e := range v.Entries {
		in, info, n := unhex(e.Input), unhex(e.Info), unhex(e.Element)
		fin := append(u16(len(in)), in...)
		if v.Mode == "POPRF" {
			fin = append(append(fin, u16(len(info))...), info...)
		}
		fin = append(append(append(fin, u16(len(n))...), n...), "Finalize"...)
		if hex.EncodeToString(hashOf(fin)) != e.Output {
			t.Errorf("%s: the output of %s is not Finalize's hash of N", v.Suite, e.Value)
		}
		nc := unhex(e.CountElem)
		h := g.HashToElement(in, []byte("HashToGroup-"+ctx))
		if enc(g.NewElement().Mul(h, evalScalar(skC, string(unhex(e.Info))))) != e.CountElem {
			t.Errorf("%s: the count element of %s is not the count key's evaluation", v.Suite, e.Value)
		}
		if enc(g.NewElement().Mul(h, evalScalar(skS, string(unhex(e.Info))))) != e.Element {
			t.Errorf("%s: the element of %s is not the key's evaluation", v.Suite, e.Value)
		}
		ct := sha256.Sum256(append([]byte("fedmatch-v1 count tag"), nc...))
		if hex.EncodeToString(ct[:16]) != e.CountTag {
			t.Errorf("%s: count tag of %s is not H(label || Nc)[:16]", v.Suite, e.Value)
		}
		sd := sha256.Sum256(append([]byte("fedmatch-v1 filter seed"), ct[:16]...))
		if hex.EncodeToString(sd[:16]) != e.Seed || !slices.Equal(positions(ct[:16]), e.Positions) {
			t.Errorf("%s: seed or positions of %s", v.Suite, e.Value)
		}
		if !passes(nc) {
			t.Errorf("%s: entry %s is not in the count filter", v.Suite, e.Value)
		}
		if passes(n) {
			t.Errorf("%s: the key's own evaluation of %s passes the count filter", v.Suite, e.Value)
		}
		if e.Kind == v.QueryKind {
			nOf[e.Value] = e.CountElem
		}
	}

	// The request: header, kind, count, blind · HashToGroup(input) of the
	// distinct values in first-seen order.
	req := unhex(v.Request)
	el := len(unhex(v.PkS))
	hdr := append([]byte("FDMT\x01\x11"), filter[6:8]...)
	hdr = append(append(hdr, filter[8:24]...), byte(len(v.QueryKind)))
	hdr = append(hdr, v.QueryKind...)
	var distinctQ []string
	for _, s := range v.Query {
		if !slices.Contains(distinctQ, s) {
			distinctQ = append(distinctQ, s)
		}
	}
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(len(distinctQ)))
	if !bytes.HasPrefix(req, hdr) || len(req) != len(hdr)+len(distinctQ)*el {
		t.Fatalf("%s: count request %x does not start %x or has the wrong length", v.Suite, req, hdr)
	}
	blind := g.NewScalar()
	if err := blind.UnmarshalBinary(unhex(v.Blind)); err != nil {
		t.Fatal(err)
	}
	key := evalScalar(skC, "fedmatch-v1/"+v.QueryKind)
	var evaluated []string
	for i, s := range distinctQ {
		h := g.HashToElement([]byte("fedmatch-v1/"+v.QueryKind+"\x00"+s), []byte("HashToGroup-"+ctx))
		c := g.NewElement().Mul(h, blind)
		if enc(c) != hex.EncodeToString(req[len(hdr)+i*el:len(hdr)+(i+1)*el]) {
			t.Errorf("%s: request element %d is not blind · HashToGroup(%s)", v.Suite, i, s)
		}
		evaluated = append(evaluated, enc(g.NewElement().Mul(c, key)))
	}
	if !slices.Equal(evaluated, v.Evaluated) {
		t.Errorf("%s: evaluations in request order differ", v.Suite)
	}

	// The response: header, count, the evaluations permuted, the proof.
	resp := unhex(v.Response)
	rh := append(append([]byte("FDMT\x01\x12"), filter[6:24]...), binary.BigEndian.AppendUint32(nil, uint32(len(distinctQ)))...)
	proofLen := 0
	if v.Mode != "OPRF" {
		proofLen = 2 * len(unhex(v.SkS))
	}
	if !bytes.HasPrefix(resp, rh) || len(resp) != len(rh)+len(distinctQ)*el+proofLen {
		t.Fatalf("%s: count response does not start %x or has the wrong length", v.Suite, rh)
	}
	var got []string
	inv := g.NewScalar().Inv(blind)
	shared := 0
	wantN := map[string]bool{}
	for _, s := range distinctQ {
		if n, ok := nOf[s]; ok {
			wantN[n] = true
		}
	}
	for i := range distinctQ {
		d := resp[len(rh)+i*el : len(rh)+(i+1)*el]
		got = append(got, hex.EncodeToString(d))
		n := unhex(enc(g.NewElement().Mul(elem(d), inv)))
		if passes(n) {
			shared++
		}
		if wantN[hex.EncodeToString(n)] != passes(n) {
			t.Errorf("%s: response element %d unblinds to an N that passes: %v", v.Suite, i, passes(n))
		}
	}
	if slices.Equal(got, v.Evaluated) {
		t.Errorf("%s: the response is in request order", v.Suite)
	}
	slices.Sort(got)
	if want := slices.Sorted(slices.Values(v.Evaluated)); !slices.Equal(got, want) {
		t.Errorf("%s: the response is not a permutation of the evaluations", v.Suite)
	}
	if shared != v.Shared || len(distinctQ) != v.Queried || len(wantN) != v.Shared {
		t.Errorf("%s: %d elements pass the count filter, %d shared values; frozen count %d of %d", v.Suite, shared, len(wantN), v.Shared, v.Queried)
	}

	// The code's own decoding and Count accept the frozen messages.
	var f Filter
	if err := f.UnmarshalBinary(filter); err != nil || !f.IsCount() {
		t.Fatalf("%s: frozen count filter: %v", v.Suite, err)
	}
	var creq CountRequest
	var cresp CountResponse
	for _, msg := range []struct {
		b   []byte
		dst interface {
			binaryCodec
			binaryDecoder
		}
	}{{filter, &f}, {req, &creq}, {resp, &cresp}} {
		if err := msg.dst.UnmarshalBinary(msg.b); err != nil {
			t.Fatalf("%s: frozen %T: %v", v.Suite, msg.dst, err)
		}
		if re, _ := msg.dst.MarshalBinary(); !bytes.Equal(re, msg.b) {
			t.Errorf("%s: frozen %T re-encodes differently", v.Suite, msg.dst)
		}
	}
	q, err := NewQuerier(&f, nil)
	if err != nil {
		t.Fatal(err)
	}
	var query []indicator.Indicator
	for _, s := range v.Query {
		query = append(query, indicator.MustNew(indicator.Email, s))
	}
	// The code's group for the suite (internal/r255 for ristretto255).
	cb := f.Suite().params().group.NewScalar()
	if err := cb.UnmarshalBinary(unhex(v.Blind)); err != nil {
		t.Fatal(err)
	}
	cq, _, err := q.blindCount(query, cb)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := cq.Count(&cresp); err != nil || res.Shared != v.Shared || res.Queried != v.Queried {
		t.Errorf("%s: Count of the frozen response: %+v, %v", v.Suite, res, err)
	}
}
