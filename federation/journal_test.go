package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// journalNode starts a node of a 20-entry watchlist (crashConfig) on s,
// with the default headroom; tweak, if not nil, changes its
// configuration first.
func journalNode(t testing.TB, s store, clk *clock, tweak func(*Config)) (*Node, error) {
	t.Helper()
	c := crashConfig("", 20)
	c.Now = clk.Now
	if tweak != nil {
		tweak(c)
	}
	cfg, err := c.check(false)
	if err != nil {
		t.Fatal(err)
	}
	return newNode(cfg, s)
}

func mustJournalNode(t testing.TB, s store, clk *clock, tweak func(*Config)) *Node {
	t.Helper()
	n, err := journalNode(t, s, clk, tweak)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// served is what a node serves of its current epoch: the signed filter,
// its line, the publisher's whole state, and the signed delta from each
// earlier version of the epoch.
type served struct {
	version uint64
	gen     string
	filter  []byte
	state   []byte
	deltas  [][]byte
}

func servedBy(t testing.TB, n *Node) served {
	t.Helper()
	n.mu.RLock()
	e := n.current
	n.mu.RUnlock()
	st, err := e.pub.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	s := served{version: e.pub.Filter().Version(), gen: e.gen, filter: e.signed.legacy, state: st}
	for v := uint64(0); v < s.version; v++ {
		d, err := e.pub.Delta(v)
		if err != nil {
			continue // not a version of this epoch
		}
		b, err := signDelta(n.cfg.ID, n.cfg.Identity, d)
		if err != nil {
			t.Fatal(err)
		}
		s.deltas = append(s.deltas, b)
	}
	return s
}

func (s served) equal(o served) bool {
	if s.version != o.version || s.gen != o.gen || !bytes.Equal(s.filter, o.filter) || !bytes.Equal(s.state, o.state) || len(s.deltas) != len(o.deltas) {
		return false
	}
	for i := range s.deltas {
		if !bytes.Equal(s.deltas[i], o.deltas[i]) {
			return false
		}
	}
	return true
}

// countingStore counts the bytes written to each file.
type countingStore struct {
	store
	written map[string]int
}

func (c *countingStore) write(name string, data []byte) error {
	c.written[name] += len(data)
	return c.store.write(name, data)
}

func (c *countingStore) appendFile(name string, data []byte) error {
	c.written[name] += len(data)
	return c.store.appendFile(name, data)
}

// A restart after many changes (Add, Remove, padded ticks) serves the
// same version, line, signed filter, publisher state and signed deltas
// as before it, from the state and its journal; the changes were
// appended to the journal, which was folded into the state as it grew,
// not after each change.
func TestJournalRestart(t *testing.T) {
	for _, padded := range []bool{false, true} {
		t.Run(fmt.Sprint("padded=", padded), func(t *testing.T) {
			clk, m := newClock(), newMemStore()
			tweak := func(c *Config) {
				if padded {
					c.ChangeInterval, c.ChangePadding = time.Minute, 4
				}
			}
			cs := &countingStore{store: m, written: map[string]int{}}
			n := mustJournalNode(t, cs, clk, tweak)
			ctx := context.Background()
			if err := n.Publish(ctx); err != nil {
				t.Fatal(err)
			}
			add := func(es []match.Entry) {
				t.Helper()
				if !padded {
					if _, err := n.Add(ctx, es); err != nil {
						t.Fatal(err)
					}
					return
				}
				ch := addAsync(ctx, n, es)
				waitFor(t, func() bool { return pendingAdds(n) == 1 })
				now := clk.Now()
				clk.Advance(nextTick(n.sched.current.start, now, time.Minute).Sub(now))
				if err := n.Maintain(ctx); err != nil {
					t.Fatal(err)
				}
				if r := <-ch; r.err != nil {
					t.Fatal(r.err)
				}
			}
			written := cs.written[pubFile(1)]
			const changes = 40
			for i := range changes {
				add(entries(emails(t, "j", 3*i, 3), fmt.Sprint("J", i)))
				if i%4 == 3 {
					if err := n.Remove(ctx, 20+3*i, i); err != nil {
						t.Fatal(err)
					}
				}
			}
			before := servedBy(t, n)
			if before.version <= 20 || len(before.deltas) < changes {
				t.Fatalf("version %d, %d deltas after %d changes", before.version, len(before.deltas), changes)
			}
			n.Close()
			// The state was rewritten now and then, in all at most
			// compactDivisor times the bytes appended to the journal.
			jr := n.current.jr
			rewritten, appended := cs.written[pubFile(1)]-written, cs.written[chgFile(1)]
			if rewritten == 0 || rewritten > compactDivisor*appended+int(jr.base) {
				t.Errorf("epoch-1.pub: %d bytes rewritten, the journal %d bytes appended", rewritten, appended)
			}
			t.Logf("%d changes: %d bytes appended to the journal, %d rewritten in epoch-1.pub (%d bytes now)", changes+changes/4, appended, rewritten, jr.base)
			if jr.size > jr.base/compactDivisor+1024 || jr.applied == 0 {
				t.Errorf("journal of %d bytes beside a state of %d, including changes up to %d", jr.size, jr.base, jr.applied)
			}
			r := mustJournalNode(t, m.reopen(), clk, tweak)
			defer r.Close()
			if after := servedBy(t, r); !after.equal(before) {
				t.Fatalf("after restart: version %d line %s, before: version %d line %s (or the filter, state or deltas differ)",
					after.version, after.gen, before.version, before.gen)
			}
			// Every change audited once, none at start.
			seen := map[string]int{}
			for _, rec := range auditOf(t, m) {
				if rec.Type == AuditChange {
					seen[changeOf(rec.Detail)]++
					if strings.Contains(rec.Detail, chgAfterStop) {
						t.Errorf("change audited at start without a stop: %s", rec.Detail)
					}
				}
			}
			for k, c := range seen {
				if c != 1 {
					t.Errorf("%s audited %d times", k, c)
				}
			}
			if len(seen) != int(r.current.jr.seq) {
				t.Errorf("%d changes audited, %d journaled", len(seen), r.current.jr.seq)
			}
		})
	}
}

// changeOf returns the "change k" of a change record's detail.
func changeOf(detail string) string {
	i := strings.Index(detail, "change ")
	if i < 0 {
		return ""
	}
	f := strings.FieldsFunc(detail[i:], func(r rune) bool { return r == ',' || r == '(' })
	return strings.TrimSpace(f[0])
}

func auditOf(t testing.TB, s store) []AuditRecord {
	t.Helper()
	var recs []AuditRecord
	cfg := crashConfig("", 20)
	if _, err := scanAudit(s, cfg.ID, cfg.Identity.Public().(ed25519.PublicKey), func(r AuditRecord) { recs = append(recs, r) }); err != nil {
		t.Fatal(err)
	}
	return recs
}

// A partner that follows the filter across the publisher's restart keeps
// getting deltas of the same line: no rollback, no refetch of the whole
// filter, and the new entries are hits.
func TestJournalRestartPartner(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 10), "L"), nil}, nil)
	tn.publishAll()
	ctx := context.Background()
	pub, querier := tn.nodes[0], tn.nodes[1]
	for i := range 5 {
		if _, err := pub.Add(ctx, entries(emails(t, "y", i, 1), "Y")); err != nil {
			t.Fatal(err)
		}
		if r := querier.Match(ctx, emails(t, "y", 0, 10))[0]; r.Err != nil || len(r.Hits) != i+1 {
			t.Fatalf("%d hits, %v", len(r.Hits), r.Err)
		}
	}
	gen := pub.current.gen
	tn.restart(0)
	if pub.current.gen != gen {
		t.Fatal("the restart started another line of versions")
	}
	if _, err := pub.Add(ctx, entries(emails(t, "y", 5, 1), "Y")); err != nil {
		t.Fatal(err)
	}
	if r := querier.Match(ctx, emails(t, "y", 0, 10))[0]; r.Err != nil || len(r.Hits) != 6 {
		t.Fatalf("after the publisher's restart: %d hits, %v", len(r.Hits), r.Err)
	}
}

