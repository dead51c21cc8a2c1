package match

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
)

// An EvalRequest is a querier's batch of blinded indicators of one kind,
// for the publisher to evaluate. It reveals the kind and the count, and
// nothing about the values (RFC 9497 Section 3.3, Blind).
//
// The elements are divided into chunks of ChunkSize (the last may be
// shorter); each chunk is an RFC 9497 batch with its own proof, so that
// both sides can work on chunks in parallel.
//
// A publisher reads Kind and Len to authorise a request before
// [Publisher.Evaluate]; the other accessors are for a layer that routes
// requests to the key they name, and most users can ignore them.
type EvalRequest struct {
	hdr   msgHeader
	kind  string
	chunk int
	count int
	elems []byte // count × Ne bytes
}

// Kind returns the name of the kind the batch declares. In [ModePOPRF] the
// declaration is binding: elements blinded as another kind produce no
// match.
func (r *EvalRequest) Kind() string { return r.kind }

// Len returns the number of elements.
func (r *EvalRequest) Len() int { return r.count }

// ChunkSize returns the number of elements under one proof.
func (r *EvalRequest) ChunkSize() int { return r.chunk }

// Suite returns the request's suite.
func (r *EvalRequest) Suite() Suite { return r.hdr.suite }

// Mode returns the request's mode.
func (r *EvalRequest) Mode() Mode { return r.hdr.mode }

// KeyID returns the id of the key the request is for.
func (r *EvalRequest) KeyID() KeyID { return r.hdr.keyID }

// MarshalBinary encodes the request (PROTOCOL.md, "Evaluation request"):
//
//	header(type 0x02) suite mode keyID[16]
//	kindLen:u8 kind chunk:u16 count:u32 elements[count][Ne]
func (r *EvalRequest) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, msgHeaderLen+1+len(r.kind)+6+len(r.elems))
	b = r.hdr.append(b, wire.TypeEvalRequest)
	b = append(b, byte(len(r.kind)))
	b = append(b, r.kind...)
	b = binary.BigEndian.AppendUint16(b, uint16(r.chunk))
	b = binary.BigEndian.AppendUint32(b, uint32(r.count))
	return append(b, r.elems...), nil
}

// UnmarshalBinary decodes a request. It checks lengths, the kind name and
// the limits; elements are decoded (and refused if invalid) by
// [Publisher.Check] and [Publisher.Evaluate], so that a publisher can
// authorise a request by kind and count before doing any group operation.
// A server can also decode the header alone, before reading the elements
// ([ParseEvalRequestHeader]).
func (r *EvalRequest) UnmarshalBinary(data []byte) error {
	s := cryptobyte.String(data)
	h, err := readEvalHeader(&s)
	if err != nil {
		return err
	}
	q := EvalRequest{hdr: h.hdr, kind: h.kind, chunk: h.chunk, count: h.count}
	if q.elems, err = readFixed(&s, q.count, h.itemSize, "elements"); err != nil {
		return err
	}
	if err := checkEmpty(s, "evaluation request"); err != nil {
		return err
	}
	*r = q
	return nil
}

func readChunk(s *cryptobyte.String) (int, error) {
	var c uint16
	if !s.ReadUint16(&c) {
		return 0, fmt.Errorf("%w: chunk size", ErrTruncated)
	}
	if c == 0 {
		return 0, malformed("chunk size zero")
	}
	return int(c), nil
}

// checkChunk enforces the protocol's minimum chunk: MinChunkSize, or the
// whole batch if it is smaller.
func checkChunk(chunk, count int) error {
	if chunk < min(count, MinChunkSize) {
		return malformed("chunks of %d elements in a batch of %d (minimum %d)", chunk, count, MinChunkSize)
	}
	return nil
}

func numChunks(count, chunk int) int { return (count + chunk - 1) / chunk }

// An EvalResponse is the publisher's answer to an [EvalRequest]: the
// evaluated elements and, in the verifiable modes, one DLEQ proof per
// chunk.
type EvalResponse struct {
	hdr    msgHeader
	chunk  int
	count  int
	elems  []byte // count × Ne
	proofs []byte // numChunks × 2·Ns, verifiable modes only
}

// Len returns the number of elements.
func (r *EvalResponse) Len() int { return r.count }

// KeyID returns the id of the key the response claims to be made with.
func (r *EvalResponse) KeyID() KeyID { return r.hdr.keyID }

func proofLen(h *msgHeader, count, chunk int) int {
	if !h.mode.verifiable() {
		return 0
	}
	return numChunks(count, chunk) * 2 * h.suite.params().scalarLen
}

