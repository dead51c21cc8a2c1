// Package wire holds the framing shared by every fedmatch binary message:
// the magic, the format version and the registry of message types. The
// message bodies are defined by the packages that own them (match,
// federation) and specified byte by byte in PROTOCOL.md.
package wire

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Magic opens every fedmatch message.
const Magic = "FDMT"

// Version is the format version written after [Magic]. A decoder refuses
// any other value: a new format gets a new version, never a silent
// reinterpretation.
const Version = 1

// HeaderLen is the length of the header written by [AppendHeader].
const HeaderLen = len(Magic) + 2

// Type identifies a message. The values appear on the wire; do not reorder,
// do not reuse.
type Type uint8

const (
	TypeFilter          Type = 0x01
	TypeEvalRequest     Type = 0x02
	TypeEvalResponse    Type = 0x03
	TypeConfirmRequest  Type = 0x04
	TypeConfirmResponse Type = 0x05
	TypePrivateKey      Type = 0x06
	TypePublicKey       Type = 0x07
	TypePublisherState  Type = 0x08
	TypeSignedFilter    Type = 0x09
	TypeStreamedFilter  Type = 0x0A
	TypeFilterDelta     Type = 0x0B
	// TypePublisherStateV is a publisher state with room, versions or
	// removals: TypePublisherState's fields and a trailer.
	TypePublisherStateV Type = 0x0C
	TypeWatch           Type = 0x0D
	TypeSignedDelta     Type = 0x0E
	// TypePublisherStatePadded is a publisher state with padding:
	// TypePublisherStateV's fields and the padding seeds.
	TypePublisherStatePadded Type = 0x0F
	// TypePublisherChange is one change of a publisher within its epoch,
	// for a journal beside its state.
	TypePublisherChange Type = 0x10
	TypeCountRequest    Type = 0x11
	TypeCountResponse   Type = 0x12
	// TypeCountFilter is a publisher's count filter: a filter's fields,
	// over the count tags of its list (cardinality-only matching). Filter
	// decoders read both, so it is two bits away from TypeFilter: one
	// flipped bit cannot turn one into the other.
	TypeCountFilter Type = 0x13
)

func (t Type) String() string {
	switch t {
	case TypeFilter:
		return "filter"
	case TypeEvalRequest:
		return "evaluation request"
	case TypeEvalResponse:
		return "evaluation response"
	case TypeConfirmRequest:
		return "confirm request"
	case TypeConfirmResponse:
		return "confirm response"
	case TypePrivateKey:
		return "private key"
	case TypePublicKey:
		return "public key"
	case TypePublisherState:
		return "publisher state"
	case TypeSignedFilter:
		return "signed filter"
	case TypeStreamedFilter:
		return "streamed signed filter"
	case TypeFilterDelta:
		return "filter delta"
	case TypePublisherStateV:
		return "publisher state with versions"
	case TypeWatch:
		return "querier watch"
	case TypeSignedDelta:
		return "signed filter delta"
	case TypePublisherStatePadded:
		return "publisher state with padding"
	case TypePublisherChange:
		return "publisher change"
	case TypeCountFilter:
		return "count filter"
	case TypeCountRequest:
		return "count request"
	case TypeCountResponse:
		return "count response"
	}
	return fmt.Sprintf("type 0x%02x", uint8(t))
}

// Header errors. Callers wrap them into their own package's sentinels.
var (
	ErrTruncated = errors.New("truncated")
	ErrMagic     = errors.New("not a fedmatch message (bad magic)")
	ErrVersion   = errors.New("unsupported format version")
	ErrType      = errors.New("unexpected message type")
)

// AppendHeader appends the magic, version and type to b.
func AppendHeader(b []byte, t Type) []byte {
	b = append(b, Magic...)
	return append(b, Version, byte(t))
}

// ReadHeader consumes a header from s and checks that it announces type
// want. The error says which part is wrong.
func ReadHeader(s *cryptobyte.String, want Type) error {
	var magic []byte
	var version, typ uint8
	if !s.ReadBytes(&magic, len(Magic)) {
		return ErrTruncated
	}
	if string(magic) != Magic {
		return ErrMagic
	}
	if !s.ReadUint8(&version) || !s.ReadUint8(&typ) {
		return ErrTruncated
	}
	if version != Version {
		return fmt.Errorf("%w %d (want %d)", ErrVersion, version, Version)
	}
	if Type(typ) != want {
		return fmt.Errorf("%w: got %v, want %v", ErrType, Type(typ), want)
	}
	return nil
}