// journalBytes returns the journal of epoch 1 in m, and the offsets at
// which its records end.
func journalBytes(t testing.TB, m *memStore) ([]byte, []int) {
	t.Helper()
	data := m.files[chgFile(1)]
	_, _, _, off, _, err := readChgHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	var ends []int
	for off < len(data) {
		off += 8 + int(binary.BigEndian.Uint64(data[off:])) + chgSumLen
		ends = append(ends, off)
	}
	return data, ends
}

// longList gives a node a watchlist of 300 entries, so that its journal
// holds a few changes before it is folded into the state.
func longList(c *Config) {
	list := crashConfig("", 300).Watchlist
	c.Watchlist = list
}

// changedNode publishes 300 entries on a new memStore, then adds entries
// in three changes, and closes the node; it returns the store and what
// the node served after each change.
func changedNode(t testing.TB, clk *clock) (*memStore, []served) {
	m := newMemStore()
	n := mustJournalNode(t, m, clk, longList)
	defer n.Close()
	ctx := context.Background()
	if err := n.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	var states []served
	for i := range 3 {
		if _, err := n.Add(ctx, entries(emails(t, "t", i, 1), "T")); err != nil {
			t.Fatal(err)
		}
		states = append(states, servedBy(t, n))
	}
	return m, states
}

