package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/federation"
	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// setup copies the demo configuration to a temporary directory with free
// ports, and returns the two configuration files.
func setup(t *testing.T) (a, b string) {
	dir := t.TempDir()
	addrA, addrB := freePort(t), freePort(t)
	for _, name := range []string{"cert-a.identity", "fiu-b.identity", "cert-a-watchlist.csv", "fiu-b-watchlist.txt", "fiu-b-query.csv"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), data, 0o600)
	}
	for name, addrs := range map[string][2]string{"cert-a.json": {addrA, addrB}, "fiu-b.json": {addrB, addrA}} {
		data, _ := os.ReadFile(filepath.Join("testdata", name))
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		m["listen"] = addrs[0]
		m["partners"].([]any)[0].(map[string]any)["url"] = "https://" + addrs[1]
		out, _ := json.Marshal(m)
		os.WriteFile(filepath.Join(dir, name), out, 0o600)
	}
	return filepath.Join(dir, "cert-a.json"), filepath.Join(dir, "fiu-b.json")
}

func TestNodes(t *testing.T) {
	cfgA, cfgB := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logA syncBuffer // OnHit logs from the node's goroutines
	done := make(chan int)
	go func() { done <- run(ctx, []string{"-config", cfgA}, &bytes.Buffer{}, &logA) }()

	query := filepath.Join(filepath.Dir(cfgB), "fiu-b-query.csv")
	var out, errb bytes.Buffer
	deadline := time.Now().Add(20 * time.Second)
	for {
		out.Reset()
		errb.Reset()
		if run(context.Background(), []string{"-config", cfgB, "-match", query}, &out, &errb) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("matching never succeeded: %s", errb.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	want := "cert-a\tdomain:update-checker.example.org\tTLP:GREEN C2\n" +
		"cert-a\temail:broker@example.net\tTLP:GREEN ransomware negotiator\n" +
		"cert-a\temail:courier@example.org\t\n" + // TLP:AMBER is not released to fiu-b
		"cert-a\tphone:+442079460018\t\n" // nor TLP:RED
	if out.String() != want {
		t.Errorf("hits:\n%s\nwant:\n%s\nstderr: %s", out.String(), want, errb.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d: %s", code, logA.String())
	}
	// The publisher's log names partners, kinds and counts, never a value.
	if strings.Contains(logA.String(), "example.net") || !strings.Contains(logA.String(), "partner=fiu-b") {
		t.Errorf("publisher's log:\n%s", logA.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"-config", cfgA, "-verify-audit"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "audit log verified") {
		t.Errorf("verify-audit: %d %s %s", code, out.String(), errb.String())
	}
}

// The URL -init prints keeps the listen port and puts HOST for the name.
// Regression: "https://HOST127.0.0.1:18444".
func TestPartnerURL(t *testing.T) {
	for listen, want := range map[string]string{
		":8443":           "https://HOST:8443",
		"127.0.0.1:18444": "https://HOST:18444",
		"[::1]:9000":      "https://HOST:9000",
		"0.0.0.0:443":     "https://HOST:443",
		"":                "https://HOST:PORT",
		"nonsense":        "https://HOST:PORT",
	} {
		if got := partnerURL(listen); got != want {
			t.Errorf("listen %q: %s, want %s", listen, got, want)
		}
	}
}

func TestInit(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "n.json")
	os.WriteFile(cfg, []byte(`{"id": "new-node", "listen": "127.0.0.1:18444", "state_dir": "state", "identity_file": "id.key"}`), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-config", cfg, "-init"}, &out, &errb); code != 0 {
		t.Fatalf("init: %d %s", code, errb.String())
	}
	st, err := os.Stat(filepath.Join(dir, "id.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("identity file: %v %v", st, err)
	}
	// The printed entry is a partner entry of this node, as JSON, whose
	// pins are those of the identity file.
	_, entryJSON, ok := strings.Cut(out.String(), "\n")
	var entry struct {
		ID, URL, SPKI, Identity string
		Kinds                   []string
		Budget                  int
		ReleaseLabels           []string `json:"release_labels"`
	}
	if !ok || json.Unmarshal([]byte(entryJSON), &entry) != nil {
		t.Fatalf("init output: %s", out.String())
	}
	key, err := loadIdentity(filepath.Join(dir, "id.key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	pin := federation.IdentitySPKI(pub)
	if entry.ID != "new-node" || entry.URL != "https://HOST:18444" || entry.SPKI != hex.EncodeToString(pin[:]) ||
		entry.Identity != hex.EncodeToString(pub) || entry.Budget <= 0 || len(entry.Kinds) == 0 {
		t.Errorf("init entry: %+v", entry)
	}
	first := out.String()
	out.Reset()
	run(context.Background(), []string{"-config", cfg, "-init"}, &out, &errb)
	if out.String() != first {
		t.Error("a second -init changed the identity")
	}
	for _, args := range [][]string{{}, {"-config", filepath.Join(dir, "missing.json")}, {"-config", cfg, "extra"}} {
		if run(context.Background(), args, &out, &errb) == 0 {
			t.Errorf("%v: exit 0", args)
		}
	}
	os.WriteFile(cfg, []byte(`{"id": "x", "unknown_field": 1}`), 0o600)
	if run(context.Background(), []string{"-config", cfg, "-verify-audit"}, &out, &errb) == 0 {
		t.Error("a configuration with an unknown field was accepted")
	}
}

// -verify-audit on a state directory that is missing, or holds no audit
// log, fails: a node that ever started has recorded it. Regression: it
// printed "verified: 0 records" and exited 0.
func TestVerifyAuditMissingState(t *testing.T) {
	cfgA, _ := setup(t)
	dir := filepath.Dir(cfgA)
	empty := t.TempDir()
	for _, args := range [][]string{
		{"-config", cfgA, "-verify-audit"}, // state_dir does not exist yet
		{"-config", cfgA, "-verify-audit", "-state", filepath.Join(dir, "no-such-dir")},
		{"-config", cfgA, "-verify-audit", "-state", empty},
		{"-config", cfgA, "-verify-audit", "-state", cfgA}, // a file
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 1 || out.Len() != 0 || !strings.Contains(errb.String(), "node: ") {
			t.Errorf("%v: exit %d, out %q, err %q", args[3:], code, out.String(), errb.String())
		}
	}
}

// A relative -state is relative to the working directory, as paths on
// the command line are; paths in the configuration file stay relative to
// the file. Regression: -state was resolved against the file's directory.
func TestStateRelativeToWorkingDirectory(t *testing.T) {
	cfgA, _ := setup(t)
	wd := t.TempDir()
	t.Chdir(wd)
	fc, dir, err := readConfig(cfgA)
	if err != nil {
		t.Fatal(err)
	}
	fc.StateDir = filepath.Join(wd, "my-state")
	cfg, err := buildConfig(fc, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	n, err := federation.New(cfg) // records its start in wd/my-state
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-config", cfgA, "-state", "my-state", "-verify-audit"}, &out, &errb); code != 0 ||
		!strings.HasPrefix(out.String(), "audit log verified: 1 records") {
		t.Errorf("relative -state: exit %d, %q %q", code, out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "my-state")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a state directory beside the configuration: %v", err)
	}
}

// Hits are printed one to a line, whatever a partner puts in its labels
// and errors: what is not printable is escaped. (A publisher that passes
// match.CheckLabel cannot send a newline; one that does not is refused
// by the decoder; this is the last line of defence, and errors from a
// partner carry its text too.)
func TestPrintResultEscapes(t *testing.T) {
	ind := indicator.MustNew(indicator.Domain, "example.org")
	r := federation.PartnerResult{Partner: "cert-a", Epoch: 3, Queried: 5, Candidates: 1,
		Hits: []match.Hit{{Indicator: ind, Labels: []string{"TLP:GREEN ok", "evil\ncert-a\tdomain:forged.example\tTLP:GREEN", "\x1b[2Jclear \u2028 sep"}}},
		Err:  errors.New("partner says: \nforged line\x1b[31m"),
	}
	var out, errb bytes.Buffer
	printResult(&out, &errb, r)
	want := "cert-a\tdomain:example.org\tTLP:GREEN ok; \"evil\\ncert-a\\tdomain:forged.example\\tTLP:GREEN\"; \"\\x1b[2Jclear \\u2028 sep\"\n"
	if out.String() != want {
		t.Errorf("hits:\n%q\nwant\n%q", out.String(), want)
	}
	if strings.Count(errb.String(), "\n") != 2 || strings.Contains(errb.String(), "\x1b") {
		t.Errorf("errors: %q", errb.String())
	}
}

// Withdrawn indicators are printed, to standard error and not as hits.
func TestPrintResultWithdrawn(t *testing.T) {
	ind := indicator.MustNew(indicator.Domain, "example.org")
	var out, errb bytes.Buffer
	printResult(&out, &errb, federation.PartnerResult{Partner: "cert-a", Withdrawn: []indicator.Indicator{ind}})
	if out.Len() != 0 || !strings.Contains(errb.String(), "cert-a: withdrawn: domain:example.org\n") ||
		!strings.Contains(errb.String(), "1 withdrawn") {
		t.Errorf("out %q, err %q", out.String(), errb.String())
	}
}

// The per-partner filter maxima of the configuration file reach the
// node's Partner.
func TestPartnerMaxima(t *testing.T) {
	dir := t.TempDir()
	seed := strings.Repeat("ab", 32)
	os.WriteFile(filepath.Join(dir, "id"), []byte(seed), 0o600)
	conf := `{"id": "a", "state_dir": "state", "identity_file": "id", "partners": [{"id": "b", "url": "https://b.example",
		"spki": "` + strings.Repeat("01", 32) + `", "identity": "` + strings.Repeat("02", 32) + `",
		"kinds": ["*"], "budget": 1, "max_filter_entries": 1000, "max_filter_bytes": 65536}]}`
	path := filepath.Join(dir, "a.json")
	os.WriteFile(path, []byte(conf), 0o600)
	fc, base, err := readConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := buildConfig(fc, base, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Partners[0]; p.MaxFilterEntries != 1000 || p.MaxFilterBytes != 65536 {
		t.Fatalf("partner maxima %d, %d", p.MaxFilterEntries, p.MaxFilterBytes)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func appendLine(t *testing.T, path, line string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
}

// Two terminals and an editor: fiu-b serves with -watch and prints each
// new hit the moment it is confirmed; a line appended to cert-a's
// watchlist becomes a hit at fiu-b (and a log line at cert-a, which names
// references, never values), and a line appended to fiu-b's watch file is
// evaluated and found.
func TestNodesWatch(t *testing.T) {
	old := pollEvery.Load()
	pollEvery.Store(int64(100 * time.Millisecond))
	defer pollEvery.Store(old)
	cfgA, cfgB := setup(t)
	dir := filepath.Dir(cfgA)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logA, logB, outB syncBuffer
	doneA, doneB := make(chan int), make(chan int)
	go func() { doneA <- run(ctx, []string{"-config", cfgA}, &bytes.Buffer{}, &logA) }()
	watch := filepath.Join(dir, "fiu-b-query.csv")
	go func() { doneB <- run(ctx, []string{"-config", cfgB, "-watch", watch}, &outB, &logB) }()
	waitOut := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30 s\nfiu-b out:\n%s\nfiu-b log:\n%s\ncert-a log:\n%s", what, outB.String(), logB.String(), logA.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitOut("the first hits", func() bool {
		return strings.Contains(outB.String(), "cert-a\temail:broker@example.net\tTLP:GREEN ransomware negotiator\n")
	})
	appendLine(t, filepath.Join(dir, "cert-a-watchlist.csv"), "email,nobody@example.com,case-9999,TLP:GREEN new case")
	waitOut("cert-a's addition", func() bool {
		return strings.Contains(outB.String(), "cert-a\temail:nobody@example.com\tTLP:GREEN new case\n") &&
			strings.Contains(logA.String(), "refs=case-9999")
	})
	appendLine(t, watch, "ipv4,192.0.2.44")
	waitOut("fiu-b's addition", func() bool { return strings.Contains(outB.String(), "cert-a\tipv4:192.0.2.44\tTLP:GREEN C2 server\n") })
	if n := strings.Count(outB.String(), "email:broker@example.net"); n != 1 {
		t.Errorf("a hit printed %d times", n)
	}
	// A removed line is removed, without a publication.
	list := filepath.Join(dir, "cert-a-watchlist.csv")
	data, _ := os.ReadFile(list)
	os.WriteFile(list, []byte(strings.Replace(string(data), "email,Broker@Example.NET,case-2304,TLP:GREEN ransomware negotiator\n", "", 1)), 0o600)
	waitOut("cert-a's removal", func() bool { return strings.Contains(logA.String(), "watchlist entries removed") })
	if !strings.Contains(logA.String(), "watchlist entries added") || strings.Contains(logA.String(), "watchlist published afresh") || strings.Contains(logA.String(), "nobody@") {
		t.Errorf("cert-a's log:\n%s", logA.String())
	}
	cancel()
	if a, b := <-doneA, <-doneB; a != 0 || b != 0 {
		t.Errorf("exit codes %d, %d", a, b)
	}
}

// editList replaces old by new in the file at path (a line added if old
// is empty).
func editList(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if old == "" {
		data = append(data, new...)
	} else if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s does not hold %q", path, old)
	} else {
		data = bytes.Replace(data, []byte(old), []byte(new), 1)
	}
	// Through a new file, so that the change is whole when seen.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// The watchlist file's changes reach the node's current epoch as
// additions and removals, not publications: a removed line is a hit no
// more (withdrawn, as no entry holds its indicator), a changed label is
// released at once (the indicator is never withdrawn on the way); a line
// removed and added back in one epoch, which no removal or addition can
// express, and a change of most of the list are published afresh. The
// audit log tells which happened.
func TestWatchlistFollowed(t *testing.T) {
	old := pollEvery.Load()
	pollEvery.Store(int64(100 * time.Millisecond))
	defer pollEvery.Store(old)
	cfgA, cfgB := setup(t)
	dir := filepath.Dir(cfgA)
	list := filepath.Join(dir, "cert-a-watchlist.csv")
	query := filepath.Join(dir, "fiu-b-query.csv")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logA syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"-config", cfgA}, &bytes.Buffer{}, &logA) }()

	match := func() (hits, errs string) {
		t.Helper()
		var out, errb bytes.Buffer
		deadline := time.Now().Add(20 * time.Second)
		for run(context.Background(), []string{"-config", cfgB, "-match", query}, &out, &errb) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("matching never succeeded: %s", errb.String())
			}
			out.Reset()
			errb.Reset()
			time.Sleep(100 * time.Millisecond)
		}
		return out.String(), errb.String()
	}
	waitLog := func(what string, n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for strings.Count(logA.String(), what) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%q not logged %d times within 20 s:\n%s", what, n, logA.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	const broker = "email,Broker@Example.NET,case-2304,TLP:GREEN ransomware negotiator\n"
	if hits, _ := match(); !strings.Contains(hits, "cert-a\temail:broker@example.net\tTLP:GREEN ransomware negotiator\n") {
		t.Fatalf("before: hits\n%s", hits)
	}

	editList(t, list, broker, "")
	waitLog("watchlist entries removed", 1)
	hits, errs := match()
	if strings.Contains(hits, "broker@") || !strings.Contains(errs, "cert-a: withdrawn: email:broker@example.net\n") ||
		!strings.Contains(hits, "cert-a\temail:courier@example.org\t\n") {
		t.Errorf("after the removal: hits\n%s\nstderr\n%s", hits, errs)
	}

	editList(t, list, "case-2291,TLP:AMBER phishing kit operator", "case-2291,TLP:GREEN phishing kit operator")
	waitLog("watchlist entries removed", 2)
	hits, errs = match()
	if !strings.Contains(hits, "cert-a\temail:courier@example.org\tTLP:GREEN phishing kit operator\n") || strings.Contains(errs, "withdrawn: email:courier") {
		t.Errorf("after the change of label: hits\n%s\nstderr\n%s", hits, errs)
	}
	if strings.Contains(logA.String(), "published afresh") {
		t.Fatalf("a removal or a change of label published afresh:\n%s", logA.String())
	}

	editList(t, list, "", broker) // withdrawn in this epoch: only a publication lists it again
	waitLog("watchlist published afresh", 1)
	if hits, _ := match(); !strings.Contains(hits, "cert-a\temail:broker@example.net\tTLP:GREEN ransomware negotiator\n") {
		t.Errorf("after the line came back: hits\n%s", hits)
	}
	if !strings.Contains(logA.String(), "an indicator removed earlier in the epoch is back") {
		t.Errorf("the publication does not say why:\n%s", logA.String())
	}

	// Three lines of five change: more than half.
	editList(t, list, "case-2320,TLP:GREEN C2\n", "case-2320,TLP:GREEN C2 domain\n")
	editList(t, list, "case-2325,TLP:RED informant", "case-2325,TLP:RED source")
	editList(t, list, "", "email,nobody@example.com,case-9999,TLP:GREEN new case\n")
	waitLog("watchlist published afresh", 2)
	if !strings.Contains(logA.String(), "more than half of the list changed") {
		t.Errorf("the second publication does not say why:\n%s", logA.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d", code)
	}

	// One publication at start and one per fallback; the removals and the
	// change of label in epoch 1, at the version of the start.
	fc, base, err := readConfig(cfgA)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := buildConfig(fc, base, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := federation.ReadAudit(cfg.StateDir, cfg.ID, cfg.Identity.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range recs {
		switch r.Type {
		case federation.AuditPublication, federation.AuditRotation:
			kinds = append(kinds, r.Type.String())
		case federation.AuditChange:
			// Without the change's number, which the journal appends.
			detail := regexp.MustCompile(`, change \d+$`).ReplaceAllString(r.Detail, "")
			kinds = append(kinds, r.Type.String()+": "+detail)
			if r.Epoch != 1 {
				t.Errorf("a change in epoch %d", r.Epoch)
			}
		}
	}
	want := []string{"rotation", "change: version 5, 1 entries removed", "change: version 5", "change: version 5, 1 entries removed", "publication", "publication"}
	if !slices.Equal(kinds, want) {
		t.Errorf("audit records\n%q\nwant\n%q", kinds, want)
	}
	if strings.Contains(logA.String(), "example.") || strings.Contains(logA.String(), "phishing") {
		t.Errorf("cert-a's log shows a value or a label:\n%s", logA.String())
	}
}

// A difference of lists is one of multisets of entries: repeated entries
// count, order does not, and a changed label is an entry gone and one
// added.
func TestDifference(t *testing.T) {
	e := func(v, label string) match.Entry {
		return match.Entry{Indicator: indicator.MustNew(indicator.Email, v+"@example.org"), Label: label}
	}
	a, b, c, a2 := e("a", "L"), e("b", "L"), e("c", "L"), e("a", "M")
	for _, tc := range []struct {
		prev, next, added, gone []match.Entry
	}{
		{nil, []match.Entry{a, b}, []match.Entry{a, b}, nil},
		{[]match.Entry{a, b, c}, []match.Entry{c, a, b}, nil, nil},
		{[]match.Entry{a, b, a}, []match.Entry{b, a}, nil, []match.Entry{a}},
		{[]match.Entry{a, b}, []match.Entry{a, b, a, a}, []match.Entry{a, a}, nil},
		{[]match.Entry{a, b}, []match.Entry{a2, b}, []match.Entry{a2}, []match.Entry{a}},
		{[]match.Entry{a, b, c}, nil, nil, []match.Entry{a, b, c}},
	} {
		added, gone := difference(tc.prev, tc.next)
		if !slices.Equal(added, tc.added) || !slices.Equal(gone, tc.gone) {
			t.Errorf("difference(%d entries, %d entries): %d added, %d gone; want %d, %d",
				len(tc.prev), len(tc.next), len(added), len(gone), len(tc.added), len(tc.gone))
		}
	}
}

// change_interval and change_padding reach federation.Config; values
// that are wrong are refused with the field's name, and those the
// federation package refuses stop the node at start.
func TestChangeConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "id"), []byte(strings.Repeat("ab", 32)), 0o600)
	config := func(extra string) string {
		path := filepath.Join(dir, "a.json")
		os.WriteFile(path, []byte(`{"id": "a", "state_dir": "state", "identity_file": "id"`+extra+`}`), 0o600)
		return path
	}
	build := func(extra string) (*federation.Config, error) {
		fc, base, err := readConfig(config(extra))
		if err != nil {
			return nil, err
		}
		return buildConfig(fc, base, slog.New(slog.DiscardHandler))
	}
	cfg, err := build(`, "change_interval": "1m30s", "change_padding": 16`)
	if err != nil || cfg.ChangeInterval != 90*time.Second || cfg.ChangePadding != 16 {
		t.Fatalf("valid: %v", err)
	}
	if cfg, err := build(""); err != nil || cfg.ChangeInterval != 0 || cfg.ChangePadding != 0 {
		t.Fatalf("unset: %v", err)
	}
	for extra, want := range map[string]string{
		`, "change_interval": "soon"`:                      "change_interval: time: invalid duration",
		`, "change_interval": "-1m"`:                       "change_interval -1m is negative",
		`, "change_interval": "1m", "change_padding": -1`:  "change_padding -1 is negative",
		`, "change_padding": 16`:                           "change_padding needs change_interval",
		`, "change_interval": 60`:                          "change_interval",
		`, "change_interval": "1m", "change_padding": "x"`: "change_padding",
	} {
		if _, err := build(extra); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", extra, err, want)
		}
	}
	var out, errb bytes.Buffer
	config(`, "change_interval": "500ms"`)
	if code := run(context.Background(), []string{"-config", filepath.Join(dir, "a.json")}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "ChangeInterval 500ms below a second") {
		t.Errorf("change_interval of 500ms: exit %d, %s", code, errb.String())
	}
}

// A rotation made by the node's schedule re-reads the file: the program
// takes what it read as the node's list, so that a line the rotation
// already published is not added twice, and one it left out is not
// removed again; a restart takes the file as the node's list when both
// have as many entries, and publishes afresh when not.
func TestWatchlistFollowRotation(t *testing.T) {
	cfgA, _ := setup(t)
	list := filepath.Join(filepath.Dir(cfgA), "cert-a-watchlist.csv")
	var logA syncBuffer
	log := slog.New(slog.NewTextHandler(&logA, nil))
	open := func() (*federation.Node, *follower) {
		t.Helper()
		fc, base, err := readConfig(cfgA)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := buildConfig(fc, base, log)
		if err != nil {
			t.Fatal(err)
		}
		raw, reads := cfg.Watchlist, &readLog{}
		cfg.Watchlist = reads.wrap(raw)
		n, err := federation.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return n, &follower{n: n, read: func() ([]match.Entry, error) { return readList(raw) }, reads: reads, log: log}
	}
	ctx := context.Background()
	n, f := open()
	if err := n.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	f.start(ctx)
	entries := func() int { return n.Metrics().Entries }
	if !f.known || len(f.given) != 5 || entries() != 5 {
		t.Fatalf("at start: known %v, %d given, %d entries", f.known, len(f.given), entries())
	}

	// The file changes, the node rotates before the program looks.
	editList(t, list, "", "email,nobody@example.com,case-9999,TLP:GREEN new case\n")
	editList(t, list, "email,Broker@Example.NET,case-2304,TLP:GREEN ransomware negotiator\n", "")
	if err := n.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	f.change(ctx)
	if m := n.Metrics(); m.Epoch != 2 || m.Entries != 5 || f.epoch != 2 {
		t.Errorf("after the rotation: epoch %d, %d entries, follower at epoch %d", m.Epoch, m.Entries, f.epoch)
	}
	editList(t, list, "", "ipv4,198.51.100.7,case-9998,TLP:GREEN\n")
	f.change(ctx)
	if m := n.Metrics(); m.Entries != 6 || m.Version != 6 {
		t.Errorf("an addition after the rotation: %d entries, version %d", m.Entries, m.Version)
	}
	if strings.Contains(logA.String(), "afresh") || strings.Contains(logA.String(), "entries removed") {
		t.Errorf("the rotation's changes were applied again:\n%s", logA.String())
	}

	// A restart: the file as it is, then changed while the node was down.
	n.Close()
	n, f = open()
	f.start(ctx)
	if !f.known || len(f.given) != 6 || strings.Contains(logA.String(), "afresh") {
		t.Errorf("after a restart: known %v, %d given", f.known, len(f.given))
	}
	n.Close()
	editList(t, list, "ipv4,198.51.100.7,case-9998,TLP:GREEN\n", "")
	n, f = open()
	defer n.Close()
	f.start(ctx)
	if !f.known || len(f.given) != 5 || n.Metrics().Entries != 5 || !strings.Contains(logA.String(), "watchlist published afresh") {
		t.Errorf("after a restart with a line fewer: known %v, %d given, %d entries", f.known, len(f.given), n.Metrics().Entries)
	}
}

// TestNodesCount: with "cardinality" in cert-a's configuration of fiu-b,
// fiu-b's -count prints how many of its query's indicators cert-a holds
// (4 of 5); without it, cert-a refuses with count_not_allowed and -count
// fails.
func TestNodesCount(t *testing.T) {
	for _, allow := range []bool{true, false} {
		cfgA, cfgB := setup(t)
		if !allow {
			data, _ := os.ReadFile(cfgA)
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			m["partners"].([]any)[0].(map[string]any)["cardinality"] = false
			out, _ := json.Marshal(m)
			os.WriteFile(cfgA, out, 0o600)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var logA syncBuffer
		done := make(chan int)
		go func() { done <- run(ctx, []string{"-config", cfgA}, &bytes.Buffer{}, &logA) }()
		query := filepath.Join(filepath.Dir(cfgB), "fiu-b-query.csv")
		var out, errb bytes.Buffer
		deadline := time.Now().Add(20 * time.Second)
		code := 0
		for {
			out.Reset()
			errb.Reset()
			code = run(context.Background(), []string{"-config", cfgB, "-count", query}, &out, &errb)
			if code == 0 || strings.Contains(errb.String(), "count_not_allowed") || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if allow {
			if code != 0 || out.String() != "cert-a\t4\t5\n" {
				t.Errorf("-count: %d %q, want \"cert-a\\t4\\t5\\n\"; stderr: %s", code, out.String(), errb.String())
			}
		} else if code == 0 || !strings.Contains(errb.String(), "count_not_allowed") || out.Len() != 0 {
			t.Errorf("-count without cardinality: %d %q, stderr: %s", code, out.String(), errb.String())
		}
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, logA.String())
		}
		if strings.Contains(logA.String(), "example.net") {
			t.Errorf("publisher's log holds a value:\n%s", logA.String())
		}
	}
}

// The "cardinality" field of a partner reaches federation.Partner.
func TestPartnerCardinality(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "id"), []byte(strings.Repeat("ab", 32)), 0o600)
	for _, allow := range []string{"true", "false", ""} {
		field := ""
		if allow != "" {
			field = `, "cardinality": ` + allow
		}
		conf := `{"id": "a", "state_dir": "state", "identity_file": "id", "partners": [{"id": "b", "url": "https://b.example",
			"spki": "` + strings.Repeat("01", 32) + `", "identity": "` + strings.Repeat("02", 32) + `",
			"kinds": ["*"], "budget": 1` + field + `}]}`
		path := filepath.Join(dir, "a.json")
		os.WriteFile(path, []byte(conf), 0o600)
		fc, base, err := readConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := buildConfig(fc, base, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Partners[0].Cardinality; got != (allow == "true") {
			t.Fatalf("cardinality %q: Partner.Cardinality %v", allow, got)
		}
	}
}
