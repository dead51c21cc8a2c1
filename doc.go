// Package fedmatch is an embeddable library for federated indicator
// matching: agencies that hold watchlists of indicators (e-mail addresses,
// domains, IP addresses, file hashes, ...) find the indicators they share,
// and only those, without exposing the rest of their lists.
//
// Each agency turns its watchlist into a Bloom filter keyed by an RFC 9497
// oblivious pseudorandom function (OPRF). A partner queries the filter
// through the publisher's blind evaluation of its own indicators, then
// confirms its candidates with the publisher, so both end up with exactly
// the shared hits.
//
// # Guarantees
//
//	party       learns                                 does not learn
//	---------   ------------------------------------   ------------------------------------
//	querier     which of its own indicators are on     anything else about the publisher's
//	            the publisher's list, and the labels   list; it cannot test guesses offline
//	            the publisher releases for each        (that needs the publisher's key)
//	publisher   how many indicators of each kind a     the querier's other indicators
//	            partner asked about; which of its      (the evaluation is oblivious)
//	            own entries were hit, at confirm time
//	observer    sizes and timing                       contents (TLS 1.3, hybrid
//	                                                   post-quantum key exchange)
//
// Residual risks: a querier can test guesses online, one evaluation per
// guess, so evaluations are counted against budgets; the publisher sees
// the tags of the querier's Bloom false positives, kept rare by the
// false-positive rate and checked by the querier; the OPRF is not
// post-quantum, so keys rotate and old ones are destroyed.
//
// # Where to start
//
// Package [github.com/fedmatch/fedmatch/match] holds the protocol: keys,
// filters, and the query and confirm messages; its package example runs a
// whole two-party exchange. Package
// [github.com/fedmatch/fedmatch/match/indicator] turns watchlist values
// into canonical indicators, by kind. Package
// [github.com/fedmatch/fedmatch/match/feed] imports watchlists from STIX
// 2.1, MISP, CSV and line lists. Package
// [github.com/fedmatch/fedmatch/federation] runs agency nodes that publish,
// query and confirm over mutual TLS, with policy, budgets and audit. The program
// examples/twoparty runs one between two agencies in one process, on
// built-in data or on two files. PROTOCOL.md specifies the wire format
// byte by byte, with test vectors, for implementations in other languages.
package fedmatch