// A journal whose last record a crash cut short, at any byte, or whose
// last record's checksum fails, loads without it; its state is that of
// the change before, and the start record says what was cut. A
// corrupted record followed by another is ErrCorruptState.
func TestJournalTorn(t *testing.T) {
	clk := newClock()
	m, states := changedNode(t, clk)
	data, ends := journalBytes(t, m)
	if len(ends) != 6 { // three changes, each with its audited record
		t.Fatalf("%d records in the journal", len(ends))
	}
	lastChange := ends[3] // the third change's record starts here
	for cut := lastChange + 1; cut < ends[4]; cut++ {
		r := m.reopen()
		r.files[chgFile(1)] = bytes.Clone(data[:cut])
		n, err := journalNode(t, r, clk, nil)
		if err != nil {
			t.Fatalf("journal cut at %d: %v", cut, err)
		}
		if got := servedBy(t, n); !got.equal(states[1]) {
			t.Fatalf("journal cut at %d: version %d served, want %d", cut, got.version, states[1].version)
		}
		n.Close()
		// The cut is repaired: the journal is appended to again.
		n = mustJournalNode(t, r.reopen(), clk, nil)
		if _, err := n.Add(context.Background(), entries(emails(t, "u", 0, 1), "U")); err != nil {
			t.Fatal(err)
		}
		n.Close()
	}
	recs := auditOf(t, func() *memStore {
		r := m.reopen()
		r.files[chgFile(1)] = bytes.Clone(data[:ends[4]-1])
		n := mustJournalNode(t, r, clk, nil)
		n.Close()
		return r
	}())
	if last := recs[len(recs)-1]; last.Type != AuditStart || !strings.Contains(last.Detail, "cut an incomplete last record of epoch-1.chg") {
		t.Errorf("start record %v", last)
	}
	// The whole journal, with the last record's checksum broken.
	r := m.reopen()
	bad := bytes.Clone(data)
	bad[len(bad)-1] ^= 1
	r.files[chgFile(1)] = bad
	if n, err := journalNode(t, r, clk, nil); err != nil {
		t.Errorf("a last record failing its checksum: %v", err)
	} else {
		n.Close()
	}
	// A record before the last one broken: not a crash's doing.
	for _, at := range []int{ends[0] + 12, ends[2] - 1, ends[3] - 40} {
		r := m.reopen()
		bad := bytes.Clone(data)
		bad[at] ^= 1
		r.files[chgFile(1)] = bad
		if _, err := journalNode(t, r, clk, nil); !errors.Is(err, ErrCorruptState) {
			t.Errorf("byte %d of the journal flipped: %v", at, err)
		}
	}
	// Records removed from the middle, or the journal of another epoch.
	r = m.reopen()
	r.files[chgFile(1)] = append(bytes.Clone(data[:ends[0]]), data[ends[1]:]...)
	if _, err := journalNode(t, r, clk, nil); !errors.Is(err, ErrCorruptState) {
		t.Errorf("a record removed: %v", err)
	}
}

