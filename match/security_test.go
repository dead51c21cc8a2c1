package match

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// exchange publishes a small list under key and blinds a query against it.
func exchange(t *testing.T, key *PrivateKey, mode Mode) (*Publisher, *Query, *EvalRequest) {
	t.Helper()
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 30), nil), &PublishOptions{Mode: mode})
	q, err := NewQuerier(p.Filter(), &QuerierOptions{InsecureAllowOPRF: true, ChunkSize: MinChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	qu, req, err := q.Blind(synthetic(t, 20, 40))
	if err != nil {
		t.Fatal(err)
	}
	return p, qu, req
}

// TestProofFromAnotherKey has a publisher evaluate with a key other than
// the one its filter commits to, relabelling the response with the
// filter's key id: the proof must not verify.
func TestProofFromAnotherKey(t *testing.T) {
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		for _, m := range []Mode{ModePOPRF, ModeVOPRF} {
			t.Run(s.String()+"/"+m.String(), func(t *testing.T) {
				p, qu, req := exchange(t, testKey(t, s, 4), m)
				other := mustPublish(t, testKey(t, s, 5), nil, &PublishOptions{Mode: m})

				// Another key's publisher refuses the request outright.
				if _, err := other.Evaluate(req); !errors.Is(err, ErrWrongKey) {
					t.Fatalf("other publisher: got %v, want ErrWrongKey", err)
				}
				// Forced through, the evaluation is refused at Finalize.
				forged := *req
				forged.hdr.keyID = other.hdr.keyID
				resp, err := other.Evaluate(&forged)
				if err != nil {
					t.Fatal(err)
				}
				resp.hdr.keyID = p.hdr.keyID
				if _, err := qu.Finalize(resp); !errors.Is(err, ErrInvalidProof) {
					t.Fatalf("proof under another key: got %v, want ErrInvalidProof", err)
				}
				// The honest response still works after the refusal.
				good, err := p.Evaluate(req)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := qu.Finalize(good); err != nil {
					t.Fatalf("honest response after a forged one: %v", err)
				}
			})
		}
	}
}

// TestProofSwappedChunks moves elements between chunks: every chunk's
// proof covers exactly its own elements.
func TestProofSwappedChunks(t *testing.T) {
	p, qu, req := exchange(t, testKey(t, SuiteRistretto255, 4), ModePOPRF)
	resp, err := p.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	el := SuiteRistretto255.params().elemLen
	e := resp.elems
	tmp := bytes.Clone(e[:el])
	j := MinChunkSize // element 0 (chunk 0) <-> element j (chunk 1)
	copy(e[:el], e[j*el:(j+1)*el])
	copy(e[j*el:(j+1)*el], tmp)
	if _, err := qu.Finalize(resp); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("got %v, want ErrInvalidProof", err)
	}
}

// TestKindIsBound: in POPRF mode an element blinded as one kind and
// evaluated as another gives no match, so a publisher's per-kind policy
// cannot be dodged by mislabelling a batch.
func TestKindIsBound(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 4)
	email := indicator.MustNew(indicator.Email, "alice@example.org")
	p := mustPublish(t, key, []Entry{{Indicator: email}}, nil)
	q, err := NewQuerier(p.Filter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	qu, req, err := q.Blind([]indicator.Indicator{email})
	if err != nil {
		t.Fatal(err)
	}
	req.kind = "ipv4" // the batch claims another kind
	resp, err := p.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	// The proof is for the ipv4 tweak, so the querier (who blinded as
	// email) refuses it.
	if _, err := qu.Finalize(resp); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("got %v, want ErrInvalidProof", err)
	}
	// And even unverified, the output would not match: the email's input
	// under the ipv4 info is another PRF value, whose tag is not in the
	// index, while under its own info it is.
	sc := newScratch(SuiteRistretto255.params())
	for _, c := range []struct {
		kind string
		want bool
	}{{"ipv4", false}, {"email", true}} {
		ev, err := newEvaluator(key, ModePOPRF, kindInfo(c.kind))
		if err != nil {
			t.Fatal(err)
		}
		y, err := ev.evaluate(sc, appendInput(nil, email))
		if err != nil {
			t.Fatal(err)
		}
		tg := deriveTag(y)
		_, found := slices.BinarySearchFunc(p.index, tg, func(e indexEntry, t tag) int { return bytes.Compare(e.tag[:], t[:]) })
		if found != c.want {
			t.Errorf("email evaluated as %s: in the index = %v", c.kind, found)
		}
	}
}