// MarshalBinary encodes the response (PROTOCOL.md, "Evaluation response"):
//
//	header(type 0x03) suite mode keyID[16]
//	chunk:u16 count:u32 elements[count][Ne] proofs[ceil(count/chunk)][2·Ns]
func (r *EvalResponse) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, msgHeaderLen+6+len(r.elems)+len(r.proofs))
	b = r.hdr.append(b, wire.TypeEvalResponse)
	b = binary.BigEndian.AppendUint16(b, uint16(r.chunk))
	b = binary.BigEndian.AppendUint32(b, uint32(r.count))
	b = append(b, r.elems...)
	return append(b, r.proofs...), nil
}

// UnmarshalBinary decodes a response. Elements and proofs are decoded and
// verified by [Query.Finalize].
func (r *EvalResponse) UnmarshalBinary(data []byte) error {
	s := cryptobyte.String(data)
	var q EvalResponse
	if err := q.hdr.read(&s, wire.TypeEvalResponse); err != nil {
		return err
	}
	var err error
	if q.chunk, err = readChunk(&s); err != nil {
		return err
	}
	if q.count, err = readCount(&s, "elements", MaxBatch); err != nil {
		return err
	}
	if q.count == 0 {
		return fmt.Errorf("%w: response of zero elements", ErrEmptyBatch)
	}
	if err := checkChunk(q.chunk, q.count); err != nil {
		return err
	}
	if q.elems, err = readFixed(&s, q.count, q.hdr.suite.params().elemLen, "elements"); err != nil {
		return err
	}
	if q.proofs, err = readFixed(&s, 1, proofLen(&q.hdr, q.count, q.chunk), "proofs"); err != nil {
		return err
	}
	if err := checkEmpty(s, "evaluation response"); err != nil {
		return err
	}
	*r = q
	return nil
}

// A ConfirmRequest carries the confirm tags of a querier's candidate hits.
type ConfirmRequest struct {
	hdr  msgHeader
	tags []byte // count × tagSize
}

// Len returns the number of tags.
func (r *ConfirmRequest) Len() int { return len(r.tags) / tagSize }

// KeyID returns the id of the key the tags were computed under.
func (r *ConfirmRequest) KeyID() KeyID { return r.hdr.keyID }

// MarshalBinary encodes the request (PROTOCOL.md, "Confirm request"):
//
//	header(type 0x04) suite mode keyID[16] count:u32 tags[count][16]
func (r *ConfirmRequest) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, msgHeaderLen+4+len(r.tags))
	b = r.hdr.append(b, wire.TypeConfirmRequest)
	b = binary.BigEndian.AppendUint32(b, uint32(r.Len()))
	return append(b, r.tags...), nil
}

// UnmarshalBinary decodes a confirm request. A server can decode the
// header alone, before reading the tags ([ParseConfirmRequestHeader]).
func (r *ConfirmRequest) UnmarshalBinary(data []byte) error {
	s := cryptobyte.String(data)
	h, err := readConfirmHeader(&s)
	if err != nil {
		return err
	}
	q := ConfirmRequest{hdr: h.hdr}
	if q.tags, err = readFixed(&s, h.count, tagSize, "tags"); err != nil {
		return err
	}
	if err := checkEmpty(s, "confirm request"); err != nil {
		return err
	}
	*r = q
	return nil
}

// A ConfirmResponse answers a [ConfirmRequest] tag by tag: hit or not,
// and for a hit the labels the publisher releases.
type ConfirmResponse struct {
	hdr     msgHeader
	results []confirmResult
}

type confirmResult struct {
	hit       bool
	withdrawn bool     // not a hit: every entry holding it was removed
	labels    []string // non-empty labels; at most MaxRepeats
}

// Answers in a confirm response; the values are on the wire, do not
// reorder. An answer with one label or none is answerLabel, so that a
// list without repeated indicators encodes as it always has.
const (
	answerNo     = 0x00 // not an entry: a Bloom false positive
	answerLabel  = 0x01 // an entry; one label, or none (empty)
	answerLabels = 0x02 // an entry held by several entries; 2 to MaxRepeats labels
	// answerWithdrawn: an indicator of this filter's list whose entries
	// were all removed since (Publisher.Remove); not a hit.
	answerWithdrawn = 0x03
)

// Len returns the number of answers.
func (r *ConfirmResponse) Len() int { return len(r.results) }

// Redact removes from every hit the labels for which release returns
// false: the querier still learns the hit, without them. A publisher uses
// it to apply a partner's label policy.
func (r *ConfirmResponse) Redact(release func(label string) bool) {
	for i := range r.results {
		r.results[i].labels = slices.DeleteFunc(r.results[i].labels, func(l string) bool { return !release(l) })
	}
}

// Confirmed returns the number of tags the response confirms as hits.
// (The publisher's []ConfirmedEntry from [Publisher.Confirm] can be
// longer: a hit confirms every entry that holds the indicator.)
func (r *ConfirmResponse) Confirmed() int {
	n := 0
	for _, c := range r.results {
		if c.hit {
			n++
		}
	}
	return n
}

