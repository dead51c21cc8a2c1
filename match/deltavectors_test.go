package match

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// deltaVector is one frozen change of a filter (PROTOCOL.md 2.8): a
// filter at version from, the entries added, the delta and the filter it
// makes; and a confirm response answering "withdrawn" (2.5) after a
// removal, with the publisher state that records it (2.7).
type deltaVector struct {
	Suite     string      `json:"suite"`
	Mode      string      `json:"mode"`
	Seed      string      `json:"seed"`
	KeyInfo   string      `json:"keyInfo"`
	Capacity  int         `json:"capacity"`
	Epoch     uint64      `json:"epoch"`
	From      string      `json:"filterFrom"`
	Added     []wireEntry `json:"added"`
	Delta     string      `json:"delta"`
	To        string      `json:"filterTo"`
	Removed   []int       `json:"removedEntries"`
	ConfirmRQ string      `json:"confirmRequest"`
	ConfirmRS string      `json:"confirmResponse"`
	State     string      `json:"publisherState"`
	// Then a padded version of 4 (2.8): one entry and three padding
	// seeds (fixed here; crypto/rand in use), its delta, the filter it
	// makes and the 0x0F publisher state.
	PaddedAdded wireEntry `json:"paddedAdded"`
	Padding     []string  `json:"paddingSeeds"`
	PaddedDelta string    `json:"paddedDelta"`
	PaddedTo    string    `json:"paddedFilterTo"`
	PaddedState string    `json:"paddedPublisherState"`
}

func makeDeltaVector(t *testing.T) deltaVector {
	seed := bytes.Repeat([]byte{0x5e}, 32)
	const keyInfo = "fedmatch delta vector"
	key, err := DeriveKey(SuiteRistretto255, ModePOPRF, seed, []byte(keyInfo))
	if err != nil {
		t.Fatal(err)
	}
	first := []Entry{
		{Indicator: indicator.MustNew(indicator.Email, "alice@example.org"), Label: "case 1"},
		{Indicator: indicator.MustNew(indicator.IPv4, "192.0.2.1"), Label: "case 2"},
	}
	added := []Entry{
		{Indicator: indicator.MustNew(indicator.Domain, "bad.example"), Label: "case 3"},
		{Indicator: indicator.MustNew(indicator.Email, "bob@example.org"), Label: "case 4"},
	}
	p := mustPublish(t, key, first, &PublishOptions{Capacity: 8, Epoch: 5, Workers: 1})
	v := deltaVector{Suite: "ristretto255-SHA512", Mode: "POPRF", Seed: hex.EncodeToString(seed), KeyInfo: keyInfo,
		Capacity: 8, Epoch: 5, From: hex.EncodeToString(mustMarshal(t, p.Filter()))}
	from := p.Filter().Version()
	if _, err := p.Add(added); err != nil {
		t.Fatal(err)
	}
	d, err := p.Delta(from)
	if err != nil {
		t.Fatal(err)
	}
	v.Delta = hex.EncodeToString(mustMarshal(t, d))
	v.To = hex.EncodeToString(mustMarshal(t, p.Filter()))
	m, k := uint64(p.Filter().Bits()), p.Filter().Hashes()
	wireEntryOf := func(e Entry) wireEntry {
		name := e.Indicator.Kind().Name()
		in := appendInput(nil, e.Indicator)
		ev, _ := newEvaluator(key, ModePOPRF, kindInfo(name))
		y, _ := ev.evaluate(newScratch(key.suite.params()), in)
		tg := deriveTag(y)
		sd := deriveSeed(tg)
		var ps []uint64
		ps = append(ps, newPositioner().positions(tg, m, k)...)
		return wireEntry{Kind: name, Value: e.Indicator.Value(), Label: e.Label, Input: hex.EncodeToString(in),
			Info: hex.EncodeToString(kindInfo(name)), Output: hex.EncodeToString(y), Tag: hex.EncodeToString(tg[:]), Seed: hex.EncodeToString(sd[:]), Positions: ps}
	}
	for _, e := range added {
		v.Added = append(v.Added, wireEntryOf(e))
	}
	// Entry 2 (bad.example) removed: a confirmation of its tag and of
	// bob's answers "withdrawn" and "case 4".
	v.Removed = []int{2}
	if err := p.Remove(2); err != nil {
		t.Fatal(err)
	}
	req := &ConfirmRequest{hdr: p.hdr}
	for _, e := range v.Added {
		tg, _ := hex.DecodeString(e.Tag)
		req.tags = append(req.tags, tg...)
	}
	resp, _, err := p.Confirm(req)
	if err != nil {
		t.Fatal(err)
	}
	v.ConfirmRQ = hex.EncodeToString(mustMarshal(t, req))
	v.ConfirmRS = hex.EncodeToString(mustMarshal(t, resp))
	v.State = hex.EncodeToString(mustMarshal(t, p))
	carol := Entry{Indicator: indicator.MustNew(indicator.Email, "carol@example.org"), Label: "case 5"}
	if _, err := p.addPadded([]Entry{carol}, 4, 1, padReader("fedmatch padding vector")); err != nil {
		t.Fatal(err)
	}
	v.PaddedAdded = wireEntryOf(carol)
	for _, sd := range p.st.pad {
		v.Padding = append(v.Padding, hex.EncodeToString(sd[:]))
	}
	pd, err := p.Delta(4)
	if err != nil {
		t.Fatal(err)
	}
	v.PaddedDelta = hex.EncodeToString(mustMarshal(t, pd))
	v.PaddedTo = hex.EncodeToString(mustMarshal(t, p.Filter()))
	v.PaddedState = hex.EncodeToString(mustMarshal(t, p))
	return v
}