func TestFilterFromAnotherKeyOrSuite(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 4)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 10), nil), nil)
	if _, err := NewQuerier(p.Filter(), &QuerierOptions{PublicKey: testKey(t, SuiteRistretto255, 5).Public()}); !errors.Is(err, ErrWrongKey) {
		t.Errorf("pinned another key: got %v, want ErrWrongKey", err)
	}
	if _, err := NewQuerier(p.Filter(), &QuerierOptions{PublicKey: testKey(t, SuiteP256, 4).Public()}); !errors.Is(err, ErrWrongSuite) {
		t.Errorf("pinned a P-256 key: got %v, want ErrWrongSuite", err)
	}
	if _, err := NewQuerier(p.Filter(), &QuerierOptions{PublicKey: key.Public()}); err != nil {
		t.Errorf("pinned the right key: %v", err)
	}

	// A publisher refuses requests and confirmations made for another
	// filter: another key, another suite, another mode.
	_, quOther, reqOther := exchange(t, testKey(t, SuiteRistretto255, 5), ModePOPRF)
	if _, err := p.Evaluate(reqOther); !errors.Is(err, ErrWrongKey) {
		t.Errorf("request for another key: got %v, want ErrWrongKey", err)
	}
	_, _, reqP256 := exchange(t, testKey(t, SuiteP256, 4), ModePOPRF)
	if _, err := p.Evaluate(reqP256); !errors.Is(err, ErrWrongSuite) {
		t.Errorf("request of another suite: got %v, want ErrWrongSuite", err)
	}
	_, _, reqV := exchange(t, key, ModeVOPRF)
	if _, err := p.Evaluate(reqV); !errors.Is(err, ErrWrongMode) {
		t.Errorf("request of another mode: got %v, want ErrWrongMode", err)
	}
	// A querier refuses a response from another publisher.
	resp, err := p.Evaluate(mustReq(t, p))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := quOther.Finalize(resp); !errors.Is(err, ErrWrongKey) {
		t.Errorf("response from another key: got %v, want ErrWrongKey", err)
	}
}

func mustReq(t *testing.T, p *Publisher) *EvalRequest {
	t.Helper()
	q, err := NewQuerier(p.Filter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, req, err := q.Blind(synthetic(t, 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestBaseModeNeedsOptIn(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 4), nil, &PublishOptions{Mode: ModeOPRF})
	if _, err := NewQuerier(p.Filter(), nil); !errors.Is(err, ErrInsecureMode) {
		t.Fatalf("got %v, want ErrInsecureMode", err)
	}
	if _, err := NewQuerier(p.Filter(), &QuerierOptions{InsecureAllowOPRF: true}); err != nil {
		t.Fatal(err)
	}
}

// TestDenseFilterRefused: a publisher that sets most bits would make every
// query a candidate and harvest the querier's list at confirm time.
func TestDenseFilterRefused(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 4), entriesOf(synthetic(t, 0, 100), nil), nil)
	honest := p.Filter()
	if _, err := NewQuerier(honest, nil); err != nil {
		t.Fatalf("honest filter refused: %v", err)
	}
	if fpr := honest.EstimatedFalsePositiveRate(); fpr > 1e-8 {
		t.Errorf("honest filter at the default rate estimates %g", fpr)
	}
	b, _ := honest.MarshalBinary()
	set := func(b []byte, frac float64) []byte {
		b = bytes.Clone(b)
		bitsOff := filterFixedLen(SuiteRistretto255)
		m := honest.Bits()
		for i := 0; i < int(float64(m)*frac); i++ {
			b[bitsOff+i/8] |= 1 << (i % 8)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		opts *QuerierOptions
		want string
	}{
		{"all ones", set(b, 1), nil, "more than k·n"},
		{"a third more ones", set(b, 0.3), nil, "honest filter"},
		{"declared n large", withN(t, set(b, 0.7), 1_000_000), nil, "false-positive rate"},
		{"bound tighter than rate", b, &QuerierOptions{MaxFalsePositiveRate: 1e-30}, "false-positive rate"},
	} {
		var f Filter
		if err := f.UnmarshalBinary(tc.data); err != nil {
			t.Fatal(err)
		}
		_, err := NewQuerier(&f, tc.opts)
		if !errors.Is(err, ErrUnsafeFilter) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrUnsafeFilter (%s)", tc.name, err, tc.want)
		}
	}
}