// The crash gap: a change whose record is in the journal but whose audit
// record is not (a crash between the two) is served after the restart
// and audited then, once, saying so; a crash after the audit record,
// before the journal's audited record, does not audit it twice; a crash
// during the journal's append serves and audits nothing.
func TestJournalAuditGap(t *testing.T) {
	for _, c := range []struct {
		what       string
		op, name   string // the store dies at this operation
		wantServed bool
		atStart    bool // the restart audits the change
	}{
		{"between the journal and the audit log", "append", "", true, true},
		{"between the audit log and the audited record", "append", chgFile(1), true, false},
		{"during the journal's append", "append", chgFile(1) + " first", false, false},
	} {
		clk, m := newClock(), newMemStore()
		n := mustJournalNode(t, m, clk, nil)
		ctx := context.Background()
		if err := n.Publish(ctx); err != nil {
			t.Fatal(err)
		}
		v0 := n.Filter().Version()
		journaled := false // the change's record appended
		m.fault = func(op, name string) error {
			switch {
			case c.name == chgFile(1)+" first" && op == "append" && name == chgFile(1):
				return errCrash
			case op == c.op && name == c.name && (name == "" || journaled):
				return errCrash
			case op == "append" && name == chgFile(1):
				journaled = true
			}
			return nil
		}
		_, err := n.Add(ctx, entries(emails(t, "g", 0, 2), "G"))
		n.Close()
		if c.atStart && err == nil {
			t.Errorf("%s: the Add succeeded on a dead store", c.what)
		}
		r := m.reopen()
		n2 := mustJournalNode(t, r, clk, nil)
		served := n2.Filter().Version() == v0+2
		n2.Close()
		if served != c.wantServed {
			t.Errorf("a crash %s: version %d served (before the change %d)", c.what, n2.Filter().Version(), v0)
		}
		var changes []AuditRecord
		for _, rec := range auditOf(t, r) {
			if rec.Type == AuditChange {
				changes = append(changes, rec)
			}
		}
		switch {
		case !c.wantServed && len(changes) != 0:
			t.Errorf("a crash %s: a change not served is audited: %v", c.what, changes)
		case c.wantServed && len(changes) != 1:
			t.Errorf("a crash %s: the change is audited %d times: %v", c.what, len(changes), changes)
		case c.wantServed && strings.Contains(changes[0].Detail, chgAfterStop) != c.atStart:
			t.Errorf("a crash %s: change record %q", c.what, changes[0].Detail)
		case c.wantServed && (changes[0].Count != 2 || !strings.HasPrefix(changes[0].Detail, fmt.Sprintf("version %d after %d, change 1", v0+2, v0))):
			t.Errorf("a crash %s: change record %v", c.what, changes[0])
		}
		// A second restart audits nothing more.
		n3 := mustJournalNode(t, r.reopen(), clk, nil)
		n3.Close()
		if len(n3.current.jr.unaudited) != 0 {
			t.Errorf("a crash %s: unaudited changes after the start that audited them", c.what)
		}
	}
}