// setSeedBits sets, in the little-endian words of a filter's bits, the
// positions of each seed (PROTOCOL.md 1.4), written from the definition.
func setSeedBits(words []byte, seeds [][]byte, m uint64, k int) {
	for _, sd := range seeds {
		xof := sha3.SumSHAKE128(append([]byte("fedmatch-v1 filter bits"), sd...), 8*k)
		for i := range k {
			p := binary.BigEndian.Uint64(xof[8*i:]) % m
			words[8*(p/64)+(p%64)/8] |= 1 << (p % 8)
		}
	}
}

func TestDeltaVectors(t *testing.T) {
	v := makeDeltaVector(t)
	checkVectorFile(t, "testdata/delta_vectors.json", "DeltaVectors", v)
	// Independently of the code: the delta is the header, epoch, from,
	// to, m and k of section 2.8 and the added tags' seeds
	// (SHA-256("fedmatch-v1 filter seed" || tag)[:16]) sorted, never the
	// tags; their positions (section 1.4) set on the older filter give
	// the newer.
	d, _ := hex.DecodeString(v.Delta)
	from, _ := hex.DecodeString(v.From)
	to, _ := hex.DecodeString(v.To)
	var tags [][]byte // the seeds
	for _, e := range v.Added {
		tg, _ := hex.DecodeString(e.Tag)
		sd := sha256.Sum256(append([]byte("fedmatch-v1 filter seed"), tg...))
		if bytes.Contains(d, tg) {
			t.Fatalf("the delta carries the tag of %s", e.Value)
		}
		tags = append(tags, sd[:16])
	}
	slices.SortFunc(tags, bytes.Compare)
	m, k := filterParams(t, v.From)
	fixed := d[:len(d)-16*len(tags)]
	if d[4] != 1 || d[5] != 0x0B || len(fixed) != 6+2+16+8*4+1 || !bytes.Equal(d[len(fixed):], bytes.Join(tags, nil)) {
		t.Fatalf("delta %x does not follow section 2.8", d)
	}
	o := 6 + 2 + 16
	if binary.BigEndian.Uint64(d[o:]) != v.Epoch || binary.BigEndian.Uint64(d[o+8:]) != 2 || binary.BigEndian.Uint64(d[o+16:]) != 4 ||
		binary.BigEndian.Uint64(d[o+24:]) != m || int(d[o+32]) != k {
		t.Errorf("delta fields: epoch, from 2, to 4, m %d, k %d", m, k)
	}
	bitsAt := len(from) - int((m+63)/64)*8
	words := bytes.Clone(from[bitsAt:])
	setSeedBits(words, tags, m, k)
	nAt := bitsAt - 8 - 1 - 8
	if !bytes.Equal(words, to[bitsAt:]) || binary.BigEndian.Uint64(to[nAt:]) != 4 || !bytes.Equal(from[:nAt], to[:nAt]) {
		t.Error("the older filter with the delta's bits set is not the newer filter")
	}
	// The confirm response: "withdrawn" (0x03), then "case 4".
	rs, _ := hex.DecodeString(v.ConfirmRS)
	if want := append([]byte{0, 0, 0, 2, 0x03, 0x01, 0, 6}, "case 4"...); !bytes.HasSuffix(rs, want) {
		t.Errorf("confirm response %x, want it to end %x", rs, want)
	}
	st, _ := hex.DecodeString(v.State)
	if st[5] != 0x0C {
		t.Errorf("publisher state of type 0x%02x, want 0x0C", st[5])
	}
	key, _ := DeriveKey(SuiteRistretto255, ModePOPRF, bytes.Repeat([]byte{0x5e}, 32), []byte(v.KeyInfo))
	r, err := RestorePublisher(key, st, nil)
	if err != nil || r.Removed() != 1 || r.Capacity() != v.Capacity || r.Filter().Version() != 4 {
		t.Errorf("frozen state: %v", err)
	}

	// The padded version: a delta from 4 to 8 of carol's seed and the
	// three padding seeds, sorted, which set on version 4 make version 8;
	// the 0x0F state ends with the padding (3, the seeds in order) and
	// each version's padding end (0, then 3).
	pd, _ := hex.DecodeString(v.PaddedDelta)
	pto, _ := hex.DecodeString(v.PaddedTo)
	ctag, _ := hex.DecodeString(v.PaddedAdded.Tag)
	csd := sha256.Sum256(append([]byte("fedmatch-v1 filter seed"), ctag...))
	seeds := [][]byte{csd[:16]}
	for _, h := range v.Padding {
		sd, _ := hex.DecodeString(h)
		seeds = append(seeds, sd)
	}
	padding := bytes.Join(seeds[1:], nil)
	slices.SortFunc(seeds, bytes.Compare)
	if len(v.Padding) != 3 || !bytes.Equal(pd[:o+8], d[:o+8]) || binary.BigEndian.Uint64(pd[o+8:]) != 4 || binary.BigEndian.Uint64(pd[o+16:]) != 8 ||
		!bytes.Equal(pd[o+24:o+33], d[o+24:o+33]) || !bytes.Equal(pd[o+33:], bytes.Join(seeds, nil)) {
		t.Errorf("padded delta %x does not follow section 2.8", pd)
	}
	if bytes.Contains(pd, ctag) {
		t.Error("the padded delta carries carol's tag")
	}
	words = bytes.Clone(to[bitsAt:])
	setSeedBits(words, seeds, m, k)
	if !bytes.Equal(words, pto[bitsAt:]) || binary.BigEndian.Uint64(pto[nAt:]) != 8 || !bytes.Equal(to[:nAt], pto[:nAt]) {
		t.Error("version 4 with the padded delta's bits set is not version 8")
	}
	pst, _ := hex.DecodeString(v.PaddedState)
	trailer := append(append(be32b(3), padding...), append(be32b(0), be32b(3)...)...)
	if pst[5] != 0x0F || !bytes.HasSuffix(pst, trailer) {
		t.Errorf("padded state of type 0x%02x does not end with its padding (section 2.7)", pst[5])
	}
	r, err = RestorePublisher(key, pst, nil)
	if err != nil || r.Filter().Version() != 8 || !bytes.Equal(mustMarshal(t, r.Filter()), pto) {
		t.Errorf("frozen padded state: %v", err)
	}
	// Carol is a hit; the padding seeds, sent as confirm tags, are not.
	req := &ConfirmRequest{hdr: r.hdr, tags: slices.Concat(ctag, padding)}
	resp, _, err := r.Confirm(req)
	if err != nil || !resp.results[0].hit || slices.ContainsFunc(resp.results[1:], func(c confirmResult) bool { return c.hit || c.withdrawn }) {
		t.Errorf("confirming carol and the padding: %+v, %v", resp, err)
	}
}
