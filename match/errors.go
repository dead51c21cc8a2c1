package match

import (
	"errors"
	"fmt"
)

// Errors returned by this package. They are wrapped with context; test for
// them with [errors.Is].
var (
	// ErrMalformed reports a message that is not a valid encoding: bad
	// magic, version or type, unknown codes, inconsistent fields, trailing
	// bytes.
	ErrMalformed = errors.New("match: malformed message")
	// ErrTruncated reports a message shorter than its fields declare.
	ErrTruncated = errors.New("match: truncated message")
	// ErrOversized reports a length or count field above the package
	// limits (see [MaxBatch] and the other limits), refused before any
	// allocation.
	ErrOversized = errors.New("match: message exceeds size limit")
	// ErrWrongSuite reports a message or key of another ciphersuite.
	ErrWrongSuite = errors.New("match: wrong suite")
	// ErrWrongMode reports a message of another protocol mode.
	ErrWrongMode = errors.New("match: wrong mode")
	// ErrWrongKey reports a message or filter for another key.
	ErrWrongKey = errors.New("match: wrong key")
	// ErrInvalidElement reports a group element that does not decode, or
	// decodes to the identity (RFC 9497 Section 2.1, DeserializeElement).
	ErrInvalidElement = errors.New("match: invalid group element")
	// ErrInvalidProof reports an evaluation whose DLEQ proof does not
	// verify: the publisher did not use the key its filter commits to.
	ErrInvalidProof = errors.New("match: invalid proof")
	// ErrInvalidKey reports key bytes that are not a valid key.
	ErrInvalidKey = errors.New("match: invalid key")
	// ErrBatchTooLarge reports a batch of more than [MaxBatch] indicators.
	ErrBatchTooLarge = errors.New("match: batch too large")
	// ErrEmptyBatch reports a query with no indicators.
	ErrEmptyBatch = errors.New("match: empty batch")
	// ErrMixedKinds reports a query batch holding more than one kind.
	ErrMixedKinds = errors.New("match: batch mixes indicator kinds")
	// ErrUnsafeFilter reports a filter a querier refuses: too dense for the
	// bits it declares, or with an estimated false-positive rate above the
	// querier's bound. A dense filter makes every query a candidate and
	// would let the publisher harvest the querier's list at confirm time.
	ErrUnsafeFilter = errors.New("match: filter refused")
	// ErrMisbehaviour reports a publisher whose confirm answers are more
	// "not an entry" than its filter's false-positive rate explains (see
	// [MisbehaviourError]).
	ErrMisbehaviour = errors.New("match: publisher misbehaviour at confirm")
	// ErrInsecureMode reports a base-mode (unverifiable) filter offered to
	// a querier that did not opt in to it.
	ErrInsecureMode = errors.New("match: unverifiable (base mode) filter refused")
	// ErrResponseMismatch reports a response that does not answer the
	// query it is given to: another count or chunking.
	ErrResponseMismatch = errors.New("match: response does not match query")
	// ErrInvalidLabel reports a label or reference that [CheckLabel]
	// refuses in a confirm response or a publisher state (one written
	// by a version that did not check labels). It comes with
	// ErrMalformed.
	ErrInvalidLabel = errors.New("match: label or reference with a control character or line separator")
	// ErrStaleDelta reports a delta that does not start at the version of
	// the filter it is applied to: one already applied (replayed), or one
	// from a version the filter skipped. Ask for the delta from the
	// filter's version, or for the whole filter.
	ErrStaleDelta = errors.New("match: delta does not start at the filter's version")
	// ErrFilterUse reports a filter given to the other kind of query: a
	// count filter to [Querier.Blind] or a delta, a filter to
	// [Querier.BlindCount].
	ErrFilterUse = errors.New("match: wrong filter for this query")
	// ErrCountResponse reports a count response that is not an honest
	// evaluation of the request: it repeats an evaluated element, which
	// distinct indicators cannot give.
	ErrCountResponse = errors.New("match: count response repeats an element")
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}