// TestJournalCrashAtEveryStep stops a node at each store operation of a
// series of changes (additions, removals, journal compactions), by a
// crash or by the failure of that operation alone, after which the node
// carries on. Each time, the restarted node serves at least every change
// acknowledged, restarts again to the same state, and its audit log
// holds each change it serves exactly once, and no other.
func TestJournalCrashAtEveryStep(t *testing.T) {
	ctx := context.Background()
	compacted := 0
	for _, fault := range []error{errCrash, errors.New("no space left on device")} {
		for k := 1; ; k++ {
			clk, m := newClock(), newMemStore()
			n := mustJournalNode(t, m, clk, nil)
			if err := n.Publish(ctx); err != nil {
				t.Fatal(err)
			}
			ops, at := 0, ""
			m.fault = func(op, name string) error {
				if op == "write" && name == pubFile(1) {
					compacted++
				}
				if ops++; ops == k {
					at = op + " " + name
					return fault
				}
				return nil
			}
			var acked uint64
			for i := range 12 {
				var err error
				if i%3 == 2 {
					err = n.Remove(ctx, i)
				} else {
					_, err = n.Add(ctx, entries(emails(t, "s", i, 2), "S"))
				}
				if err == nil {
					acked = n.Filter().Version()
				}
			}
			n.Close()
			if ops < k {
				t.Logf("%v at each of %d store operations; %d compactions", fault, k-1, compacted)
				break
			}
			what := fmt.Sprintf("%v at operation %d (%s)", fault, k, at)
			r := m.reopen()
			n2, err := journalNode(t, r, clk, nil)
			if err != nil {
				t.Fatalf("%s: the state does not load: %v", what, err)
			}
			got := servedBy(t, n2)
			seq := n2.current.jr.seq
			n2.Close()
			if got.version < acked {
				t.Fatalf("%s: version %d served, %d acknowledged", what, got.version, acked)
			}
			n3 := mustJournalNode(t, r.reopen(), clk, nil)
			if again := servedBy(t, n3); !again.equal(got) {
				t.Fatalf("%s: a second restart serves version %d, the first %d", what, again.version, got.version)
			}
			n3.Close()
			audited := map[string]int{}
			for _, rec := range auditOf(t, r) {
				if rec.Type == AuditChange {
					audited[changeOf(rec.Detail)]++
				}
			}
			for i := uint64(1); i <= seq; i++ {
				if c := audited[fmt.Sprint("change ", i)]; c != 1 {
					t.Fatalf("%s: change %d of %d served audited %d times", what, i, seq, c)
				}
			}
			if len(audited) != int(seq) {
				t.Fatalf("%s: %d changes audited, %d served: %v", what, len(audited), seq, audited)
			}
		}
	}
	if compacted == 0 {
		t.Error("no compaction in the changes")
	}
}

// A journal of another line (a publication that stopped after its
// state, before replacing the journal) is ignored and replaced; a state
// of an earlier release (type 9, no journal) is served as it was and
// converted at start.
func TestJournalLines(t *testing.T) {
	clk := newClock()
	m, states := changedNode(t, clk)
	old := bytes.Clone(m.files[chgFile(1)])
	r := m.reopen()
	n := mustJournalNode(t, r, clk, longList)
	if err := n.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	n.Close()
	r = r.reopen()
	r.files[chgFile(1)] = old
	n = mustJournalNode(t, r, clk, nil)
	n.Close()
	if n.Filter().Version() != 300 {
		t.Errorf("the journal of the earlier line was applied: version %d", n.Filter().Version())
	}
	if recs := auditOf(t, r); !strings.Contains(recs[len(recs)-1].Detail, "replaced epoch-1.chg of an earlier publication") {
		t.Errorf("start record %v", recs[len(recs)-1])
	}

	r = m.reopen()
	n = mustJournalNode(t, r, clk, nil)
	want := servedBy(t, n)
	state, gen := mustPublisherState(t, n), n.current.gen
	n.Close()
	r = r.reopen()
	r.files[pubFile(1)] = encodeState(statePublisherLine, append(append([]byte{byte(len(gen))}, gen...), state...))
	delete(r.files, chgFile(1))
	n = mustJournalNode(t, r, clk, nil)
	if got := servedBy(t, n); !got.equal(want) || got.version != states[2].version {
		t.Errorf("a state of an earlier release: version %d, want %d", got.version, want.version)
	}
	if _, err := n.Add(context.Background(), entries(emails(t, "w", 0, 1), "W")); err != nil {
		t.Fatal(err)
	}
	n.Close()
	if _, err := readState(r, pubFile(1), statePublisherJournal); err != nil {
		t.Errorf("the state of an earlier release was not converted: %v", err)
	}
}

