package match

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// MaxRequestHeaderLen is the length of the longest [RequestHeader]: that
// of an evaluation request declaring a kind name of the longest length
// (indicator.MaxKindNameLen). A server that reads this many bytes of a
// request (or the whole request, if it is shorter) holds its header.
const MaxRequestHeaderLen = msgHeaderLen + 1 + indicator.MaxKindNameLen + 2 + 4

// A RequestHeader is the part of an [EvalRequest], a [CountRequest] or a [ConfirmRequest]
// before its elements or tags: everything a publisher needs to authorise
// the request (key, kind, count) and to know its exact length, before it
// reads the rest. A server decodes it from the first bytes of a request
// body with [ParseEvalRequestHeader] or [ParseConfirmRequestHeader], so
// that a request it refuses costs it a few hundred bytes of reading, not
// the whole body.
type RequestHeader struct {
	hdr      msgHeader
	kind     string // evaluation requests only
	chunk    int    // evaluation requests only
	count    int
	len      int  // bytes of the header
	itemSize int  // bytes of an element or a tag
	isCount  bool // a count request's
}

// IsCount reports whether the header is a count request's: its key id is
// then a count key's ([PrivateKey.CountPublicKey]).
func (h *RequestHeader) IsCount() bool { return h.isCount }

// Kind returns the kind an evaluation or count request declares ("" for
// a confirm request).
func (h *RequestHeader) Kind() string { return h.kind }

// Len returns the number of elements or tags the request declares.
func (h *RequestHeader) Len() int { return h.count }

// KeyID returns the id of the key the request is for.
func (h *RequestHeader) KeyID() KeyID { return h.hdr.keyID }

// Suite returns the request's suite.
func (h *RequestHeader) Suite() Suite { return h.hdr.suite }

// Mode returns the request's mode.
func (h *RequestHeader) Mode() Mode { return h.hdr.mode }

// HeaderLen returns the length of the header in bytes.
func (h *RequestHeader) HeaderLen() int { return h.len }

// Size returns the length in bytes of the whole request the header
// declares: the header and its elements or tags. It is at most
// MaxRequestHeaderLen + MaxBatch × 133 (a P-256 element is 33 bytes).
func (h *RequestHeader) Size() int { return h.len + h.count*h.itemSize }

// ParseEvalRequestHeader decodes the header of an evaluation request from
// prefix, the first bytes of its encoding; what follows the header is
// ignored. It checks what [EvalRequest.UnmarshalBinary] checks of the
// header (type, suite, mode, kind name, chunk, count within MaxBatch), and
// returns an error wrapping ErrTruncated if prefix ends inside the
// header.
func ParseEvalRequestHeader(prefix []byte) (*RequestHeader, error) {
	s := cryptobyte.String(prefix)
	h, err := readEvalHeader(&s)
	if err != nil {
		return nil, err
	}
	h.len = len(prefix) - len(s)
	return h, nil
}

// ParseConfirmRequestHeader decodes the header of a confirm request from
// prefix, as [ParseEvalRequestHeader] does for an evaluation request.
func ParseConfirmRequestHeader(prefix []byte) (*RequestHeader, error) {
	s := cryptobyte.String(prefix)
	h, err := readConfirmHeader(&s)
	if err != nil {
		return nil, err
	}
	h.len = len(prefix) - len(s)
	return h, nil
}

// ParseCountRequestHeader decodes the header of a count request
// ([CountRequest]) from prefix, as [ParseEvalRequestHeader] does for an
// evaluation request. Its Kind and Len are the request's.
func ParseCountRequestHeader(prefix []byte) (*RequestHeader, error) {
	s := cryptobyte.String(prefix)
	h, err := readCountHeader(&s)
	if err != nil {
		return nil, err
	}
	h.len = len(prefix) - len(s)
	return h, nil
}

// readCountHeader reads a count request up to its elements.
func readCountHeader(s *cryptobyte.String) (*RequestHeader, error) {
	var h RequestHeader
	if err := h.hdr.read(s, wire.TypeCountRequest); err != nil {
		return nil, err
	}
	var kind cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&kind) {
		return nil, fmt.Errorf("%w: kind", ErrTruncated)
	}
	if err := indicator.CheckKindName(string(kind)); err != nil {
		return nil, malformed("%v", err)
	}
	h.kind = string(kind)
	var err error
	if h.count, err = readCount(s, "elements", MaxBatch); err != nil {
		return nil, err
	}
	if h.count == 0 {
		return nil, fmt.Errorf("%w: count request of zero elements", ErrEmptyBatch)
	}
	h.itemSize = h.hdr.suite.params().elemLen
	h.isCount = true
	return &h, nil
}

// readEvalHeader reads an evaluation request up to its elements.
func readEvalHeader(s *cryptobyte.String) (*RequestHeader, error) {
	var h RequestHeader
	if err := h.hdr.read(s, wire.TypeEvalRequest); err != nil {
		return nil, err
	}
	var kind []byte
	if !s.ReadUint8LengthPrefixed((*cryptobyte.String)(&kind)) {
		return nil, fmt.Errorf("%w: kind", ErrTruncated)
	}
	if err := indicator.CheckKindName(string(kind)); err != nil {
		return nil, malformed("%v", err)
	}
	h.kind = string(kind)
	var err error
	if h.chunk, err = readChunk(s); err != nil {
		return nil, err
	}
	if h.count, err = readCount(s, "elements", MaxBatch); err != nil {
		return nil, err
	}
	if h.count == 0 {
		return nil, fmt.Errorf("%w: request of zero elements", ErrEmptyBatch)
	}
	if err := checkChunk(h.chunk, h.count); err != nil {
		return nil, err
	}
	h.itemSize = h.hdr.suite.params().elemLen
	return &h, nil
}

// readConfirmHeader reads a confirm request up to its tags.
func readConfirmHeader(s *cryptobyte.String) (*RequestHeader, error) {
	var h RequestHeader
	if err := h.hdr.read(s, wire.TypeConfirmRequest); err != nil {
		return nil, err
	}
	var err error
	if h.count, err = readCount(s, "tags", MaxBatch); err != nil {
		return nil, err
	}
	h.itemSize = tagSize
	return &h, nil
}
