package federation

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
	"github.com/fedmatch/fedmatch/match"
)

// A node serves its current filter at GET /fedmatch/v1/filter, signed
// with its identity key, in one of two envelopes (PROTOCOL.md, "Signed
// filter"). The signed filter (type 0x09), which every client reads:
//
//	header(type 0x09) nodeIDLen:u8 nodeID epoch:u64 keyID[16]
//	filterLen:u32 filter signature[64]
//
// signed in Ed25519 over "fedmatch-v1 signed filter" followed by every
// byte before the signature; a client verifies it only once it holds the
// whole filter. The streamed signed filter (type 0x0A), served to a
// client whose Accept header names [MediaTypeStreamedFilter]:
//
//	header(type 0x0A) nodeIDLen:u8 nodeID epoch:u64 keyID[16]
//	filterLen:u64 filterHash[32] signature[64] filter
//
// signed over "fedmatch-v1 streamed filter" followed by every byte
// before the signature, with filterHash = SHA-256(filter). A client
// verifies the envelope, checks filterLen against its maximum for the
// partner before it reads a byte of the filter, then decodes the filter
// as it arrives while hashing it, and accepts it only if the hash
// matches: accepting a filter costs about its size in memory. In both,
// the epoch and key id repeat the filter's, so a node cannot present one
// key in its envelope and another in its filter.
const (
	labelSignedFilter   = "fedmatch-v1 signed filter"
	labelStreamedFilter = "fedmatch-v1 streamed filter"
)

// MediaTypeStreamedFilter is the media type of the streamed signed filter
// (type 0x0A, PROTOCOL.md section 5.2). A request for the filter whose
// Accept header names it gets that envelope, with this Content-Type;
// any other gets the signed filter (type 0x09) as
// application/octet-stream.
const MediaTypeStreamedFilter = "application/vnd.fedmatch.streamed-filter"

// acceptFilter is the Accept header of this node's filter requests: the
// streamed envelope, or the signed filter from a node that predates it.
const acceptFilter = MediaTypeStreamedFilter + ", application/octet-stream;q=0.5"

// filterEnvelopeMax bounds what either envelope adds to the filter: the
// header, a node ID of up to 255 bytes, epoch, key id, length, hash and
// signature.
const filterEnvelopeMax = int64(wire.HeaderLen + 1 + 255 + 8 + match.KeyIDSize + 8 + sha256.Size + ed25519.SignatureSize)

// Errors of signed filters. A partner's filter that fails any check is
// refused before any indicator is blinded for it. A filter above the
// partner's maxima (Partner.MaxFilterEntries, MaxFilterBytes) is refused
// with match.ErrUnsafeFilter, before its bits are read.
var (
	ErrFilterSignature = errors.New("federation: filter signature does not verify")
	ErrFilterSigner    = errors.New("federation: filter signed by another node")
	ErrFilterExpired   = errors.New("federation: filter outside its validity window")
	ErrFilterKey       = errors.New("federation: filter key does not match its envelope")
	ErrFilterRollback  = errors.New("federation: filter of an older epoch than one already seen")
	ErrFilterMalformed = errors.New("federation: malformed signed filter")
)

// A signedFilter is a node's filter in both envelopes, made once per
// epoch. The filter's bytes are held once.
type signedFilter struct {
	legacy     []byte // the signed filter (0x09); nil if the filter has 2^32 bytes or more
	legacyETag string
	filter     []byte // the filter's encoding, within legacy when there is one
	stream     []byte // the streamed signed filter (0x0A) up to the filter
	streamETag string
}

func newSignedFilter(id string, key ed25519.PrivateKey, f *match.Filter) (*signedFilter, error) {
	kid := f.KeyID()
	envelope := func(b []byte, t wire.Type) []byte {
		b = wire.AppendHeader(b, t)
		b = append(b, byte(len(id)))
		b = append(b, id...)
		b = binary.BigEndian.AppendUint64(b, f.Epoch())
		return append(b, kid[:]...)
	}
	sf := &signedFilter{}
	if size := f.Size(); size <= math.MaxUint32 {
		// Signed in place (label, envelope, filter), so that the filter
		// is encoded once; the label is then sliced off.
		b := envelope([]byte(labelSignedFilter), wire.TypeSignedFilter)
		b = binary.BigEndian.AppendUint32(b, uint32(size))
		start := len(b)
		b, err := f.AppendBinary(b)
		if err != nil {
			return nil, err
		}
		sf.filter = b[start:len(b):len(b)]
		b = append(b, ed25519.Sign(key, b)...)
		sf.legacy = b[len(labelSignedFilter):]
		sf.legacyETag = etagOf(sf.legacy)
	} else {
		fb, err := f.MarshalBinary()
		if err != nil {
			return nil, err
		}
		sf.filter = fb
	}
	sum := sha256.Sum256(sf.filter)
	st := envelope([]byte(labelStreamedFilter), wire.TypeStreamedFilter)
	st = binary.BigEndian.AppendUint64(st, uint64(len(sf.filter)))
	st = append(st, sum[:]...)
	st = append(st, ed25519.Sign(key, st)...)
	sf.stream = st[len(labelStreamedFilter):]
	sf.streamETag = etagOf(sf.stream) // it holds the filter's hash
	return sf, nil
}

