package federation

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/fedmatch/fedmatch/match"
)

// requestBodyLimit is the largest body of an evaluation, count or
// confirm request with batches of maxBatch.
func requestBodyLimit(maxBatch int) int64 { return 256 + int64(maxBatch)*33 }

// A refusal is an error answer to a partner's request.
type refusal struct {
	status    int
	code, msg string
}

// refuse answers a partner's request with an error and counts it, to be
// recorded with the partner's other refusals of the period.
func (n *Node) refuse(w http.ResponseWriter, p *Partner, f *refusal) {
	n.countRefusal(p.ID, f.code)
	if f.code == CodeBusy {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(n.srv.lim.retryAfter.Seconds()))))
	}
	writeError(w, f.status, f.code, f.msg)
}

// decodeRefusal is the refusal of a body that does not decode.
func decodeRefusal(err error) *refusal {
	if errors.Is(err, match.ErrOversized) || errors.Is(err, match.ErrBatchTooLarge) {
		return &refusal{http.StatusRequestEntityTooLarge, CodeTooLarge, err.Error()}
	}
	return &refusal{http.StatusBadRequest, CodeMalformed, err.Error()}
}

func busy(what string) *refusal {
	return &refusal{http.StatusServiceUnavailable, CodeBusy, what + "; try again later"}
}

// An incoming request is an evaluation, count or confirm request read
// within the server's limits. done gives back what it holds.
type incoming struct {
	n       *Node
	p       *Partner
	hdr     *match.RequestHeader
	e       *epoch // the epoch of the key it names
	charged uint64 // the current epoch
	body    []byte
	held    int64 // body bytes held in the admission
}

func (in *incoming) done() { in.n.srv.adm.done(in.p.ID, in.held) }

// readRequest reads a request within the server's limits, authorising it
// before it reads more than its header. In order: a request slot for the
// partner (or busy); a declared length within the limit; the header (at
// most match.MaxRequestHeaderLen bytes), its size and the key it names;
// authorise, the partner's policy for what the header declares; room for
// the body among the bodies in flight (or busy); and only then the body,
// of exactly the length the header declares. It answers the errors
// itself; ok is false after one.
func (n *Node) readRequest(w http.ResponseWriter, r *http.Request, p *Partner,
	parse func([]byte) (*match.RequestHeader, error),
	authorise func(h *match.RequestHeader, e *epoch, charged uint64) *refusal) (_ *incoming, ok bool) {
	if r.ProtoMajor == 1 {
		// An HTTP/1 server reads what is left of a body before it answers,
		// up to 256 KiB; the body of a request refused here is not read,
		// so its connection is closed instead, and the refusal answered at
		// once. Taken off once the body is read.
		w.Header().Set("Connection", "close")
		defer func() {
			if ok {
				w.Header().Del("Connection")
			}
		}()
	}
	if !n.srv.adm.admit(p.ID) {
		n.refuse(w, p, busy("too many requests in flight"))
		return nil, false
	}
	in := &incoming{n: n, p: p}
	defer func() {
		if !ok {
			in.done()
		}
	}()
	if f := n.readHeader(r, in, parse); f != nil {
		n.refuse(w, p, f)
		return nil, false
	}
	if f := authorise(in.hdr, in.e, in.charged); f != nil {
		n.refuse(w, p, f)
		return nil, false
	}
	size := in.hdr.Size()
	if !n.srv.adm.hold(p.ID, int64(size)) {
		n.refuse(w, p, busy("too many request bodies in flight"))
		return nil, false
	}
	in.held = int64(size)
	if f := readBody(r, in, size); f != nil {
		n.refuse(w, p, f)
		return nil, false
	}
	return in, true
}

// readHeader reads and decodes the request's header into in, and finds
// the epoch of the key it names.
func (n *Node) readHeader(r *http.Request, in *incoming, parse func([]byte) (*match.RequestHeader, error)) *refusal {
	limit := requestBodyLimit(n.cfg.MaxBatch)
	if r.ContentLength > limit {
		return &refusal{http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("body of %d bytes, limit %d", r.ContentLength, limit)}
	}
	prefix := make([]byte, match.MaxRequestHeaderLen)
	k, err := io.ReadFull(r.Body, prefix)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return &refusal{http.StatusBadRequest, CodeMalformed, "unreadable body"}
	}
	in.body = prefix[:k]
	h, err := parse(in.body)
	if err != nil {
		return decodeRefusal(err)
	}
	in.hdr = h
	switch size := int64(h.Size()); {
	case h.Len() > n.cfg.MaxBatch:
		return &refusal{http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("batch of %d, limit %d", h.Len(), n.cfg.MaxBatch)}
	case r.ContentLength >= 0 && r.ContentLength != size:
		return &refusal{http.StatusBadRequest, CodeMalformed, fmt.Sprintf("body of %d bytes, the request declares %d", r.ContentLength, size)}
	case int64(k) > size:
		return &refusal{http.StatusBadRequest, CodeMalformed, fmt.Sprintf("body longer than the %d bytes the request declares", size)}
	}
	in.e, in.charged = n.publisherFor(h.KeyID(), h.IsCount())
	switch {
	case in.charged == 0:
		return &refusal{http.StatusServiceUnavailable, CodeNotPublished, "no filter published yet"}
	case in.e == nil:
		return &refusal{http.StatusGone, CodeUnknownKey, "key " + h.KeyID().String() + " is not served (its epoch is over); fetch the filter again"}
	}
	return nil
}

// readBody reads the rest of a body of size bytes, the header's bytes
// already in in.body, and refuses a body shorter or longer than that.
func readBody(r *http.Request, in *incoming, size int) *refusal {
	body := make([]byte, size)
	k := copy(body, in.body)
	in.body = nil
	if _, err := io.ReadFull(r.Body, body[k:]); err != nil {
		return &refusal{http.StatusBadRequest, CodeMalformed, fmt.Sprintf("body shorter than the %d bytes the request declares", size)}
	}
	var one [1]byte
	if m, _ := io.ReadFull(r.Body, one[:]); m != 0 {
		return &refusal{http.StatusBadRequest, CodeMalformed, fmt.Sprintf("body longer than the %d bytes the request declares", size)}
	}
	in.body = body
	return nil
}
