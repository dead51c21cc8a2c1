package federation

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// A Config holds the node's identity key and, if set, its TLS
// certificate's private key. Its String, GoString, Format and LogValue
// print a summary in which both are "<redacted>", so that no verb of
// package fmt (%v, %+v, %#v, %x...), no log/slog handler and no
// Stringer-based logger shows them. (Node and Matcher hold their
// configuration behind a pointer in an unexported field, which fmt prints
// as an address.) A Config inside a caller's own unexported field is
// printed by fmt without these methods: log the Config itself.

// String returns a summary of the configuration: ID, state directory,
// partner IDs, suite, mode, false-positive rate, durations and batch
// size. The keys are "<redacted>" (or "<none>" if not set); Watchlist,
// OnHit, Logger and Now are not shown.
func (c Config) String() string {
	ids := make([]string, len(c.Partners))
	for i, p := range c.Partners {
		ids[i] = fmt.Sprintf("%q", p.ID)
	}
	return fmt.Sprintf("federation.Config{ID:%q StateDir:%q Partners:[%s] Suite:%v Mode:%v Identity:%s TLSCertificate:%s "+
		"FalsePositiveRate:%g EpochLength:%v Grace:%v MaxBatch:%d RequestTimeout:%v}",
		c.ID, c.StateDir, strings.Join(ids, " "), c.Suite, c.Mode, redacted(len(c.Identity) > 0), redacted(c.TLSCertificate != nil),
		c.FalsePositiveRate, c.EpochLength, c.Grace, c.MaxBatch, c.RequestTimeout)
}

// GoString returns the summary of String.
func (c Config) GoString() string { return c.String() }

// Format prints the summary of String whatever the verb and flags.
func (c Config) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

// LogValue returns the summary of String as a log/slog group.
func (c Config) LogValue() slog.Value {
	ids := make([]string, len(c.Partners))
	for i, p := range c.Partners {
		ids[i] = p.ID
	}
	return slog.GroupValue(
		slog.String("id", c.ID), slog.String("state_dir", c.StateDir), slog.Any("partners", ids),
		slog.String("suite", c.Suite.String()), slog.String("mode", c.Mode.String()),
		slog.String("identity", redacted(len(c.Identity) > 0)), slog.String("tls_certificate", redacted(c.TLSCertificate != nil)),
		slog.Float64("false_positive_rate", c.FalsePositiveRate), slog.Duration("epoch_length", c.EpochLength),
		slog.Duration("grace", c.Grace), slog.Int("max_batch", c.MaxBatch), slog.Duration("request_timeout", c.RequestTimeout),
	)
}

func redacted(set bool) string {
	if set {
		return "<redacted>"
	}
	return "<none>"
}

// String returns the summary of the node's configuration (see
// [Config.String]): never its keys.
func (n *Node) String() string {
	if n == nil {
		return "<nil>"
	}
	return "federation.Node{" + n.cfg.String() + "}"
}

// Format prints the summary of String whatever the verb. Without it a
// verb that does not apply to a pointer (%s, %q) would make fmt print the
// node's fields, keys among them.
func (n *Node) Format(f fmt.State, verb rune) { io.WriteString(f, n.String()) }

// String returns the summary of the matcher's configuration (see
// [Config.String]): never its keys.
func (m *Matcher) String() string {
	if m == nil {
		return "<nil>"
	}
	return "federation.Matcher{" + m.cfg.String() + "}"
}

// Format prints the summary of String whatever the verb (see
// [Node.Format]).
func (m *Matcher) Format(f fmt.State, verb rune) { io.WriteString(f, m.String()) }