// serve answers GET filter (PROTOCOL.md, section 5.3) with the envelope
// the request asks for: the streamed signed filter if its Accept header
// names MediaTypeStreamedFilter (or if the filter is too large for the
// other), the signed filter otherwise. Each has its own ETag.
func (sf *signedFilter) serve(w http.ResponseWriter, r *http.Request) {
	parts, etag, ctype := [][]byte{sf.legacy}, sf.legacyETag, "application/octet-stream"
	if sf.legacy == nil || accepts(r.Header.Values("Accept"), MediaTypeStreamedFilter) {
		parts, etag, ctype = [][]byte{sf.stream, sf.filter}, sf.streamETag, MediaTypeStreamedFilter
	}
	h := w.Header()
	h.Set("Vary", "Accept")
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(n))
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return
		}
	}
}

// accepts reports whether Accept header values name the media type mt
// with a nonzero quality (parameters other than q are ignored).
func accepts(accept []string, mt string) bool {
	for _, v := range accept {
		for part := range strings.SplitSeq(v, ",") {
			t, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || t != mt {
				continue
			}
			if q, err := strconv.ParseFloat(params["q"], 64); params["q"] == "" || err == nil && q > 0 {
				return true
			}
		}
	}
	return false
}

// readSignedFilter reads partner p's filter, in either envelope, from an
// answer to GET filter of size bytes (-1 if undeclared), verifies it at
// time now and checks it against the partner's maxima. The streamed
// envelope is verified as the filter arrives, its length checked before
// the filter is read; the signed filter, from a node that predates it, is
// read whole, within the maximum, and then verified. Errors of r are
// returned wrapped, and are the only errors not of this package's or
// match's sentinels.
func readSignedFilter(r io.Reader, size int64, p *Partner, now time.Time) (*match.Filter, error) {
	rr := &recordingReader{r: r}
	hdr := make([]byte, wire.HeaderLen)
	if err := readEnvelope(rr, hdr); err != nil {
		return nil, err
	}
	var f *match.Filter
	hs := cryptobyte.String(hdr)
	err := wire.ReadHeader(&hs, wire.TypeStreamedFilter)
	switch {
	case err == nil:
		f, err = readStreamed(rr, p)
	case errors.Is(err, wire.ErrType) && wire.Type(hdr[wire.HeaderLen-1]) == wire.TypeSignedFilter:
		f, err = readLegacy(rr, size, p)
	default:
		err = fmt.Errorf("%w: %v", ErrFilterMalformed, err)
	}
	switch {
	case rr.err != nil:
		return nil, fmt.Errorf("federation: reading the filter: %w", rr.err)
	case err != nil:
		return nil, err
	case f.NotBefore().IsZero() || f.NotAfter().IsZero() || !f.ValidAt(now):
		return nil, fmt.Errorf("%w: valid %v to %v, now %v", ErrFilterExpired, f.NotBefore(), f.NotAfter(), now.UTC())
	}
	return f, nil
}

// readStreamed reads a streamed signed filter after its header.
func readStreamed(r io.Reader, p *Partner) (*match.Filter, error) {
	// The signed message, label || envelope, grows as its fields arrive:
	// the node ID's length, then the rest of the envelope.
	msg := append([]byte(labelStreamedFilter), wire.AppendHeader(nil, wire.TypeStreamedFilter)...)
	idLen := make([]byte, 1)
	if err := readEnvelope(r, idLen); err != nil {
		return nil, err
	}
	msg = append(msg, idLen[0])
	rest := make([]byte, int(idLen[0])+8+match.KeyIDSize+8+sha256.Size+ed25519.SignatureSize)
	if err := readEnvelope(r, rest); err != nil {
		return nil, err
	}
	msg = append(msg, rest[:len(rest)-ed25519.SignatureSize]...)
	s := cryptobyte.String(rest)
	var id, kid, sum, sig []byte
	var epoch, filterLen uint64
	// rest has exactly the fields' length: the reads cannot fail.
	s.ReadBytes(&id, int(idLen[0]))
	s.ReadUint64(&epoch)
	s.ReadBytes(&kid, match.KeyIDSize)
	s.ReadUint64(&filterLen)
	s.ReadBytes(&sum, sha256.Size)
	s.ReadBytes(&sig, ed25519.SignatureSize)
	if !ed25519.Verify(p.Identity, msg, sig) {
		return nil, ErrFilterSignature
	}
	if string(id) != p.ID {
		return nil, fmt.Errorf("%w: %q, want %q", ErrFilterSigner, string(id), p.ID)
	}
	if limit := p.maxFilterBytes(); filterLen > uint64(limit) {
		return nil, fmt.Errorf("%w: %d bytes, above the maximum %d (Partner.MaxFilterBytes)", match.ErrUnsafeFilter, filterLen, limit)
	}
	// The filter's bits are decoded as they arrive, into the filter,
	// while they are hashed: nothing is trusted until the hash matches.
	h := sha256.New()
	lr := &io.LimitedReader{R: r, N: int64(filterLen)}
	f, err := match.ReadFilter(io.TeeReader(lr, h), p.querierOptions())
	if err != nil {
		return nil, filterError(err)
	}
	if lr.N != 0 {
		return nil, fmt.Errorf("%w: a filter of %d bytes, the envelope says %d", ErrFilterMalformed, filterLen-uint64(lr.N), filterLen)
	}
	if !bytes.Equal(h.Sum(nil), sum) {
		return nil, fmt.Errorf("%w: the filter does not match its signed hash", ErrFilterSignature)
	}
	if _, err := io.ReadFull(r, make([]byte, 1)); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing bytes", ErrFilterMalformed)
	}
	return f, checkEnvelopeKey(f, epoch, kid)
}

