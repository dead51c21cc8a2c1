package federation

import (
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// Config configures a [Node]. It must not be modified after New. A node
// needs ID, Identity, StateDir, Partners and Watchlist; the zero value of
// every other field is a safe default.
type Config struct {
	// ID names this agency among its partners, such as "cert-de": 1 to 64
	// bytes of letters, digits, '.', '-' and '_'.
	ID string
	// Identity signs the filters this node publishes; partners pin its
	// public half. Unless TLSCertificate is set it is also the node's TLS
	// key, in a self-signed certificate. It must be kept secret.
	Identity ed25519.PrivateKey
	// TLSCertificate, if set, is the certificate the node presents to its
	// partners (an agency PKI certificate); partners pin its public key.
	TLSCertificate *tls.Certificate
	// StateDir holds keys, filters, tag indexes, budgets and the audit
	// log: everything the node needs to restart. It is created (mode
	// 0700) if missing; one node per directory. Its layout is internal.
	StateDir string
	// Partners are the agencies this node matches with.
	Partners []Partner
	// Watchlist returns this agency's entries; Publish and Rotate range
	// over it once per call. An error in the sequence aborts the
	// publication or rotation, which then changes nothing: a watchlist that
	// cannot be read is never published as an empty or partial list. Nil
	// publishes an empty list.
	Watchlist func() iter.Seq2[match.Entry, error]
	// Suite and Mode of the published filters; zero values are the
	// defaults (ristretto255, POPRF). Only POPRF binds the kind a batch
	// declares to its evaluation, so a partner restricted to some Kinds
	// requires it: in the other modes a partner could declare an allowed
	// kind and send others.
	Suite match.Suite
	Mode  match.Mode
	// FalsePositiveRate of the published filters; zero means
	// match.DefaultFalsePositiveRate.
	FalsePositiveRate float64
	// Headroom is the room a published filter keeps for Node.Add, as a
	// fraction of the watchlist: the filter is sized for n + ⌈Headroom·n⌉
	// distinct indicators, and for at least 1,024. Zero means
	// DefaultHeadroom (a quarter: the filter is 25% larger); negative
	// means none, and Node.Add then fails with match.ErrCapacity until
	// the next publication.
	Headroom float64
	// EpochLength is how long a key serves before rotation; zero means
	// 24 hours. Grace is how long the previous key keeps serving
	// evaluations after a rotation, so that queries in flight finish;
	// zero means one hour. A filter is valid for EpochLength + Grace.
	EpochLength, Grace time.Duration
	// ChangeInterval, if not zero, batches Node.Add: entries are queued
	// and published together at fixed ticks, the epoch's start +
	// k·ChangeInterval, and each Add returns once the version holding its
	// entries is on disk. Zero publishes each Add at once. Node.Run (or
	// Node.Maintain) publishes the ticks. It must be at least a second
	// and at most half of EpochLength. Node.Remove and Node.RemoveEntries
	// are applied at once either way: a removal makes no version, so its timing shows in no
	// filter or delta (PROTOCOL.md 2.8).
	ChangeInterval time.Duration
	// ChangePadding, if not zero, pads every tick of ChangeInterval, so
	// that a partner following the filter's versions sees the same
	// whether or not anything was added: each tick publishes a version
	// that grows by exactly ChangePadding insertions, the new indicators
	// queued and random padding (match.Publisher.AddPadded), and a tick
	// with more new indicators publishes several such versions. It needs
	// ChangeInterval. The cost: a filter sized for ChangePadding more
	// insertions per tick of the epoch, ⌈EpochLength/ChangeInterval⌉ ×
	// ChangePadding beyond Headroom, about 5.4 bytes of filter each at the
	// default rate (16 a minute over 24 hours: 23,040 insertions, 124 KB),
	// and, to each partner following the filter, a signed delta of
	// 156 + len(ID) + 16·ChangePadding bytes per tick, plus HTTP framing
	// (420 bytes for 16 and an 8-byte ID, measured by
	// TestChangePaddingCost). Up to ChangePadding new indicators a tick
	// take no room beyond the padding's; more come from Headroom, and an
	// Add that would take the padding of the epoch's later ticks fails
	// with match.ErrCapacity. Partners must accept the filter's size at
	// the end of the epoch (Partner.MaxFilterEntries, 2^22 by default).
	ChangePadding int
	// MaxBatch is the largest evaluation request accepted, and the size of
	// the batches this node sends; zero means 65536.
	MaxBatch int
	// RequestTimeout bounds each request to a partner; zero means two
	// minutes.
	RequestTimeout time.Duration
	// OnHit, if not nil, is called when a partner confirms hits on this
	// node's entries, on its own goroutine.
	OnHit func(HitNotice)
	// Logger receives operational events; nil discards them. No indicator
	// value and no secret is ever logged.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

// A Partner is an agency this node matches with, and the policy that
// applies to it. The zero value of each policy field grants nothing.
type Partner struct {
	// ID is the partner's node ID; its signed filters must carry it.
	ID string
	// URL is the base URL of the partner's node, such as
	// "https://fedmatch.partner.example:8443".
	URL string
	// SPKI is the SHA-256 hash of the partner's TLS certificate's
	// SubjectPublicKeyInfo: the only certificate accepted from it, as
	// client and as server (see SPKIHash).
	SPKI [32]byte
	// Identity verifies the partner's signed filters.
	Identity ed25519.PublicKey
	// Kinds are the indicator kinds the partner may query ("*" for all).
	Kinds []string
	// Budget is the number of evaluations (indicators) the partner may
	// have this node evaluate per epoch. Requests are charged to the epoch
	// current when they arrive, whichever key they use, so the grace
	// period after a rotation gives no extra budget; a rotation (on
	// schedule or by Rotate) starts every partner's budget afresh. A
	// partner may confirm at most as many tags as it had evaluated in the
	// epochs still served; a confirmation is charged to the epoch of the
	// key it uses.
	Budget int
	// ReleaseLabels are the rules that release labels to the partner on
	// a confirmed hit; a hit's other labels are withheld, and a hit with
	// none released comes without labels. A rule releases a label that
	// begins with the rule's tokens, whole: labels and rules are split
	// into tokens at white space, ',' and ';', and compared byte for byte
	// (case matters). So "TLP:AMBER" releases "TLP:AMBER, case 4712" but
	// not "TLP:AMBER+STRICT case 4712" (in TLP 2.0, the recipient's
	// organisation only) nor "TLP:AMBERX"; list "TLP:AMBER+STRICT" too to
	// release both. TLP 1.0's TLP:WHITE is not translated: list it beside
	// TLP:CLEAR if some labels still use it. "*" releases every label,
	// TLP:RED included. A rule without a token, with '*' anywhere but
	// alone, or starting with "TLP:" but not with a TLP 2.0 marking in
	// upper case (or TLP:WHITE) is refused.
	ReleaseLabels []string
	// Cardinality allows the partner cardinality-only queries (PSI-CA,
	// PROTOCOL.md 5.3): GET count-filter and POST count, which tell it
	// how many of a batch of its indicators are on this node's list and
	// not which. Each counts against Budget like an evaluation of the
	// same size, and Kinds applies: it is another way to query, never a
	// lesser grant (a count of a batch of one is a membership test). A
	// node with at least one such partner publishes a count filter with
	// each filter ([Node.Publish], rotations), under the epoch's count key
	// (match.PrivateKey.CountPublicKey): about the filter's size again in
	// memory and on disk, and a scalar multiplication an entry more to
	// publish. It
	// holds the list as published: Node.Add and Node.Remove reach it at
	// the next publication or rotation. False (the default) refuses both
	// endpoints with 403 count_not_allowed. A node needs nothing set to
	// count at its partners ([Matcher.Count]).
	Cardinality bool
	// MaxFilterEntries and MaxFilterBytes bound the partner's filter as
	// this node accepts it when it queries: the entries it declares and
	// the length of its encoding. Zero means match.DefaultMaxFilterEntries
	// (2^22) and match.DefaultMaxFilterBytes (32 MiB). A filter above
	// either is refused (match.ErrUnsafeFilter) before its bits are read.
	// The entries bound how many values the partner can test this node's
	// indicators against; raise them only for a partner whose list is
	// known to be that large.
	MaxFilterEntries int
	MaxFilterBytes   int64
}

// A HitNotice tells the publisher that a partner confirmed hits on its
// entries.
type HitNotice struct {
	Partner string
	Epoch   uint64
	Entries []match.ConfirmedEntry
}

const (
	defaultEpochLength    = 24 * time.Hour
	defaultGrace          = time.Hour
	defaultMaxBatch       = 1 << 16
	defaultRequestTimeout = 2 * time.Minute
)

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// check validates the configuration and fills in defaults in a copy.
// needState says whether StateDir is required (a Node) or not (a
// Matcher).
func (c *Config) check(needState bool) (*Config, error) {
	cfg := *c
	switch {
	case !validID(cfg.ID):
		return nil, fmt.Errorf("federation: invalid node ID %q (1 to 64 letters, digits, '.', '-', '_')", cfg.ID)
	case len(cfg.Identity) != ed25519.PrivateKeySize:
		return nil, errors.New("federation: Identity is not an Ed25519 private key")
	case needState && cfg.StateDir == "":
		return nil, errors.New("federation: StateDir is not set")
	case cfg.EpochLength < 0 || cfg.Grace < 0 || cfg.MaxBatch < 0 || cfg.RequestTimeout < 0 || cfg.ChangeInterval < 0 || cfg.ChangePadding < 0:
		return nil, errors.New("federation: negative duration, batch size or padding")
	case cfg.MaxBatch > match.MaxBatch:
		return nil, fmt.Errorf("federation: MaxBatch above %d", match.MaxBatch)
	}
	if cfg.EpochLength == 0 {
		cfg.EpochLength = defaultEpochLength
	}
	if err := cfg.checkChanges(); err != nil {
		return nil, err
	}
	switch {
	case cfg.Headroom == 0:
		cfg.Headroom = DefaultHeadroom
	case cfg.Headroom < 0:
		cfg.Headroom = -1 // none
	case cfg.Headroom > 1000:
		return nil, fmt.Errorf("federation: Headroom %v above 1000", cfg.Headroom)
	}
	if cfg.Grace == 0 {
		cfg.Grace = defaultGrace
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = defaultMaxBatch
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	seen := map[string]bool{}
	pins := map[[32]byte]bool{}
	cfg.Partners = slices.Clone(cfg.Partners)
	for i := range cfg.Partners {
		p := &cfg.Partners[i]
		u, err := url.Parse(p.URL)
		switch {
		case !validID(p.ID) || p.ID == cfg.ID:
			return nil, fmt.Errorf("federation: partner %d: invalid or own ID %q", i, p.ID)
		case seen[p.ID]:
			return nil, fmt.Errorf("federation: partner %q listed twice", p.ID)
		case pins[p.SPKI]:
			return nil, fmt.Errorf("federation: partner %q: SPKI pin shared with another partner", p.ID)
		case p.SPKI == [32]byte{}:
			return nil, fmt.Errorf("federation: partner %q: no SPKI pin", p.ID)
		case len(p.Identity) != ed25519.PublicKeySize:
			return nil, fmt.Errorf("federation: partner %q: Identity is not an Ed25519 public key", p.ID)
		case err != nil || u.Scheme != "https" || u.Host == "":
			return nil, fmt.Errorf("federation: partner %q: URL must be https://host[:port]", p.ID)
		case p.Budget < 0:
			return nil, fmt.Errorf("federation: partner %q: negative budget", p.ID)
		case p.MaxFilterEntries < 0 || p.MaxFilterBytes < 0:
			return nil, fmt.Errorf("federation: partner %q: negative MaxFilterEntries or MaxFilterBytes", p.ID)
		case cfg.Mode != match.ModePOPRF && !slices.Equal(p.Kinds, []string{"*"}) && len(p.Kinds) > 0:
			return nil, fmt.Errorf("federation: partner %q: a kind policy needs Mode POPRF (in %v a partner can declare one kind and send another)", p.ID, cfg.Mode)
		}
		for _, k := range p.Kinds {
			if k == "*" {
				continue
			}
			if _, err := indicator.Lookup(k); err != nil && !strings.HasPrefix(k, "x-") {
				return nil, fmt.Errorf("federation: partner %q: %w", p.ID, err)
			}
		}
		for j, rule := range p.ReleaseLabels {
			if err := checkReleaseRule(rule); err != nil {
				return nil, fmt.Errorf("federation: partner %q: release rule %d %q: %w", p.ID, j, rule, err)
			}
		}
		p.URL = strings.TrimSuffix(p.URL, "/")
		seen[p.ID], pins[p.SPKI] = true, true
	}
	return &cfg, nil
}

// counting reports whether the node publishes count filters: whether a
// partner may count.
func (c *Config) counting() bool {
	return slices.ContainsFunc(c.Partners, func(p Partner) bool { return p.Cardinality })
}

// allowsKind reports whether the partner may query kind.
func (p *Partner) allowsKind(kind string) bool {
	for _, k := range p.Kinds {
		if k == "*" || k == kind {
			return true
		}
		if kk, err := indicator.Lookup(k); err == nil && kk.Name() == kind {
			return true
		}
	}
	return false
}
