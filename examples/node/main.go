// Command node runs one agency's fedmatch node from a configuration file
// and a watchlist file: the program an agency adapts to plug fedmatch into
// its own tools. See README.md in this directory.
//
//	node -config node.json -init            create the identity key, print this node's pins
//	node -config node.json                  serve: publish, rotate, answer partners
//	node -config node.json -match FILE      match FILE's indicators against every partner
//	node -config node.json -verify-audit    verify the audit log
//	node -config node.json -metrics ADDR    serve, and GET http://ADDR/metrics (Prometheus)
//
// Paths in the configuration file are relative to the file's directory;
// -state DIR, which overrides its state_dir, is relative to the working
// directory, as paths on a command line are.
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fedmatch/fedmatch/federation"
	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/feed"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// fileConfig is the JSON configuration file. Paths are relative to the
// file's directory.
type fileConfig struct {
	ID           string `json:"id"`
	Listen       string `json:"listen"`        // address to serve on, such as ":8443"
	StateDir     string `json:"state_dir"`     // keys, filters, budgets, audit log
	IdentityFile string `json:"identity_file"` // hex Ed25519 seed, mode 0600; -init creates it
	CertFile     string `json:"cert_file"`     // optional agency certificate (PEM)...
	KeyFile      string `json:"key_file"`      // ...and its key; default: self-signed identity
	Watchlist    struct {
		Path        string `json:"path"`
		Format      string `json:"format"`       // stix, misp, csv, lines; default: detected
		Kind        string `json:"kind"`         // for line lists and CSV without a kind column
		PhoneRegion string `json:"phone_region"` // for national-format phone numbers
	} `json:"watchlist"`
	EpochLength       string  `json:"epoch_length"` // Go duration, default "24h"
	Grace             string  `json:"grace"`        // default "1h"
	FalsePositiveRate float64 `json:"false_positive_rate"`
	MaxBatch          int     `json:"max_batch"`
	// ChangeInterval, a Go duration, publishes additions at fixed ticks
	// (federation.Config.ChangeInterval); default: at once.
	ChangeInterval string `json:"change_interval"`
	// ChangePadding pads each tick to that many insertions
	// (federation.Config.ChangePadding); needs change_interval.
	ChangePadding int `json:"change_padding"`
	Partners      []struct {
		ID            string   `json:"id"`
		URL           string   `json:"url"`
		SPKI          string   `json:"spki"`     // hex SHA-256 of the partner's certificate public key
		Identity      string   `json:"identity"` // hex Ed25519 public key that signs its filters
		Kinds         []string `json:"kinds"`
		Budget        int      `json:"budget"`
		ReleaseLabels []string `json:"release_labels"`
		// The largest filter accepted from the partner; 0: the defaults
		// (federation.Partner.MaxFilterEntries and MaxFilterBytes).
		MaxFilterEntries int   `json:"max_filter_entries"`
		MaxFilterBytes   int64 `json:"max_filter_bytes"`
		// Cardinality lets the partner count (federation.Partner.Cardinality):
		// learn how many of its indicators are on this node's list, not
		// which, at the cost of its budget. Default false.
		Cardinality bool `json:"cardinality"`
	} `json:"partners"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration `file` (JSON)")
	initID := fs.Bool("init", false, "create the identity key if missing and print this node's pins for its partners")
	matchFile := fs.String("match", "", "match the indicators of `file` against every partner and exit")
	countFile := fs.String("count", "", "count how many of the indicators of `file` each partner holds, without learning which, and exit (the partner must allow it: \"cardinality\")")
	watchFile := fs.String("watch", "", "while serving, keep the indicators of `file` matched against every partner (re-read when it changes) and print each new hit")
	matchFormat := fs.String("format", "", "`format` of the -match file (default: detected)")
	verify := fs.Bool("verify-audit", false, "verify the audit log and exit")
	stateDir := fs.String("state", "", "override the configuration's state `directory` (a relative path is relative to the working directory; paths in the configuration file are relative to the file)")
	listen := fs.String("listen", "", "override the configuration's listen `address`")
	metricsAddr := fs.String("metrics", "", "while serving, serve GET /metrics (Prometheus text format, plain HTTP) on `address`, such as 127.0.0.1:9464")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: node -config FILE [-init | -match FILE | -count FILE | -verify-audit | -watch FILE] [-state DIR] [-listen ADDR] [-metrics ADDR]")
		fmt.Fprintln(stderr, "paths in FILE are relative to FILE's directory, paths on the command line to the working directory")
		return 2
	}
	fc, dir, err := readConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, "node:", err)
		return 1
	}
	if *stateDir != "" {
		// A path on the command line is relative to the working
		// directory, as for any command; rel keeps it as it is once
		// absolute.
		if fc.StateDir, err = filepath.Abs(*stateDir); err != nil {
			fmt.Fprintln(stderr, "node:", err)
			return 1
		}
	}
	if *listen != "" {
		fc.Listen = *listen
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	if *initID {
		err = initIdentity(fc, dir, stdout)
	} else {
		var cfg *federation.Config
		cfg, err = buildConfig(fc, dir, log)
		switch {
		case err != nil:
		case *verify:
			err = verifyAudit(cfg, stdout)
		case *matchFile != "":
			err = matchIndicators(ctx, cfg, *matchFile, *matchFormat, fc.Watchlist.PhoneRegion, stdout, stderr)
		case *countFile != "":
			err = countIndicators(ctx, cfg, *countFile, *matchFormat, fc.Watchlist.PhoneRegion, stdout, stderr)
		default:
			var w *watchSpec
			if *watchFile != "" {
				w = &watchSpec{path: *watchFile, format: *matchFormat, region: fc.Watchlist.PhoneRegion, out: stdout, errw: stderr}
			}
			listPath := ""
			if fc.Watchlist.Path != "" {
				listPath = rel(dir, fc.Watchlist.Path)
			}
			err = serve(ctx, cfg, fc.Listen, *metricsAddr, listPath, log, w)
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "node:", err)
		return 1
	}
	return 0
}

func readConfig(path string) (*fileConfig, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	var fc fileConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return &fc, filepath.Dir(path), nil
}

func rel(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func loadIdentity(path string, log *slog.Logger) (ed25519.PrivateKey, error) {
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 && log != nil {
		log.Warn("identity key file is readable by others; chmod 600 it", "path", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seed, err := hex.DecodeString(string(bytes.TrimSpace(data)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s: not a hex Ed25519 seed of %d bytes", path, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// initIdentity creates the identity key if missing and prints what
// partners put in their configuration for this node.
func initIdentity(fc *fileConfig, dir string, out io.Writer) error {
	path := rel(dir, fc.IdentityFile)
	if path == "" {
		return errors.New("identity_file is not set")
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(f, hex.EncodeToString(seed)); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	key, err := loadIdentity(path, nil)
	if err != nil {
		return err
	}
	pub := key.Public().(ed25519.PublicKey)
	spki := federation.IdentitySPKI(pub)
	if fc.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(rel(dir, fc.CertFile), rel(dir, fc.KeyFile))
		if err != nil {
			return err
		}
		spki = federation.SPKIHash(cert.Leaf)
	}
	entry := map[string]any{
		"id": fc.ID, "url": partnerURL(fc.Listen), "spki": hex.EncodeToString(spki[:]), "identity": hex.EncodeToString(pub),
		"kinds": []string{"*"}, "budget": 100000, "release_labels": []string{},
	}
	b, _ := json.MarshalIndent(entry, "", "  ")
	fmt.Fprintf(out, "Give your partners this entry for their \"partners\" list (set url, kinds, budget, release_labels):\n%s\n", b)
	return nil
}

// partnerURL is the URL partners reach a node listening on listen at,
// with HOST for the name they know it by: the host part of listen (empty,
// 0.0.0.0, a private address) is rarely that. Regression: -init printed
// "https://HOST127.0.0.1:18444", HOST glued onto the listen address.
func partnerURL(listen string) string {
	_, port, err := net.SplitHostPort(listen)
	if err != nil || port == "" {
		return "https://HOST:PORT"
	}
	return "https://HOST:" + port
}

func buildConfig(fc *fileConfig, dir string, log *slog.Logger) (*federation.Config, error) {
	key, err := loadIdentity(rel(dir, fc.IdentityFile), log)
	if err != nil {
		return nil, fmt.Errorf("%w (run with -init first)", err)
	}
	cfg := &federation.Config{
		ID: fc.ID, Identity: key, StateDir: rel(dir, fc.StateDir), Logger: log,
		FalsePositiveRate: fc.FalsePositiveRate, MaxBatch: fc.MaxBatch,
	}
	if fc.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(rel(dir, fc.CertFile), rel(dir, fc.KeyFile))
		if err != nil {
			return nil, err
		}
		cfg.TLSCertificate = &cert
	}
	for name, d := range map[string]struct {
		s   string
		dst *time.Duration
	}{"epoch_length": {fc.EpochLength, &cfg.EpochLength}, "grace": {fc.Grace, &cfg.Grace}, "change_interval": {fc.ChangeInterval, &cfg.ChangeInterval}} {
		if d.s != "" {
			if *d.dst, err = time.ParseDuration(d.s); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	// The federation package checks the rest (a second at least, half
	// the epoch at most, the padding's size) when the node starts.
	switch {
	case cfg.ChangeInterval < 0:
		return nil, fmt.Errorf("change_interval %s is negative", fc.ChangeInterval)
	case fc.ChangePadding < 0:
		return nil, fmt.Errorf("change_padding %d is negative", fc.ChangePadding)
	case fc.ChangePadding > 0 && cfg.ChangeInterval == 0:
		return nil, errors.New("change_padding needs change_interval: padding hides additions only at fixed ticks")
	}
	cfg.ChangePadding = fc.ChangePadding
	for _, p := range fc.Partners {
		spki, err := hex.DecodeString(p.SPKI)
		if err != nil || len(spki) != 32 {
			return nil, fmt.Errorf("partner %s: spki is not 32 bytes of hex", p.ID)
		}
		id, err := hex.DecodeString(p.Identity)
		if err != nil || len(id) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("partner %s: identity is not an Ed25519 public key in hex", p.ID)
		}
		cfg.Partners = append(cfg.Partners, federation.Partner{
			ID: p.ID, URL: p.URL, SPKI: [32]byte(spki), Identity: id,
			Kinds: p.Kinds, Budget: p.Budget, ReleaseLabels: p.ReleaseLabels,
			MaxFilterEntries: p.MaxFilterEntries, MaxFilterBytes: p.MaxFilterBytes,
			Cardinality: p.Cardinality,
		})
	}
	wl := fc.Watchlist
	if wl.Path != "" {
		path := rel(dir, wl.Path)
		opts, err := feedOptions(wl.Format, wl.Kind, wl.PhoneRegion)
		if err != nil {
			return nil, err
		}
		// The watchlist is read afresh at every publication and rotation;
		// rejected records are logged by position and reason only. A file
		// that cannot be read aborts the publication: the node keeps
		// serving its previous filter rather than an empty one.
		cfg.Watchlist = func() iter.Seq2[match.Entry, error] {
			return func(yield func(match.Entry, error) bool) {
				f, err := os.Open(path)
				if err != nil {
					yield(match.Entry{}, err)
					return
				}
				defer f.Close()
				o := *opts
				o.OnReject = func(r feed.Reject) { log.Warn("watchlist record not imported", "where", r.Where, "reason", r.Reason) }
				rd := feed.NewReader(f, &o)
				for e := range rd.Entries() {
					if !yield(e, nil) {
						return
					}
				}
				if err := rd.Err(); err != nil {
					yield(match.Entry{}, err)
					return
				}
				s := rd.Summary()
				log.Info("watchlist read", "format", s.Format, "imported", s.Imported, "rejected", s.Rejected, "unsupported", s.Unsupported)
			}
		}
	}
	return cfg, nil
}

func feedOptions(format, kind, region string) (*feed.Options, error) {
	f, err := feed.ParseFormat(format)
	if err != nil {
		return nil, err
	}
	o := &feed.Options{Format: f, PhoneRegion: region}
	if kind != "" {
		if o.Kind, err = indicator.Lookup(kind); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// serve runs the node until ctx is done: it publishes, rotates on
// schedule and answers its partners. It re-reads the node's watchlist
// file when it changes and applies the difference to the current epoch:
// entries new to the file with Node.Add (only they are evaluated,
// partners get a delta), entries gone from it with Node.RemoveEntries;
// a change of more than half the list, or one that cannot be applied,
// publishes the list afresh (follow.go). With w, it keeps w's indicators
// matched against every partner and prints each new hit. With
// metricsAddr, it serves the node's metrics there (metrics.go).
func serve(ctx context.Context, cfg *federation.Config, addr, metricsAddr, listPath string, log *slog.Logger, w *watchSpec) error {
	cfg.OnHit = func(h federation.HitNotice) {
		refs := make([]string, 0, len(h.Entries))
		for _, e := range h.Entries {
			refs = append(refs, e.Ref)
		}
		log.Info("partner confirmed hits on our watchlist", "partner", h.Partner, "epoch", h.Epoch, "entries", len(h.Entries), "refs", strings.Join(refs, ","))
	}
	raw, reads := cfg.Watchlist, &readLog{}
	if raw != nil {
		cfg.Watchlist = reads.wrap(raw) // what each publication and rotation read
	}
	n, err := federation.New(cfg)
	if err != nil {
		return err
	}
	defer n.Close()
	if n.Epoch() == 0 {
		if err := n.Publish(ctx); err != nil {
			return err
		}
	}
	go func() {
		if err := n.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("maintenance stopped", "err", err)
		}
	}()
	if raw != nil && listPath != "" {
		go followWatchlist(ctx, n, func() ([]match.Entry, error) { return readList(raw) }, reads, listPath, log)
	}
	if metricsAddr != "" {
		if err := serveMetrics(ctx, metricsAddr, n, log); err != nil {
			return err
		}
	}
	if w != nil {
		if err := w.start(ctx, n.Matcher, log); err != nil {
			return err
		}
	}
	return n.ListenAndServe(ctx, addr, func(a net.Addr) {
		log.Info("serving", "addr", a.String(), "epoch", n.Epoch(), "entries", n.Filter().Len())
	})
}

// matchIndicators matches a file's indicators against every partner.
func matchIndicators(ctx context.Context, cfg *federation.Config, path, format, region string, out, errw io.Writer) error {
	m, err := federation.NewMatcher(cfg)
	if err != nil {
		return err
	}
	inds, err := readIndicators(path, format, region, errw)
	if err != nil {
		return err
	}
	failed := false
	for _, r := range m.Match(ctx, inds) {
		failed = failed || r.Err != nil
		printResult(out, errw, r)
	}
	if failed {
		return errors.New("some partners failed")
	}
	return nil
}

// countIndicators counts, for every partner, how many of the indicators
// of path it holds (federation.Matcher.Count), and prints one line per
// partner: "partner<TAB>shared<TAB>queried". A partner's error (one that
// does not allow counting, say) goes to errw.
func countIndicators(ctx context.Context, cfg *federation.Config, path, format, region string, out, errw io.Writer) error {
	m, err := federation.NewMatcher(cfg)
	if err != nil {
		return err
	}
	inds, err := readIndicators(path, format, region, errw)
	if err != nil {
		return err
	}
	failed := false
	for _, p := range cfg.Partners {
		res, err := m.Count(ctx, p.ID, inds)
		if err != nil {
			failed = true
			fmt.Fprintf(errw, "%s: %s\n", p.ID, printable(err.Error()))
			continue
		}
		fmt.Fprintf(out, "%s\t%d\t%d\n", p.ID, res.Shared, res.Queried)
	}
	if failed {
		return errors.New("some partners failed")
	}
	return nil
}

// readIndicators reads the indicators of a file to match or count; its
// rejected records go to errw, by position and reason.
func readIndicators(path, format, region string, errw io.Writer) ([]indicator.Indicator, error) {
	opts, err := feedOptions(format, "", region)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := feed.NewReader(f, opts)
	var inds []indicator.Indicator
	for e := range rd.Entries() {
		inds = append(inds, e.Indicator)
	}
	if err := rd.Err(); err != nil {
		return nil, err
	}
	for _, r := range rd.Rejects() {
		fmt.Fprintf(errw, "%s: %s\n", path, r)
	}
	return inds, nil
}

// printResult prints a partner's hits, one line each, to out, and its
// error and summary to errw. Labels and errors carry the partner's text:
// what is not printable is escaped (see printable), so that a partner
// cannot add lines or columns to the output.
func printResult(out, errw io.Writer, r federation.PartnerResult) {
	if r.Err != nil {
		fmt.Fprintf(errw, "%s: %s\n", r.Partner, printable(r.Err.Error()))
	}
	sort.Slice(r.Hits, func(i, j int) bool { return r.Hits[i].Indicator.String() < r.Hits[j].Indicator.String() })
	for _, h := range r.Hits {
		labels := make([]string, len(h.Labels))
		for i, l := range h.Labels {
			labels[i] = printable(l)
		}
		fmt.Fprintf(out, "%s\t%s\t%s\n", r.Partner, printable(h.Indicator.String()), strings.Join(labels, "; "))
	}
	for _, ind := range r.Withdrawn {
		// Not a hit: the partner listed it and removed it since; it
		// learnt that this node holds it.
		fmt.Fprintf(errw, "%s: withdrawn: %s\n", r.Partner, printable(ind.String()))
	}
	fmt.Fprintf(errw, "%s: epoch %d, %d queried, %d candidates, %d hits\n", r.Partner, r.Epoch, r.Queried, r.Candidates, len(r.Hits))
	if len(r.Withdrawn) > 0 {
		fmt.Fprintf(errw, "%s: %d withdrawn\n", r.Partner, len(r.Withdrawn))
	}
}

// verifyAudit verifies the audit log of the state directory. A directory
// that is missing, or holds no record, is an error: a node records its
// every start, so it is the wrong directory (or the log was removed), and
// "0 records verified" would pass for a check.
func verifyAudit(cfg *federation.Config, out io.Writer) error {
	if st, err := os.Stat(cfg.StateDir); err != nil {
		return fmt.Errorf("state directory: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("state directory %s is not a directory", cfg.StateDir)
	}
	rep, err := federation.VerifyAudit(cfg.StateDir, cfg.ID, cfg.Identity.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	if rep.Records == 0 {
		return fmt.Errorf("%s holds no audit record: not the state directory of node %s (which records every start), or its audit log was removed", cfg.StateDir, cfg.ID)
	}
	fmt.Fprintf(out, "audit log verified: %d records, %d under the signed head", rep.Records, rep.Signed)
	if rep.Torn {
		fmt.Fprint(out, " (an incomplete last record, cut at the next start)")
	}
	fmt.Fprintln(out)
	return nil
}

// printable returns s unchanged if every character is printable (letters,
// marks, numbers, punctuation, symbols and the ASCII space), and otherwise
// s quoted as a Go string, in which tab, newline, escape, U+2028,
// bidirectional controls and invalid UTF-8 show as escapes ("\t",
// "\u2028"): one line, one column, whatever s holds.
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			return strconv.Quote(s)
		}
	}
	return s
}
