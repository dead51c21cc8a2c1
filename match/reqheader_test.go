package match

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// requestSamples returns a valid evaluation request and confirm request
// of each suite, with their header parsers.
func requestSamples(t testing.TB) []sample {
	var out []sample
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		for _, sm := range samples(t, s) {
			if sm.name == "EvalRequest" || sm.name == "ConfirmRequest" {
				sm.name = s.String() + "/" + sm.name
				out = append(out, sm)
			}
		}
	}
	return out
}

func headerParser(name string) func([]byte) (*RequestHeader, error) {
	if strings.HasSuffix(name, "EvalRequest") {
		return ParseEvalRequestHeader
	}
	return ParseConfirmRequestHeader
}

// TestRequestHeader decodes the header of every request from every prefix
// of it: a prefix that ends inside the header is truncated, any longer one
// gives the header of the whole message, whose Size is the message's
// length.
func TestRequestHeader(t *testing.T) {
	for _, sm := range requestSamples(t) {
		t.Run(sm.name, func(t *testing.T) {
			parse := headerParser(sm.name)
			whole, err := parse(sm.data)
			if err != nil {
				t.Fatal(err)
			}
			if whole.Size() != len(sm.data) || whole.HeaderLen() > MaxRequestHeaderLen {
				t.Fatalf("size %d of a message of %d bytes, header %d bytes", whole.Size(), len(sm.data), whole.HeaderLen())
			}
			var key KeyID
			var count int
			var kind string
			if strings.HasSuffix(sm.name, "EvalRequest") {
				var r EvalRequest
				r.UnmarshalBinary(sm.data)
				key, count, kind = r.KeyID(), r.Len(), r.Kind()
				if whole.Suite() != r.Suite() || whole.Mode() != r.Mode() {
					t.Fatalf("suite or mode differ")
				}
			} else {
				var r ConfirmRequest
				r.UnmarshalBinary(sm.data)
				key, count = r.KeyID(), r.Len()
			}
			if whole.KeyID() != key || whole.Len() != count || whole.Kind() != kind {
				t.Fatalf("header %v %d %q, message %v %d %q", whole.KeyID(), whole.Len(), whole.Kind(), key, count, kind)
			}
			for n := range len(sm.data) {
				h, err := parse(bytes.Clone(sm.data[:n]))
				switch {
				case n < whole.HeaderLen() && !errors.Is(err, ErrTruncated):
					t.Fatalf("cut at %d, inside the header: got %v, want ErrTruncated", n, err)
				case n >= whole.HeaderLen() && (err != nil || *h != *whole):
					t.Fatalf("cut at %d, after the header: %v, %+v", n, err, h)
				}
			}
		})
	}
}

// TestRequestHeaderRefuses: the header parsers refuse the other request's
// type and a count above MaxBatch, as the message decoders do.
func TestRequestHeaderRefuses(t *testing.T) {
	for _, sm := range requestSamples(t) {
		other := ParseEvalRequestHeader
		if strings.HasSuffix(sm.name, "EvalRequest") {
			other = ParseConfirmRequestHeader
		}
		if _, err := other(sm.data); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s read as the other request: %v", sm.name, err)
		}
		huge := bytes.Clone(sm.data)
		copy(huge[sm.countAt:], []byte{0xff, 0xff, 0xff, 0xff})
		if _, err := headerParser(sm.name)(huge); !errors.Is(err, ErrOversized) {
			t.Errorf("%s declaring 2^32-1 items: %v", sm.name, err)
		}
	}
}

// TestPublisherCheck: Check accepts a valid request, and refuses an
// invalid last element (naming it), another key and the zero request,
// without panicking.
func TestPublisherCheck(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 1), entriesOf(synthetic(t, 0, 10), nil), nil)
	q, err := NewQuerier(p.Filter(), &QuerierOptions{ChunkSize: MinChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	_, req, err := q.Blind(synthetic(t, 0, 40))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(req); err != nil {
		t.Fatal(err)
	}
	b, _ := req.MarshalBinary()
	copy(b[len(b)-32:], bytes.Repeat([]byte{0xff}, 32))
	var bad EvalRequest
	if err := bad.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if err := p.Check(&bad); !errors.Is(err, ErrInvalidElement) || err.Error() != "match: invalid group element: element 39" {
		t.Errorf("invalid last element: %v", err)
	}
	other := mustPublish(t, testKey(t, SuiteRistretto255, 2), nil, nil)
	if err := other.Check(req); !errors.Is(err, ErrWrongKey) {
		t.Errorf("another key: %v", err)
	}
	if err := p.Check(new(EvalRequest)); !errors.Is(err, ErrEmptyBatch) {
		t.Errorf("zero request: %v", err)
	}
	if _, err := p.Evaluate(new(EvalRequest)); !errors.Is(err, ErrEmptyBatch) {
		t.Errorf("zero request evaluated: %v", err)
	}
}

// FuzzRequestHeader: the header parsers never panic, and agree with the
// message decoders: a message that decodes has a header that parses, of
// the message's size, and a header that parses at a size the data has
// describes the message when it decodes.
func FuzzRequestHeader(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var er EvalRequest
		h, herr := ParseEvalRequestHeader(b)
		if er.UnmarshalBinary(b) == nil && (herr != nil || h.Size() != len(b) || h.Len() != er.Len() || h.Kind() != er.Kind() || h.KeyID() != er.KeyID()) {
			t.Fatalf("evaluation request decodes, header %+v, %v", h, herr)
		}
		if herr == nil && (h.HeaderLen() > MaxRequestHeaderLen || h.HeaderLen() > len(b)) {
			t.Fatalf("header of %d bytes", h.HeaderLen())
		}
		var cr ConfirmRequest
		h, herr = ParseConfirmRequestHeader(b)
		if cr.UnmarshalBinary(b) == nil && (herr != nil || h.Size() != len(b) || h.Len() != cr.Len() || h.KeyID() != cr.KeyID()) {
			t.Fatalf("confirm request decodes, header %+v, %v", h, herr)
		}
		if herr == nil && (h.HeaderLen() > MaxRequestHeaderLen || h.HeaderLen() > len(b)) {
			t.Fatalf("header of %d bytes", h.HeaderLen())
		}
	})
}
