package match

import (
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/cloudflare/circl/group"
	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
)

const maxUint16 = 1<<16 - 1

// readHeader reads the common header and maps its errors to this package's
// sentinels.
func readHeader(s *cryptobyte.String, t wire.Type) error {
	err := wire.ReadHeader(s, t)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wire.ErrTruncated):
		return fmt.Errorf("%w: %v header", ErrTruncated, t)
	default:
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
}

func readSuite(s *cryptobyte.String) (Suite, error) {
	var c uint8
	if !s.ReadUint8(&c) {
		return 0, fmt.Errorf("%w: suite", ErrTruncated)
	}
	return suiteFromCode(c)
}

// msgHeader is the part every protocol message shares after the common
// header: suite, mode and the id of the publisher key it belongs to.
type msgHeader struct {
	suite Suite
	mode  Mode
	keyID KeyID
}

const msgHeaderLen = wire.HeaderLen + 2 + KeyIDSize

func (h *msgHeader) append(b []byte, t wire.Type) []byte {
	b = wire.AppendHeader(b, t)
	b = append(b, h.suite.params().code, rfcMode[h.mode])
	return append(b, h.keyID[:]...)
}

func (h *msgHeader) read(s *cryptobyte.String, t wire.Type) error {
	if err := readHeader(s, t); err != nil {
		return err
	}
	var err error
	if h.suite, err = readSuite(s); err != nil {
		return err
	}
	var m uint8
	if !s.ReadUint8(&m) {
		return fmt.Errorf("%w: mode", ErrTruncated)
	}
	if h.mode, err = modeFromCode(m); err != nil {
		return err
	}
	if !s.CopyBytes(h.keyID[:]) {
		return fmt.Errorf("%w: key id", ErrTruncated)
	}
	return nil
}

// check reports whether a message header fits the expected suite, mode and
// key, most specific error first.
func (h *msgHeader) check(want *msgHeader) error {
	switch {
	case h.suite != want.suite:
		return fmt.Errorf("%w: got %v, want %v", ErrWrongSuite, h.suite, want.suite)
	case h.mode != want.mode:
		return fmt.Errorf("%w: got %v, want %v", ErrWrongMode, h.mode, want.mode)
	case h.keyID != want.keyID:
		return fmt.Errorf("%w: got key id %v, want %v", ErrWrongKey, h.keyID, want.keyID)
	}
	return nil
}

// decodeElement is DeserializeElement (RFC 9497 Section 2.1): only the
// suite's compressed encoding, which circl decodes canonically
// (ristretto255 by construction, P-256 through crypto/elliptic's
// UnmarshalCompressed), and never the identity.
func decodeElement(sp *suiteParams, b []byte) (group.Element, error) {
	if len(b) != sp.elemLen {
		return nil, ErrInvalidElement
	}
	e := sp.group.NewElement()
	if err := e.UnmarshalBinary(b); err != nil || e.IsIdentity() {
		return nil, ErrInvalidElement
	}
	return e, nil
}

func constantTimeEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// readCount reads a uint32 count and refuses values above limit before the
// caller allocates anything for it.
func readCount(s *cryptobyte.String, what string, limit int) (int, error) {
	var n uint32
	if !s.ReadUint32(&n) {
		return 0, fmt.Errorf("%w: %s count", ErrTruncated, what)
	}
	if uint64(n) > uint64(limit) {
		return 0, fmt.Errorf("%w: %d %s, limit %d", ErrOversized, n, what, limit)
	}
	return int(n), nil
}

// readFixed reads n items of size bytes each, checking the length before
// copying (the result does not alias the input).
func readFixed(s *cryptobyte.String, n, size int, what string) ([]byte, error) {
	total := n * size // n and size are bounded by the limits: no overflow
	if len(*s) < total {
		return nil, fmt.Errorf("%w: %d %s need %d bytes, have %d", ErrTruncated, n, what, total, len(*s))
	}
	var b []byte
	s.ReadBytes(&b, total)
	return append([]byte(nil), b...), nil
}

func checkEmpty(s cryptobyte.String, what string) error {
	if !s.Empty() {
		return malformed("%d trailing bytes after %s", len(s), what)
	}
	return nil
}