func mustPublisherState(t testing.TB, n *Node) []byte {
	b, err := n.current.pub.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The journal's decoder refuses every cut of its header, and records
// whose body is cut or holds what it must not; it never panics on
// arbitrary bytes.
func FuzzJournal(f *testing.F) {
	clk := newClock()
	m, _ := changedNode(f, clk)
	data := m.files[chgFile(1)]
	f.Add(data)
	f.Add(data[:len(data)-5])
	f.Add([]byte(chgMagic))
	f.Fuzz(func(t *testing.T, j []byte) {
		r := m.reopen()
		r.files[chgFile(1)] = j
		n, err := journalNode(t, r, clk, nil)
		if err != nil {
			if !errors.Is(err, ErrCorruptState) {
				t.Fatalf("a journal refused without ErrCorruptState: %v", err)
			}
			return
		}
		n.Close()
	})
}

// Every proper prefix of a journal's header is refused.
func TestJournalHeaderTruncated(t *testing.T) {
	h := chgHeader(3, "0011aabb", 7)
	for i := range len(h) {
		if _, _, _, _, _, err := readChgHeader(h[:i]); err == nil {
			t.Fatalf("a header cut to %d of %d bytes read", i, len(h))
		}
	}
	e, g, from, n, _, err := readChgHeader(h)
	if err != nil || e != 3 || g != "0011aabb" || from != 7 || n != len(h) {
		t.Fatalf("header: %d %q %d %d %v", e, g, from, n, err)
	}
	// A record's body cut anywhere is refused.
	body := chgChangeBody(1, 5, []AuditRecord{{Count: 2, Detail: "version 2"}}, nil)
	for i := range len(body) - 1 {
		if err := (&journal{}).replay(nil, body[:i]); err == nil {
			t.Fatalf("a change record cut to %d of %d bytes read", i, len(body))
		}
	}
}

// BenchmarkNodeAdd measures Node.Add of 10 entries to a published list
// on disk (fsyncs included), and the bytes it writes to the state
// directory (B-written/op: the journal, and its compactions amortised).
// The list of a million entries takes minutes to publish: it runs only
// with FEDMATCH_BENCH_1M=1.
func BenchmarkNodeAdd(b *testing.B) {
	sizes := []int{100_000}
	if os.Getenv("FEDMATCH_BENCH_1M") == "1" {
		sizes = append(sizes, 1_000_000)
	}
	for _, size := range sizes {
		b.Run(fmt.Sprint("entries=", size), func(b *testing.B) {
			c := crashConfig(b.TempDir(), size)
			c.Headroom = 0.5 // room for the additions of a long run
			cfg, err := c.check(true)
			if err != nil {
				b.Fatal(err)
			}
			fs, err := openFS(cfg.StateDir)
			if err != nil {
				b.Fatal(err)
			}
			cs := &countingStore{store: fs, written: map[string]int{}}
			n, err := newNode(cfg, cs)
			if err != nil {
				b.Fatal(err)
			}
			defer n.Close()
			ctx := context.Background()
			if err := n.Publish(ctx); err != nil {
				b.Fatal(err)
			}
			clear(cs.written)
			i := 0
			for b.Loop() {
				if _, err := n.Add(ctx, entries(emails(b, "bench", 10*i, 10), "B")); err != nil {
					b.Fatal(err)
				}
				i++
			}
			total := 0
			for _, w := range cs.written {
				total += w
			}
			b.ReportMetric(float64(total)/float64(i), "B-written/op")
		})
	}
}

// A start that audits a journaled change, and stops before the journal's
// audited record, does not make the next start audit it again.
// Regression guard: the records appended at start carry a suffix that
// the next start must see through.
func TestJournalAuditGapTwice(t *testing.T) {
	clk, m := newClock(), newMemStore()
	n := mustJournalNode(t, m, clk, nil)
	ctx := context.Background()
	if err := n.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	journaled := false
	m.fault = func(op, name string) error {
		if op == "append" && name == "" && journaled {
			return errCrash // the change's audit record
		}
		journaled = journaled || op == "append" && name == chgFile(1)
		return nil
	}
	n.Add(ctx, entries(emails(t, "g", 0, 2), "G"))
	n.Close()
	r := m.reopen()
	died := false
	r.fault = func(op, name string) error {
		if op == "append" && name == chgFile(1) {
			died = true
			return errCrash // the audited record, at start
		}
		return nil
	}
	if n, err := journalNode(t, r, clk, nil); err == nil {
		n.Close() // the audited record's failure is only logged
	}
	if !died {
		t.Fatal("the start appended no audited record")
	}
	r = r.reopen()
	mustJournalNode(t, r, clk, nil).Close()
	count := 0
	for _, rec := range auditOf(t, r) {
		if rec.Type == AuditChange {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("the change audited %d times", count)
	}
}