// readLegacy reads a signed filter (type 0x09) of size bytes (-1 if
// undeclared) after its header: whole, within partner p's maximum, into
// one buffer that holds the signed message.
func readLegacy(r io.Reader, size int64, p *Partner) (*match.Filter, error) {
	limit := p.maxFilterBytes() + filterEnvelopeMax
	if size > limit {
		return nil, fmt.Errorf("%w: a signed filter of %d bytes, above the maximum %d (Partner.MaxFilterBytes)", match.ErrUnsafeFilter, size, limit)
	}
	msg := make([]byte, 0, len(labelSignedFilter)+int(max(size, int64(wire.HeaderLen))))
	msg = append(msg, labelSignedFilter...)
	msg = wire.AppendHeader(msg, wire.TypeSignedFilter)
	msg, err := appendAll(msg, io.LimitReader(r, limit+1-int64(wire.HeaderLen)))
	if err != nil {
		return nil, err
	}
	if int64(len(msg)-len(labelSignedFilter)) > limit {
		return nil, fmt.Errorf("%w: a signed filter above the maximum %d bytes (Partner.MaxFilterBytes)", match.ErrUnsafeFilter, limit)
	}
	return verifyLegacy(msg, p)
}

// verifyLegacy verifies a signed filter: msg is the signature's label
// followed by the envelope.
func verifyLegacy(msg []byte, p *Partner) (*match.Filter, error) {
	data := msg[len(labelSignedFilter):]
	if len(data) < ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: truncated", ErrFilterMalformed)
	}
	body, sig := data[:len(data)-ed25519.SignatureSize], data[len(data)-ed25519.SignatureSize:]
	s := cryptobyte.String(body)
	if err := wire.ReadHeader(&s, wire.TypeSignedFilter); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFilterMalformed, err)
	}
	var id cryptobyte.String
	var epoch uint64
	var fbLen uint32
	var kid, fb []byte
	if !s.ReadUint8LengthPrefixed(&id) || !s.ReadUint64(&epoch) || !s.ReadBytes(&kid, match.KeyIDSize) ||
		!s.ReadUint32(&fbLen) || !s.ReadBytes(&fb, int(fbLen)) || !s.Empty() {
		return nil, fmt.Errorf("%w: truncated or trailing bytes", ErrFilterMalformed)
	}
	if !ed25519.Verify(p.Identity, msg[:len(msg)-ed25519.SignatureSize], sig) {
		return nil, ErrFilterSignature
	}
	if string(id) != p.ID {
		return nil, fmt.Errorf("%w: %q, want %q", ErrFilterSigner, string(id), p.ID)
	}
	br := bytes.NewReader(fb)
	f, err := match.ReadFilter(br, p.querierOptions())
	if err != nil {
		return nil, filterError(err)
	}
	if br.Len() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after the filter", ErrFilterMalformed, br.Len())
	}
	return f, checkEnvelopeKey(f, epoch, kid)
}

// checkEnvelopeKey checks that the envelope's epoch and key id are the
// filter's.
func checkEnvelopeKey(f *match.Filter, epoch uint64, kid []byte) error {
	if k := f.KeyID(); f.Epoch() != epoch || !bytes.Equal(k[:], kid) {
		return ErrFilterKey
	}
	return nil
}

// filterError maps an error of match.ReadFilter: a filter above the
// partner's maxima stays match.ErrUnsafeFilter, an undecodable one is
// ErrFilterMalformed. (Errors of the stream are recorded by the
// recordingReader and take precedence.)
func filterError(err error) error {
	if errors.Is(err, match.ErrUnsafeFilter) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrFilterMalformed, err)
}

// readEnvelope fills b; a stream that ends first is a truncated envelope.
func readEnvelope(r io.Reader, b []byte) error {
	_, err := io.ReadFull(r, b)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: truncated", ErrFilterMalformed)
	}
	return err
}

// appendAll appends everything r yields to b, as io.ReadAll does.
func appendAll(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// A recordingReader remembers the first error of its reader other than
// io.EOF: a failure of the connection rather than of the content.
type recordingReader struct {
	r   io.Reader
	err error
}

func (rr *recordingReader) Read(b []byte) (int, error) {
	n, err := rr.r.Read(b)
	if err != nil && err != io.EOF && rr.err == nil {
		rr.err = err
	}
	return n, err
}
