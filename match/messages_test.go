package match

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A sample is one valid encoding of every decoder's message, from a real
// exchange, with the decoder to feed it to.
type sample struct {
	name   string
	data   []byte
	decode func([]byte) (reencode func() ([]byte, error), err error)
	// countAt is the offset of the message's first count or length field
	// that limits an allocation (-1: none), and countSize its width.
	countAt, countSize int
}

func decoderFor[T any, P interface {
	*T
	binaryCodec
	binaryDecoder
}]() func([]byte) (func() ([]byte, error), error) {
	return func(b []byte) (func() ([]byte, error), error) {
		v := P(new(T))
		if err := v.UnmarshalBinary(b); err != nil {
			return nil, err
		}
		return v.MarshalBinary, nil
	}
}

func keyDecoder(parse func([]byte) (binaryCodec, error)) func([]byte) (func() ([]byte, error), error) {
	return func(b []byte) (func() ([]byte, error), error) {
		v, err := parse(b)
		if err != nil {
			return nil, err
		}
		return v.MarshalBinary, nil
	}
}

func samples(t testing.TB, s Suite) []sample {
	t.Helper()
	key := testKey(t, s, 3)
	es := entriesOf(synthetic(t, 0, 20), func(i int) string { return fmt.Sprint("label ", i) })
	es = append(es, Entry{Indicator: es[16].Indicator, Label: "another case"}) // an answer with two labels
	p := mustPublish(t, key, es, &PublishOptions{Epoch: 7, Count: true})
	q, err := NewQuerier(p.Filter(), &QuerierOptions{ChunkSize: MinChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	qu, req, err := q.Blind(synthetic(t, 15, 20)) // 5 shared; two chunks
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	creq, err := qu.Finalize(resp)
	if err != nil {
		t.Fatal(err)
	}
	cresp, _, err := p.Confirm(creq)
	if err != nil {
		t.Fatal(err)
	}
	cq, err := NewQuerier(p.CountFilter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, countReq, err := cq.BlindCount(synthetic(t, 15, 20))
	if err != nil {
		t.Fatal(err)
	}
	countResp, err := p.EvaluateCount(countReq)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(m binaryCodec) []byte {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	elemLen := s.params().elemLen
	return []sample{
		{"Filter", enc(p.Filter()), decoderFor[Filter](), msgHeaderLen + elemLen + 32, 8},
		{"EvalRequest", enc(req), decoderFor[EvalRequest](), msgHeaderLen + 1 + len("email") + 2, 4},
		{"EvalResponse", enc(resp), decoderFor[EvalResponse](), msgHeaderLen + 2, 4},
		{"ConfirmRequest", enc(creq), decoderFor[ConfirmRequest](), msgHeaderLen, 4},
		{"ConfirmResponse", enc(cresp), decoderFor[ConfirmResponse](), msgHeaderLen, 4},
		{"CountFilter", enc(p.CountFilter()), decoderFor[Filter](), msgHeaderLen + elemLen + 32, 8},
		{"CountRequest", enc(countReq), decoderFor[CountRequest](), msgHeaderLen + 1 + len("email"), 4},
		{"CountResponse", enc(countResp), decoderFor[CountResponse](), msgHeaderLen, 4},
		{"PrivateKey", enc(key), keyDecoder(func(b []byte) (binaryCodec, error) { return ParsePrivateKey(b) }), -1, 0},
		{"PublicKey", enc(key.Public()), keyDecoder(func(b []byte) (binaryCodec, error) { return ParsePublicKey(b) }), -1, 0},
	}
}

func forSamples(t *testing.T, f func(t *testing.T, sm sample)) {
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		for _, sm := range samples(t, s) {
			t.Run(s.String()+"/"+sm.name, func(t *testing.T) { f(t, sm) })
		}
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	forSamples(t, func(t *testing.T, sm sample) {
		re, err := sm.decode(sm.data)
		if err != nil {
			t.Fatal(err)
		}
		b, err := re()
		if err != nil || !bytes.Equal(b, sm.data) {
			t.Fatalf("re-encoding differs (err %v)", err)
		}
	})
}

// TestDecodeTruncated cuts every message at every length.
func TestDecodeTruncated(t *testing.T) {
	forSamples(t, func(t *testing.T, sm sample) {
		for n := range len(sm.data) {
			_, err := sm.decode(bytes.Clone(sm.data[:n]))
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("cut at %d of %d: got %v, want ErrTruncated", n, len(sm.data), err)
			}
		}
	})
}

func TestDecodeTrailing(t *testing.T) {
	forSamples(t, func(t *testing.T, sm sample) {
		_, err := sm.decode(append(bytes.Clone(sm.data), 0))
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("one trailing byte: got %v, want ErrMalformed", err)
		}
	})
}

// TestDecodeBitFlips flips every bit of every message. The decoder must
// either refuse the result or accept it as exactly what it re-encodes to:
// no silent normalisation, no panic. Flips in the fixed header fields have
// a known answer.
func TestDecodeBitFlips(t *testing.T) {
	forSamples(t, func(t *testing.T, sm sample) {
		for i := range 8 * len(sm.data) {
			b := bytes.Clone(sm.data)
			b[i/8] ^= 1 << (i % 8)
			re, err := sm.decode(b)
			if i < 8*6 && !errors.Is(err, ErrMalformed) { // magic, version, type
				t.Fatalf("bit %d (header): got %v, want ErrMalformed", i, err)
			}
			if err != nil {
				continue
			}
			out, err := re()
			if err != nil || !bytes.Equal(out, b) {
				t.Fatalf("bit %d: accepted, but re-encodes differently", i)
			}
		}
	})
}

// TestDecodeOversized sets each message's count or length field to just
// above its limit and to its maximum value: the decoder must answer
// ErrOversized without allocating for it.
func TestDecodeOversized(t *testing.T) {
	forSamples(t, func(t *testing.T, sm sample) {
		if sm.countAt < 0 {
			t.Skip("fixed-size message")
		}
		limit := uint64(MaxBatch)
		if sm.name == "Filter" || sm.name == "CountFilter" {
			limit = MaxFilterBits
		}
		for _, v := range []uint64{limit + 1, 1<<(8*sm.countSize) - 1} {
			b := bytes.Clone(sm.data)
			field := b[sm.countAt : sm.countAt+sm.countSize]
			if sm.countSize == 8 {
				binary.BigEndian.PutUint64(field, v)
			} else {
				binary.BigEndian.PutUint32(field, uint32(v))
			}
			var err error
			allocated := bytesAllocated(func() { _, err = sm.decode(b) })
			if !errors.Is(err, ErrOversized) {
				t.Errorf("count %d: got %v, want ErrOversized", v, err)
			}
			if allocated > 1<<16 {
				t.Errorf("count %d: decoder allocated %d bytes before refusing", v, allocated)
			}
		}
	})
}

// TestDecodeHugeCountSmallBody declares the largest allowed count over a
// tiny body: truncated, and refused before allocating for the count.
func TestDecodeHugeCountSmallBody(t *testing.T) {
	forSamples(t, func(t *testing.T, sm sample) {
		if sm.countAt < 0 || sm.name == "Filter" || sm.name == "CountFilter" {
			t.Skip("no element count")
		}
		b := bytes.Clone(sm.data[:sm.countAt+sm.countSize])
		binary.BigEndian.PutUint32(b[sm.countAt:], MaxBatch)
		var err error
		allocated := bytesAllocated(func() { _, err = sm.decode(b) })
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("got %v, want ErrTruncated", err)
		}
		if allocated > 1<<16 {
			t.Errorf("decoder allocated %d bytes for a %d-byte message", allocated, len(b))
		}
	})
}

func TestDecodeFieldErrors(t *testing.T) {
	sm := samples(t, SuiteRistretto255)
	byName := map[string][]byte{}
	for _, s := range sm {
		byName[s.name] = s.data
	}
	filterDecode := decoderFor[Filter]()
	var cresp ConfirmResponse
	if err := cresp.UnmarshalBinary(byName["ConfirmResponse"]); err != nil || cresp.Len() == 0 {
		t.Fatalf("the sample exchange needs candidates: %d, %v", cresp.Len(), err)
	}
	nOff := msgHeaderLen + SuiteRistretto255.params().elemLen + 24
	cases := []struct {
		msg  string
		edit func(b []byte)
		want error
	}{
		{"Filter", func(b []byte) { b[4] = 2 }, ErrMalformed},                                                 // version
		{"Filter", func(b []byte) { b[6] = 0x09 }, ErrMalformed},                                              // suite code
		{"Filter", func(b []byte) { b[7] = 0x07 }, ErrMalformed},                                              // mode code
		{"Filter", func(b []byte) { b[8] ^= 1 }, ErrWrongKey},                                                 // key id
		{"Filter", func(b []byte) { b[6] = suiteCodeP256 }, ErrInvalidKey},                                    // the key bytes are read as a P-256 point
		{"Filter", func(b []byte) { b[filterFixedLen(SuiteRistretto255)] ^= 1 }, nil},                         // a filter bit: valid data
		{"Filter", func(b []byte) { b[len(b)-1] |= 0x80 }, ErrMalformed},                                      // a bit beyond m
		{"Filter", func(b []byte) { binary.BigEndian.PutUint64(b[nOff:], MaxEntries+1) }, ErrOversized},       // n
		{"Filter", func(b []byte) { binary.BigEndian.PutUint64(b[nOff+8:], 0) }, ErrMalformed},                // m = 0
		{"EvalRequest", func(b []byte) { b[msgHeaderLen+1+len("email")+1] = MinChunkSize - 1 }, ErrMalformed}, // chunk below the minimum
		{"Filter", func(b []byte) { b[msgHeaderLen+32+40] = 0 }, ErrMalformed},                                // k = 0
		{"Filter", func(b []byte) { b[msgHeaderLen+32+40] = 65 }, ErrMalformed},                               // k > 64
		{"EvalRequest", func(b []byte) { b[msgHeaderLen+1] = 'E' }, ErrMalformed},                             // kind name charset
		{"EvalRequest", func(b []byte) { b[msgHeaderLen+6] = 0; b[msgHeaderLen+7] = 0 }, ErrMalformed},        // chunk 0
		{"ConfirmResponse", func(b []byte) { b[msgHeaderLen+4] = 2 }, ErrMalformed},                           // a list of labels, but of 0
		{"ConfirmResponse", func(b []byte) { b[msgHeaderLen+4] = 3 }, ErrMalformed},                           // answer flag
	}
	for _, c := range cases {
		b := bytes.Clone(byName[c.msg])
		c.edit(b)
		var err error
		switch c.msg {
		case "Filter":
			_, err = filterDecode(b)
		case "EvalRequest":
			err = new(EvalRequest).UnmarshalBinary(b)
		case "ConfirmResponse":
			err = new(ConfirmResponse).UnmarshalBinary(b)
		}
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.msg, err, c.want)
		}
	}
}