func withN(t *testing.T, b []byte, n uint64) []byte {
	t.Helper()
	off := msgHeaderLen + SuiteRistretto255.params().elemLen + 24
	b = bytes.Clone(b)
	for i := range 8 {
		b[off+i] = byte(n >> (56 - 8*i))
	}
	return b
}

// TestSecretsNotPrinted formats keys and publishers with every verb and
// checks that no encoding of the scalar appears.
func TestSecretsNotPrinted(t *testing.T) {
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		key := testKey(t, s, 6)
		raw, err := key.k.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		p := mustPublish(t, key, nil, nil)
		secrets := []string{fmt.Sprintf("%x", raw), fmt.Sprintf("%X", raw), string(raw), fmt.Sprint(raw)}
		// circl's own formatting of the scalar, which is what leaks when a
		// wrapper prints its fields.
		secrets = append(secrets, fmt.Sprint(key.k), strings.TrimPrefix(fmt.Sprint(key.k), "0x"))
		for _, v := range []any{key, *key, p, *p} {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
				out := fmt.Sprintf(verb, v)
				for _, sec := range secrets {
					if strings.Contains(strings.ToLower(out), strings.ToLower(sec)) {
						t.Fatalf("%s of %T prints the secret: %s", verb, v, out)
					}
				}
				if !strings.Contains(out, key.KeyID().String()) {
					t.Errorf("%s of %T = %q, want it to name the key id", verb, v, out)
				}
			}
		}
	}
}

// TestConfirmRefusesRepeatedHits: a querier that knows one tag cannot make
// the publisher repeat the entry's label. Regression test: a 16 MiB
// request of one tag repeated produced a 1 GiB response.
func TestConfirmRefusesRepeatedHits(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 4), entriesOf(synthetic(t, 0, 5), func(int) string { return strings.Repeat("L", MaxLabelLen) }), nil)
	q, err := NewQuerier(p.Filter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	qu, req, err := q.Blind(synthetic(t, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	creq, err := qu.Finalize(resp)
	if err != nil || creq.Len() != 1 {
		t.Fatalf("%d candidates, %v", creq.Len(), err)
	}
	one := creq.tags
	creq.tags = bytes.Repeat(one, 1000)
	if _, _, err := p.Confirm(creq); !errors.Is(err, ErrMalformed) {
		t.Fatalf("repeated tag: got %v, want ErrMalformed", err)
	}
	// Repeated tags that are not entries cost one byte each and are
	// answered.
	creq.tags = append(bytes.Repeat(make([]byte, tagSize), 10), one...)
	cresp, hits, err := p.Confirm(creq)
	if err != nil || cresp.Len() != 11 || len(hits) != 1 {
		t.Fatalf("%v, %d answers, %d hits", err, cresp.Len(), len(hits))
	}
}
