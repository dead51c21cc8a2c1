// Package match implements fedmatch's two-party private matching of
// indicators: a publisher turns its watchlist into a Bloom filter keyed by
// an oblivious pseudorandom function (OPRF) as specified in RFC 9497, and a
// querier finds which of its own indicators are on that list, so that both
// end up knowing exactly the indicators they share and nothing more.
//
// The OPRF inputs and outputs are exactly RFC 9497's, in the
// ristretto255-SHA512 (default) or P256-SHA256 suite, so a partner with
// any RFC 9497 implementation can query a fedmatch publisher; fedmatch's
// own framing (PROTOCOL.md in the repository) only surrounds them. The
// package is pure computation: no network, no clock, no logging. Package
// federation runs it between agencies.
//
// # Protocol overview
//
//	Publisher (key k)                              Querier
//	=================================================================
//	Publish(watchlist):
//	  y_i = OPRF(k, info(kind), input(kind, value))
//	  tag_i = H("confirm tag", y_i); set the bits SHAKE128("filter bits", tag_i)
//
//	                         Filter (pkS, n, m, k, bits)
//	                       ------------------------------>
//	                                               NewQuerier: check key and
//	                                               density of the filter
//	                                               Blind(indicators of a kind)
//	                           EvalRequest (kind, blinded)
//	                       <------------------------------
//	Evaluate: authorise kind and count, then
//	evaluate, with a DLEQ proof per chunk
//	                      EvalResponse (evaluated, proofs)
//	                       ------------------------------>
//	                                               Finalize: verify proofs,
//	                                               unblind, y, tag, test filter
//	                         ConfirmRequest (candidate tags)
//	                       <------------------------------
//	Confirm: exact lookup in the tag index
//	                  ConfirmResponse (hit or not, labels)
//	                       ------------------------------>
//	learns which entries were hit                  Hits: exactly the shared
//	                                               indicators, with labels
//
// Start with [Publish] and [NewQuerier]; the package example runs the
// whole exchange. Indicators come from package
// [github.com/fedmatch/fedmatch/match/indicator], which canonicalizes
// values by kind; package [github.com/fedmatch/fedmatch/match/feed]
// imports watchlists from STIX 2.1, MISP, CSV and line lists.
//
// # Modes
//
// [ModePOPRF], the default, is RFC 9497's partially-oblivious mode with the
// indicator kind as public input: a batch declares its kind, the publisher
// can authorise it (a partner may be allowed only IP addresses), and
// outputs of different kinds are independent. It is verifiable: each
// evaluation carries a batched DLEQ proof that the publisher used the key
// its filter commits to. [ModeVOPRF] is verifiable without the kind
// binding; [ModeOPRF] has no proof and queriers refuse it unless they set
// [QuerierOptions.InsecureAllowOPRF].
//
// # Continuous matching
//
// A publisher that chose a capacity ([PublishOptions.Capacity]) adds
// entries to its epoch's list with [Publisher.Add], which evaluates only
// them and makes a new version of the filter: a filter's version is its
// number of distinct indicators, which every version increases.
// [Publisher.Delta] gives a querier at an older version the filter seeds
// added since (16 bytes per indicator), and [Filter.Apply] checks and applies
// them. [Publisher.Remove] stops confirming entries, given by number, and
// [Publisher.RemoveEntries] those holding given indicators, labels and
// references; their bits stay until the next epoch, and a querier holding
// an indicator with no entry left is answered "withdrawn"
// ([Query.Withdrawn]). On the querier's side a [Watch] keeps the outputs of
// the indicators evaluated under a key, so that a new version, as a delta
// or whole, costs no evaluation, and [Watch.Missing] gives the indicators
// that still need one. PROTOCOL.md section 2.8 specifies versions and
// deltas. The versions show partners when and how many indicators were
// added; [Publisher.AddPadded] hides it from a publisher that adds at
// fixed times: each version grows by a fixed number of insertions, the new
// indicators and random padding seeds, which a querier cannot tell apart
// and nobody can confirm ([PublishOptions.Padding] keeps room for them).
//
// # Cardinality-only matching
//
// Before agencies reveal even a hit, they may want to know whether their
// lists overlap at all, and by how much. A publisher made with
// [PublishOptions.Count] also has a count filter ([Publisher.CountFilter]);
// the count filter is under a count key derived one way from the
// publisher's key ([PrivateKey.CountPublicKey]), so that a querier that
// also holds the publisher's filter, or revealing evaluations of its
// indicators, cannot pair a count response's elements with its inputs.
// A querier holding it blinds a whole batch with one secret scalar r
// ([Querier.BlindCount]), the publisher evaluates every element with its
// count key and returns the results in a uniformly random order
// ([Publisher.EvaluateCount]), and the querier multiplies them all by r⁻¹
// and tests them against the count filter ([CountQuery.Count]). It learns
// how many of its distinct indicators are on the list, and the number
// expected to pass the filter by chance (10^-3 for the largest batch at
// the default rate), not which: the unblinded elements k·H(x) are those of
// its inputs, but in an order it cannot relate to them, and their count
// tags, SHA-256("fedmatch-v1 count tag" || k·H(x)), depend on the element
// alone. The revealing filter's tags cannot serve here: RFC 9497's output
// hashes the input with the element, so computing it needs to know which
// input an element is for. The publisher learns the kind and the number of
// distinct indicators, as for any batch.
//
// The per-element proofs of a revealing query do not apply to a shuffled
// one: a batched DLEQ proof pairs each blinded element with its
// evaluation, which is the correspondence the shuffle hides, and a proof
// of a shuffle is far costlier than the exchange. In the verifiable modes
// the publisher instead proves, with one RFC 9497 DLEQ proof, that its
// evaluations sum to its key (tweaked for the kind in POPRF) times the sum
// of the blinded elements. That catches a wrong key, a corrupted or
// replaced element, and a repeated or dropped one, but not a change that
// keeps the sum, such as adding a point to one evaluation and subtracting
// it from another. What a publisher can do with such changes is bounded:
// it can lower the count (an altered evaluation unblinds to a point on no
// list), and it cannot raise it except through the filter's false
// positives, because it cannot produce k·H(x) for the querier's x without
// the blind, and a repeated element is refused ([ErrCountResponse]). A
// count is therefore a lower bound that an honest publisher makes exact.
//
// A querier, for its part, learns one bit per indicator if it sends
// batches of one, or pads a batch with values it knows are not listed: a
// count of a singleton is a membership test. The evaluation budget that
// bounds a revealing querier bounds it the same way (package federation
// counts both against one budget); cardinality-only matching protects the
// list's membership from an honest-but-curious querier, not from one
// spending its budget on single probes.
//
// The count filter holds the list as published: entries added later are
// counted from the next publication, and entries removed until then.
//
// # Security considerations
//
// The querier learns which of its own indicators are on the publisher's
// list and the labels the publisher releases for each, and the filter's
// parameters (n, m, k). Without the publisher's key the filter tells
// nothing about the entries: every test of a guess needs an evaluation by
// the publisher, so guessing is online only, one evaluation per guess, and
// the federation layer counts evaluations against a budget.
//
// The publisher learns the kind and number of indicators in each batch
// (it must, to apply policy and budgets) and, at confirm time, which of
// its own entries the querier holds. Blinded elements are uniformly random
// group elements: the publisher learns nothing about the querier's other
// indicators from the evaluation. It does learn the confirm tags of the
// querier's Bloom false positives, and holding the key it could test
// guesses against those offline: the false-positive rate bounds that leak
// (see [DefaultFalsePositiveRate]). A publisher could try to raise it with
// a dense filter; [NewQuerier] refuses filters whose set bits do not fit
// their size or whose estimated false-positive rate is above the
// querier's bound.
//
// A publisher could also list a whole value space (a block of IP
// addresses) and answer "not an entry" at confirm about the querier's
// indicators in it, to learn them while the querier sees no hit:
// [Query.Hits] counts those answers and returns a [MisbehaviourError]
// when the filter's false-positive rate does not explain them. A
// publisher that lists values and answers truthfully learns which of them
// the querier holds, as in any private set intersection, and the querier
// sees the hits; [QuerierOptions.MaxEntries] bounds how many values a
// filter may list.
//
// After confirmation there are no false positives and no false negatives:
// Bloom filters have no false negatives, and the confirm step removes the
// false positives by an exact lookup of 128-bit tags.
//
// The OPRF is based on the discrete logarithm problem and is not
// post-quantum: an adversary with a quantum computer who records a filter
// and the publisher's public key could recover the key and test guesses
// against the filter offline. Rotating keys and destroying old ones
// (package federation) limits the exposure to the filters of that epoch.
//
// For ristretto255 the group arithmetic is internal/r255, RFC 9496 on
// filippo.io/edwards25519 (the edwards25519 code inside Go's standard
// library), compared operation by operation with circl's; circl remains
// the reference its tests check against and the P-256 arithmetic. Every
// multiplication by a secret (the key, a blind, an inverse) runs in
// constant time for ristretto255; only the RFC 9497 composites, sums over
// public values, use variable-time multi-scalar multiplication. circl's
// P-256 scalar multiplication is not constant time in the key, so prefer
// ristretto255 where timing can be observed. The tag index lookup at confirm time is a binary search over
// pseudorandom tags, whose timing reveals nothing useful.
package match
