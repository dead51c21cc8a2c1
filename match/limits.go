package match

// Limits enforced by every decoder before it allocates, and by the
// functions that produce messages. They bound what a peer can make this
// package allocate or compute. Most users can ignore them: the defaults
// stay within them, and a message beyond them is refused with
// ErrOversized, ErrMalformed or ErrBatchTooLarge. They matter to
// implementers in another language (PROTOCOL.md lists them) and to a
// layer that sizes its own batches, as package federation does.
const (
	// MaxBatch is the largest number of indicators in one evaluation
	// request, and of tags in one confirm request.
	MaxBatch = 1 << 20
	// MaxChunkSize is the largest number of elements covered by one DLEQ
	// proof. RFC 9497's batched proof encodes the element index in two
	// bytes (Section 2.2.1, ComputeComposites), so a proof covers at most
	// 65535 elements.
	MaxChunkSize = 1<<16 - 1
	// DefaultChunkSize is the largest number of elements a querier puts
	// under one proof unless told otherwise. Chunks are blinded, evaluated
	// and verified in parallel; a proof per 1024 elements costs the
	// publisher about 0.1% more than one proof for the whole batch.
	DefaultChunkSize = 1024
	// MinChunkSize is the smallest chunk a request may declare, unless the
	// whole batch is smaller: every chunk costs the publisher a proof
	// (about two scalar multiplications), so chunks of one element would
	// let a querier make it work 2.5 times as hard per element.
	MinChunkSize = 16
	// MinAutoChunkSize is the smallest chunk a querier makes when it
	// splits a small batch between its workers.
	MinAutoChunkSize = 64
	// MaxLabelLen is the longest label or reference of a watchlist entry,
	// in bytes.
	MaxLabelLen = 1024
	// MaxRepeats is the largest number of a watchlist's entries that may
	// hold one indicator (two cases that share an IP address are two
	// entries). A confirmed hit releases the labels of all of them, so
	// the bound also bounds what one answer carries: MaxRepeats labels of
	// MaxLabelLen bytes.
	MaxRepeats = 64
	// MaxFilterBits is the largest filter, in bits (4 GiB).
	MaxFilterBits = 1 << 35
	// MaxFilterHashes is the largest number of hash functions of a filter.
	MaxFilterHashes = 64
	// MaxEntries is the largest watchlist a Publisher accepts.
	MaxEntries = 1<<32 - 1
)

// Defaults.
const (
	// DefaultFalsePositiveRate is the filter false-positive rate a
	// publisher targets unless told otherwise: 43 bits (5.4 bytes) per
	// entry. Every false positive is a querier indicator that the querier
	// sends to the publisher at confirm time, where the publisher, holding
	// the key, could test guesses against it; at 1e-9 a querier with a
	// million indicators expects one such leak every thousand queries.
	DefaultFalsePositiveRate = 1e-9
	// DefaultMaxFalsePositiveRate is the highest estimated false-positive
	// rate a querier accepts in a filter unless told otherwise.
	DefaultMaxFalsePositiveRate = 1e-6
)
