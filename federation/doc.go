// Package federation runs fedmatch between agencies: each agency runs a
// [Node] that publishes its watchlist's filter, serves its partners'
// queries over mutual TLS under policy and budgets, rotates its keys, keeps
// a tamper-evident audit log and its state on disk, and matches the
// agency's own indicators against every partner at once (Match, of the
// [Matcher] a Node embeds).
//
// Most agencies need only [New] with a [Config] (ID, Identity, StateDir,
// Partners, Watchlist; every other field's zero value is a safe default),
// then [Node.Publish], [Node.ListenAndServe] and [Node.Run] to serve, and
// Match ([Matcher.Match]) to query; the example of New does the round
// trip. The rest can be ignored until it is needed: [Node.Handler] and
// [Node.ServerTLSConfig] mount a node in a server of one's own, a
// [Matcher] queries without a state directory, [VerifyAudit] and
// [ReadAudit] are for auditors. The state directory is all a node needs
// to restart; its layout is internal, not to be edited.
//
// # Protocol overview
//
//	Querier node                                    Publisher node
//	=================================================================
//	                  mutual TLS 1.3, both certificates pinned
//	GET  /fedmatch/v1/filter ----------------------->
//	     <------------------ signed filter (ETag)     Ed25519 over the filter
//	verify signature, signer, validity, epoch
//	POST /fedmatch/v1/evaluate  EvalRequest -------->
//	                                                  authorise: partner, kind,
//	                                                  size, budget (on disk);
//	                                                  evaluate; audit
//	     <------------------------- EvalResponse
//	verify proofs, test filter
//	POST /fedmatch/v1/confirm  ConfirmRequest ------>
//	                                                  exact lookup; labels per
//	                                                  policy; audit; OnHit
//	     <----------------------- ConfirmResponse
//	hits, with released labels
//
// The messages are those of package match; PROTOCOL.md specifies the
// endpoints, the signed filter and the error codes.
//
// # Continuous matching
//
// [Node.Add], [Node.Remove] and [Node.RemoveEntries] (by indicator,
// label and reference) change the current epoch's list of a running
// node: only the new entries are evaluated, and the new version of the
// filter is signed, written, audited and served at once. Filters keep
// room for additions (Config.Headroom). A node that must not show its
// partners when and how many indicators it adds publishes them at fixed
// ticks (Config.ChangeInterval), each a version of the same size, padded
// (Config.ChangePadding; PROTOCOL.md 2.8). A partner that holds a version
// gets the change as a signed delta (PROTOCOL.md 5.2), and
// [Matcher.WaitForFilter] long-polls for the next one. [Matcher.Stand]
// keeps a set of indicators matched against every partner: each is
// evaluated once per partner key, each new version is tested without
// evaluation, and each new hit is reported to both sides, once.
//
// # Cardinality-only matching
//
// [Matcher.Count] (so Node.Count) asks one partner how many of a set of
// indicators are on its list, without learning which (PSI-CA, package
// match's [match.Querier.BlindCount]):
//
//	GET  /fedmatch/v1/count-filter ---------------->
//	     <------------ signed count filter (ETag)     Ed25519, as the filter
//	verify as a filter; a count filter (type 0x13)
//	POST /fedmatch/v1/count  CountRequest --------->
//	                                                  authorise: partner may
//	                                                  count, kind, size, budget
//	                                                  (on disk); evaluate,
//	                                                  shuffle; audit
//	     <------------------------- CountResponse
//	verify the proof, count
//
// A partner may count only if its Partner.Cardinality is set (otherwise
// both endpoints answer 403 count_not_allowed and nothing is spent); a
// node with such a partner publishes, with each filter, a count filter of
// the same list, signed in the same envelopes and kept in the epoch's
// state file, so that a restart serves it again. A count is authorised on
// its header as an evaluation is, its kinds limited by Partner.Kinds, and
// spends the same budget as evaluations, one per element: it is another
// way to query, not a lesser grant (a count of a batch of one is a
// membership test). The count filter is under the epoch's count key,
// derived from its key (match.PrivateKey.CountPublicKey), so that a
// partner holding both filters cannot tell which indicators a count
// holds. The publisher records
// each in the audit log (AuditCount: partner, epoch, kind, elements),
// never the count, which only the querier computes; the querier records
// nothing of its own queries, counts included. The count filter holds the
// list as published: additions and removals of the epoch reach it at the
// next publication or rotation.
//
// # Observability
//
// [Node.Metrics] returns a snapshot of the node's counters and gauges, a
// plain [Metrics] value that any metrics system can read (examples/node
// serves it in the Prometheus text format): the node's epoch, filter
// version, entries, room left and time of its last change; for each
// partner it serves, the evaluations answered by kind (counts included),
// the budget left,
// the tags confirmed and their hits, the refusals by error code and the
// latency of its requests by endpoint; for each partner it follows, the
// epoch and version of the filter last accepted and when, the evaluations
// asked of it and the hits found. Counting takes no lock that requests
// did not take already, and a snapshot holds each lock it takes only to
// copy a few numbers.
//
// Config.Logger receives one structured line for each change of state,
// with stable keys (partner, kind, epoch, version, count): "fedmatch node
// started" and "fedmatch node closed"; "published", "rotated", "list
// changed" and "destroyed epoch key"; "evaluated", "counted", "confirmed", "budget
// exhausted" and "refused requests" (once a period per partner); "partner
// filter accepted", "standing hit found" and "standing hit withdrawn"
// (partner and kind); "partner misbehaviour at confirm: ..."; "self-signed
// TLS certificate made" (at start and renewal); and an error line for
// what fails, such as "audit". Like the audit log, the lines hold counts,
// partner IDs and kind names, never an indicator value, a label or a
// secret.
//
// # Security considerations
//
// Partners are known by configuration only: a node accepts, as client and
// as server, only certificates whose public key hash (SPKI) it pins, within
// their validity period, and refuses everything else during the TLS
// handshake, before any request is read. Filters are signed by the
// publisher's identity key; a querier refuses a filter that is unsigned,
// signed by another node, outside its validity window, inconsistent with
// its own key, or older than one it has seen. It asks for the streamed
// envelope ([MediaTypeStreamedFilter]), refuses a filter above the
// partner's maxima (Partner.MaxFilterEntries, MaxFilterBytes) before it
// reads its bits, and verifies the filter as it arrives, so that
// accepting one costs about its size in memory. A partner whose confirm
// answers hide hits (match.ErrMisbehaviour) is reported in its
// PartnerResult, recorded in the audit log, and not contacted again until
// the filter it misbehaved under has expired ([ErrPartnerBlocked]).
//
// Every evaluation is authorised (the partner, the kind it declares, the
// batch size and the partner's remaining budget for the epoch) on the
// request's header, before its elements are read; its elements are all
// decoded before any other group operation and before anything is spent,
// so a batch refused for an invalid element costs the partner nothing. A
// budget reservation is on disk before the evaluation is answered
// (reservations made at once share one write), so restarts do not refund
// budgets, and it is made in memory before the evaluation, so concurrent
// requests cannot oversubscribe them. Requests are charged to the epoch
// current when they arrive, whichever key they use, so the grace period
// gives no second budget; a rotation, scheduled or by [Node.Rotate],
// starts budgets afresh. A partner may confirm no more tags than it had
// evaluated in the epochs still served; a confirmation is charged to the
// epoch of the key it uses, and ends with it.
//
// The server bounds the work in flight (requests and request bodies per
// partner and in total, evaluation workers per partner, connections per
// partner and in total, and timeouts) and refuses work beyond it at once
// with 503 busy; each partner's evaluations together use no more workers
// than one evaluation, so partners share the processors equally however
// many requests each sends. PROTOCOL.md lists the limits.
// Budgets bound online guessing: a partner learns at most whether each
// evaluated indicator is on the list. The kind policy needs the POPRF mode
// (the default), which binds the declared kind to the evaluation; New
// refuses a kind policy in the other modes.
//
// Keys rotate every Config.EpochLength; the previous key serves
// evaluations for Config.Grace so that queries in flight finish, and is
// then overwritten and removed. Once a key is gone, the filters of its
// epoch are useless to anyone, including someone who recorded them.
//
// The audit log records publications, rotations, key destructions,
// evaluations and counts (partner, kind, batch size, epoch), confirmations (partner,
// tags, hits) and refusals (per partner, counted by error code and
// recorded once a minute: requests that change nothing do not grow the
// log by request), hash-chained and signed record by record, with
// a signed head; [VerifyAudit] detects any edit, deletion, insertion or
// reordering of records, and a log cut short of its head, reading the log
// as a stream. Records that arrive together are written with one fsync,
// each request answered once its record is durable. The signed head is a
// checkpoint: New checks it and the records after it, not the whole log,
// so that a node starts as fast with years of records as with none;
// finding an edit to the older records is VerifyAudit's work, for an
// auditor to run. It never records an indicator value or a secret, and
// neither does the logger.
// Someone who can write the state directory can still replace the log
// and its head together by an older pair, or delete both; New refuses to
// start on a directory whose audit log is empty while other state
// exists, and an agency that must prove the log's completeness copies
// audit.head to a store the node cannot rewrite.
//
// State files are written atomically (temporary file, fsync, rename,
// directory fsync) with mode 0600 in a 0700 directory locked by one node.
// A change of the list within an epoch ([Node.Add], [Node.Remove]) is
// appended to the epoch's journal, checksummed and fsynced, in bytes
// proportional to the change rather than to the list, and its audit
// record follows; the journal is folded into the epoch's publisher state
// once it outgrows a quarter of it. A restart replays the journal, and
// audits a journaled change whose audit record a stop kept out of the
// log, once, saying so; a last journal record that a crash cut short was
// never acknowledged, and is dropped. A file that is foreign, truncated, corrupted or missing while the audit
// log says it should exist is an error at start, never a silent reset.
// The directory must be the node's alone: New refuses one that is a
// symbolic link, belongs to another user or that others can write, and
// one that holds a symbolic link or anything but regular files
// ([ErrUnsafeState]); the node never follows a link there. A node does not
// protect its state against an administrator of its own host: the
// identity key can re-sign anything.
//
// A querier refuses a filter older than one it has already accepted from
// the same partner; it remembers that within the process only.
package federation
