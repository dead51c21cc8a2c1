package match

import (
	"crypto"
	_ "crypto/sha256" // the hash of the P256-SHA256 suite
	_ "crypto/sha512" // the hash of the ristretto255-SHA512 suite
	"fmt"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"

	"github.com/fedmatch/fedmatch/internal/r255"
)

// A Suite is an RFC 9497 ciphersuite (Section 4). The zero value is
// [SuiteRistretto255], the default.
type Suite uint8

const (
	// SuiteRistretto255 is ristretto255-SHA512 (RFC 9497 Section 4.1).
	// Its group operations in circl are constant time.
	SuiteRistretto255 Suite = iota
	// SuiteP256 is P256-SHA256 (RFC 9497 Section 4.3), for partners that
	// require NIST curves. circl's P-256 scalar multiplication is not
	// constant time in the key; see the package documentation.
	SuiteP256
)

// Suite codes on the wire; do not reorder.
const (
	suiteCodeRistretto255 = 0x01
	suiteCodeP256         = 0x02
)

// suiteParams gathers what the protocol needs to know about a suite.
type suiteParams struct {
	id        string // RFC 9497 identifier
	code      byte   // wire code
	circl     oprf.Suite
	group     group.Group
	hash      crypto.Hash
	elemLen   int // SerializeElement length (compressed)
	scalarLen int
}

var suites = [...]suiteParams{
	SuiteRistretto255: {
		id: "ristretto255-SHA512", code: suiteCodeRistretto255,
		circl: oprf.SuiteRistretto255, group: r255.Group, hash: crypto.SHA512,
		elemLen: 32, scalarLen: 32,
	},
	SuiteP256: {
		id: "P256-SHA256", code: suiteCodeP256,
		circl: oprf.SuiteP256, group: group.P256, hash: crypto.SHA256,
		elemLen: 33, scalarLen: 32,
	},
}

func (s Suite) valid() bool { return int(s) < len(suites) }

// params returns the suite's parameters. It panics on an invalid Suite,
// which only a programming error can produce: decoders validate codes.
func (s Suite) params() *suiteParams {
	if !s.valid() {
		panic(fmt.Sprintf("match: invalid Suite %d", uint8(s)))
	}
	return &suites[s]
}

// String returns the RFC 9497 identifier, such as "ristretto255-SHA512".
func (s Suite) String() string {
	if !s.valid() {
		return fmt.Sprintf("Suite(%d)", uint8(s))
	}
	return suites[s].id
}

func suiteFromCode(c byte) (Suite, error) {
	for i := range suites {
		if suites[i].code == c {
			return Suite(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown suite code 0x%02x", ErrMalformed, c)
}

// A Mode is an RFC 9497 protocol variant (Section 3). The zero value is
// [ModePOPRF], the default.
type Mode uint8

const (
	// ModePOPRF is the partially-oblivious, verifiable mode. The indicator
	// kind is the public input (info), so the publisher can authorise a
	// batch by kind and outputs of different kinds are independent. Every
	// evaluation carries a batched DLEQ proof.
	ModePOPRF Mode = iota
	// ModeVOPRF is the verifiable mode: every evaluation carries a batched
	// DLEQ proof that it used the key the filter commits to. The kind a
	// batch declares is not bound cryptographically.
	ModeVOPRF
	// ModeOPRF is the base mode: no proof, so a querier cannot detect a
	// publisher that evaluates with another key. Queriers refuse it unless
	// [QuerierOptions.InsecureAllowOPRF] is set.
	ModeOPRF
)

// rfcMode is the RFC 9497 mode byte; it is also the wire code.
var rfcMode = [...]byte{ModePOPRF: oprf.PartialObliviousMode, ModeVOPRF: oprf.VerifiableMode, ModeOPRF: oprf.BaseMode}

func (m Mode) valid() bool { return int(m) < len(rfcMode) }

func (m Mode) verifiable() bool { return m == ModePOPRF || m == ModeVOPRF }

func (m Mode) String() string {
	switch m {
	case ModePOPRF:
		return "POPRF"
	case ModeVOPRF:
		return "VOPRF"
	case ModeOPRF:
		return "OPRF"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

func modeFromCode(c byte) (Mode, error) {
	for m, code := range rfcMode {
		if code == c {
			return Mode(m), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown mode code 0x%02x", ErrMalformed, c)
}