// TestConfirmAnswers encodes each form of a confirm answer and checks
// its bytes, then the decoder's refusal of every malformed variant of
// the list form.
func TestConfirmAnswers(t *testing.T) {
	hdr := msgHeader{suite: SuiteRistretto255, mode: ModePOPRF}
	r := &ConfirmResponse{hdr: hdr, results: []confirmResult{
		{},
		{hit: true},
		{hit: true, labels: []string{"C2"}},
		{hit: true, labels: []string{"case 1", "case 2"}},
	}}
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	const want = "00000004" + "00" + "01" + "0000" + "01" + "0002" + "4332" +
		"02" + "02" + "0006" + "636173652031" + "0006" + "636173652032"
	if got := fmt.Sprintf("%x", b[msgHeaderLen:]); got != want {
		t.Fatalf("answers encode as %s, want %s", got, want)
	}
	var d ConfirmResponse
	if err := d.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(d.results) != fmt.Sprint(r.results) {
		t.Fatalf("decoded %v, want %v", d.results, r.results)
	}
	list := msgHeaderLen + 4 + 1 + 3 + 5 // the last answer
	if b[list] != answerLabels {
		t.Fatalf("layout: 0x%02x at the list answer", b[list])
	}
	long := strings.Repeat("x", MaxLabelLen+1)
	for _, c := range []struct {
		name string
		tail []byte // replaces the list answer
		want error
	}{
		{"list of one", []byte{2, 1, 0, 1, 'a'}, ErrMalformed},
		{"list of MaxRepeats+1", append([]byte{2, MaxRepeats + 1}, distinctLabels(MaxRepeats+1)...), ErrMalformed},
		{"empty label in a list", []byte{2, 2, 0, 1, 'a', 0, 0}, ErrMalformed},
		{"label repeated in a list", []byte{2, 2, 0, 1, 'a', 0, 1, 'a'}, ErrMalformed},
		{"list cut short", []byte{2, 3, 0, 1, 'a', 0, 1, 'b', 0, 1}, ErrTruncated},
		{"list count beyond the body", []byte{2, 5, 0, 1, 'a', 0, 1, 'b'}, ErrTruncated},
		{"no count", []byte{2}, ErrTruncated},
		{"label too long", append([]byte{2, 2, 0, 1, 'a', (MaxLabelLen + 1) >> 8, (MaxLabelLen + 1) & 0xff}, long...), ErrOversized},
		{"label not UTF-8", []byte{2, 2, 0, 1, 'a', 0, 1, 0xff}, ErrMalformed},
		{"list of MaxRepeats", append([]byte{2, MaxRepeats}, distinctLabels(MaxRepeats)...), nil},
	} {
		x := append(bytes.Clone(b[:list]), c.tail...)
		err := new(ConfirmResponse).UnmarshalBinary(x)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func FuzzEvalRequest(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r EvalRequest
		if r.UnmarshalBinary(b) != nil {
			return
		}
		checkReencode(t, b, &r)
		if r.Len() <= 64 { // keep each run fast
			fuzzFixture.p.Evaluate(&r)
		}
	})
}

func FuzzEvalResponse(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r EvalResponse
		if r.UnmarshalBinary(b) != nil {
			return
		}
		checkReencode(t, b, &r)
		if r.Len() <= 64 {
			qu, _, err := fuzzFixture.q.Blind(synthetic(t, 15, r.Len()))
			if err != nil {
				t.Fatal(err)
			}
			qu.Finalize(&r)
		}
	})
}

func FuzzConfirmRequest(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r ConfirmRequest
		if r.UnmarshalBinary(b) != nil {
			return
		}
		checkReencode(t, b, &r)
		fuzzFixture.p.Confirm(&r)
	})
}

func FuzzConfirmResponse(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r ConfirmResponse
		if r.UnmarshalBinary(b) != nil {
			return
		}
		checkReencode(t, b, &r)
	})
}

// distinctLabels encodes n distinct one-byte labels.
func distinctLabels(n int) []byte {
	var b []byte
	for i := range n {
		b = append(b, 0, 1, byte('0'+i))
	}
	return b
}
