package match

import (
	"crypto/sha256"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// Domain-separation labels. They are part of the protocol (PROTOCOL.md);
// a change is a new format version.
const (
	labelPrefix = "fedmatch-v1/"            // OPRF input and POPRF info prefix
	labelKeyID  = "fedmatch-v1 key id"      // KeyID derivation
	labelTag    = "fedmatch-v1 confirm tag" // confirm tag from the OPRF output
	labelSeed   = "fedmatch-v1 filter seed" // filter seed from the confirm tag
	labelPos    = "fedmatch-v1 filter bits" // Bloom-filter bit positions from the seed
	labelCount  = "fedmatch-v1 count tag"   // count tag from the evaluated element
	labelCountK = "fedmatch-v1 count key"   // the count filter's key from the publisher's
)

// tagSize is the length of a confirm tag.
const tagSize = 16

// tag is a confirm tag: the first 16 bytes of
// SHA-256("fedmatch-v1 confirm tag" || y) for an OPRF output y. The
// filter's bit positions are derived from the tag, through its seed (see
// [positioner]), so a publisher can size the filter exactly once every
// tag is known and rebuild it from its tag index without the key.
type tag [tagSize]byte

// seed is a tag's filter seed: the first 16 bytes of
// SHA-256("fedmatch-v1 filter seed" || tag), what the bit positions are
// computed from. A delta carries seeds, never tags: a tag is what a
// querier sends to confirm a hit, and whoever holds one without its
// indicator must not be able to confirm it (PROTOCOL.md section 1.3). A
// seed does not give its tag (SHA-256 is one-way).
type seed [tagSize]byte

func deriveSeed(t tag) (s seed) {
	var buf [len(labelSeed) + tagSize]byte
	n := copy(buf[:], labelSeed)
	copy(buf[n:], t[:])
	sum := sha256.Sum256(buf[:])
	copy(s[:], sum[:])
	return s
}

func deriveTag(y []byte) (t tag) {
	var buf [len(labelTag) + 64]byte
	n := copy(buf[:], labelTag)
	n += copy(buf[n:], y)
	sum := sha256.Sum256(buf[:n])
	copy(t[:], sum[:])
	return t
}

// deriveCountTag returns the count tag of an evaluated element N =
// SerializeElement(k·H(input)) (in POPRF, the tweaked key's): the first 16
// bytes of SHA-256("fedmatch-v1 count tag" || N). A count filter holds
// the count tags of a publisher's list; unlike a confirm tag it does not
// depend on the input, so a querier that unblinds a shuffled batch can
// test every element without knowing which input it came from.
func deriveCountTag(elem []byte) (t tag) {
	h := sha256.New()
	h.Write([]byte(labelCount))
	h.Write(elem)
	copy(t[:], h.Sum(nil))
	return t
}

// appendInput appends the OPRF input of an indicator:
// "fedmatch-v1/" || kind || 0x00 || value. Kind names never contain 0x00,
// so the encoding is injective.
func appendInput(b []byte, ind indicator.Indicator) []byte {
	b = append(b, labelPrefix...)
	b = append(b, ind.Kind().Name()...)
	b = append(b, 0)
	return append(b, ind.Value()...)
}

// kindInfo is the POPRF public input of a kind: "fedmatch-v1/" || kind.
func kindInfo(kind string) []byte { return []byte(labelPrefix + kind) }