// MarshalBinary encodes the response (PROTOCOL.md, "Confirm response"):
//
//	header(type 0x05) suite mode keyID[16] count:u32
//	count × (0x00 | 0x01 labelLen:u16 label | 0x02 n:u8 n × (labelLen:u16 label) | 0x03)
func (r *ConfirmResponse) MarshalBinary() ([]byte, error) {
	size := msgHeaderLen + 4
	for _, c := range r.results {
		size += 2
		for _, l := range c.labels {
			size += 2 + len(l)
		}
	}
	b := make([]byte, 0, size)
	b = r.hdr.append(b, wire.TypeConfirmResponse)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.results)))
	for _, c := range r.results {
		switch {
		case c.withdrawn:
			b = append(b, answerWithdrawn)
		case !c.hit:
			b = append(b, answerNo)
		case len(c.labels) <= 1:
			b = append(b, answerLabel)
			b = appendLabel(b, strings.Join(c.labels, ""))
		default:
			b = append(b, answerLabels, byte(len(c.labels)))
			for _, l := range c.labels {
				b = appendLabel(b, l)
			}
		}
	}
	return b, nil
}

func appendLabel(b []byte, l string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(l)))
	return append(b, l...)
}

// UnmarshalBinary decodes a confirm response.
func (r *ConfirmResponse) UnmarshalBinary(data []byte) error {
	s := cryptobyte.String(data)
	var q ConfirmResponse
	if err := q.hdr.read(&s, wire.TypeConfirmResponse); err != nil {
		return err
	}
	n, err := readCount(&s, "answers", MaxBatch)
	if err != nil {
		return err
	}
	if len(s) < n { // every answer takes at least one byte
		return fmt.Errorf("%w: %d answers need at least %d bytes, have %d", ErrTruncated, n, n, len(s))
	}
	q.results = make([]confirmResult, n)
	for i := range q.results {
		if q.results[i], err = readAnswer(&s, i); err != nil {
			return err
		}
	}
	if err := checkEmpty(s, "confirm response"); err != nil {
		return err
	}
	*r = q
	return nil
}

// readAnswer reads answer i of a confirm response.
func readAnswer(s *cryptobyte.String, i int) (confirmResult, error) {
	var flag, count uint8
	if !s.ReadUint8(&flag) {
		return confirmResult{}, fmt.Errorf("%w: answer %d", ErrTruncated, i)
	}
	switch flag {
	case answerNo:
		return confirmResult{}, nil
	case answerWithdrawn:
		return confirmResult{withdrawn: true}, nil
	case answerLabel:
		l, err := readLabel(s, i)
		switch {
		case err != nil:
			return confirmResult{}, err
		case l == "":
			return confirmResult{hit: true}, nil
		}
		return confirmResult{hit: true, labels: []string{l}}, nil
	case answerLabels:
		if !s.ReadUint8(&count) {
			return confirmResult{}, fmt.Errorf("%w: label count of answer %d", ErrTruncated, i)
		}
		if count < 2 || count > MaxRepeats {
			return confirmResult{}, malformed("answer %d has %d labels (want 2 to %d)", i, count, MaxRepeats)
		}
	default:
		return confirmResult{}, malformed("answer %d has flag 0x%02x", i, flag)
	}
	if len(*s) < 2*int(count) { // every label takes at least its length
		return confirmResult{}, fmt.Errorf("%w: %d labels of answer %d", ErrTruncated, count, i)
	}
	r := confirmResult{hit: true, labels: make([]string, count)}
	seen := make(map[string]bool, count)
	for j := range r.labels {
		l, err := readLabel(s, i)
		switch {
		case err != nil:
			return confirmResult{}, err
		case l == "":
			return confirmResult{}, malformed("answer %d has an empty label in a list", i)
		case seen[l]:
			return confirmResult{}, malformed("answer %d repeats a label", i)
		}
		seen[l] = true
		r.labels[j] = l
	}
	return r, nil
}

func readLabel(s *cryptobyte.String, i int) (string, error) {
	var label []byte
	if !s.ReadUint16LengthPrefixed((*cryptobyte.String)(&label)) {
		return "", fmt.Errorf("%w: label of answer %d", ErrTruncated, i)
	}
	if len(label) > MaxLabelLen {
		return "", fmt.Errorf("%w: label of %d bytes, limit %d", ErrOversized, len(label), MaxLabelLen)
	}
	if !utf8.Valid(label) {
		return "", malformed("label of answer %d is not UTF-8", i)
	}
	if labelControl(label) >= 0 { // see CheckLabel: it would forge lines where printed
		return "", fmt.Errorf("%w: answer %d: %w", ErrMalformed, i, ErrInvalidLabel)
	}
	return string(label), nil
}
