package federation

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A failed audit write leaves the log verifiable and the next append
// works. Regression: a failed write left part of a record behind, which
// broke the chain of every later record.
func TestAuditWriteFailure(t *testing.T) {
	dir, key := auditFixture(t)
	fs, err := openFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.close()
	full := true
	s := &faultStore{store: fs, fault: func(op, name string) error {
		if op == "append" && full {
			return errors.New("no space left on device")
		}
		return nil
	}}
	a, _, err := openAudit(s, "node", key)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.append(AuditRecord{Type: AuditEvaluation, Partner: "p"}); err == nil {
		t.Fatal("append to a full disk succeeded")
	}
	full = false
	if err := a.append(AuditRecord{Type: AuditEvaluation, Partner: "p"}); err != nil {
		t.Fatal(err)
	}
	a.close()
	if rep, err := VerifyAudit(dir, "node", key.Public().(ed25519.PublicKey)); err != nil || rep.Records != 6 {
		t.Fatalf("after a failed append: %+v, %v", rep, err)
	}
}

// slowStore delays every log append, so that concurrent appends pile up
// behind it, and counts the log's writes and the head's.
type slowStore struct {
	store
	delay        time.Duration
	appends      atomic.Int64
	headWrites   atomic.Int64
	holdFirst    chan struct{} // if not nil, the first append waits for it to close
	firstBlocked chan struct{} // closed once the first append waits
	once         sync.Once
}

func (s *slowStore) appendLog(data []byte) error {
	if s.holdFirst != nil {
		first := false
		s.once.Do(func() { first = true })
		if first {
			close(s.firstBlocked)
			<-s.holdFirst
		}
	}
	time.Sleep(s.delay)
	s.appends.Add(1)
	return s.store.appendLog(data)
}

func (s *slowStore) write(name string, data []byte) error {
	if name == auditHeadFile {
		s.headWrites.Add(1)
	}
	return s.store.write(name, data)
}

// TestAuditGroupCommit: concurrent appends share one write and one head
// (group commit), each returns once its record and a head covering it are
// stored, and the log verifies with every record once, in sequence.
// Regression: every append was a write, an fsync and a head of its own,
// under one mutex, so that every partner's request waited on all the
// others' fsyncs in turn.
func TestAuditGroupCommit(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	m := newMemStore()
	s := &slowStore{store: m, delay: 2 * time.Millisecond}
	a, _, err := openAudit(s, "node", key)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			detail := fmt.Sprintf("record %03d", i)
			if err := a.append(AuditRecord{Type: AuditRefusal, Partner: "p", Detail: detail}); err != nil {
				errs <- err
				return
			}
			// Durable on return: in the log, and under the head.
			head, err := readHead(m, "node", key.Public().(ed25519.PublicKey))
			if err != nil {
				errs <- err
				return
			}
			log, _ := readAll(m)
			if !bytes.Contains(log[:head.cp.end], []byte(detail)) {
				errs <- fmt.Errorf("%s: returned before its record was under the head", detail)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]int{}
	sc, err := scanAudit(m, "node", key.Public().(ed25519.PublicKey), func(r AuditRecord) { seen[r.Detail]++ })
	if err != nil || sc.report.Records != n || sc.report.Signed != n {
		t.Fatalf("after %d concurrent appends: %+v, %v", n, sc.report, err)
	}
	for i := range n {
		if d := fmt.Sprintf("record %03d", i); seen[d] != 1 {
			t.Errorf("%s is %d times in the log", d, seen[d])
		}
	}
	writes, heads := s.appends.Load(), s.headWrites.Load()
	t.Logf("%d appends: %d log writes, %d head writes", n, writes, heads)
	if writes > n/4 {
		t.Errorf("%d appends took %d log writes: no group commit", n, writes)
	}
	if heads != writes+1 { // and the empty log's head, at open
		t.Errorf("%d log writes, %d head writes", writes, heads)
	}
}

// TestAuditGroupFailure: a group whose write fails fails every append in
// it and leaves the log as it was; the appends before it and after it
// stand.
func TestAuditGroupFailure(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	for _, failing := range []string{"append", "write"} {
		t.Run(failing, func(t *testing.T) {
			m := newMemStore()
			// The second group's log write fails, or its head (after the
			// empty log's and the first group's).
			failAt := map[string]int{"append": 2, "write": 3}[failing]
			seen := 0
			m.fault = func(op, name string) error {
				if op == failing && (op == "append" || name == auditHeadFile) {
					if seen++; seen == failAt {
						return errors.New("no space left on device")
					}
				}
				return nil
			}
			s := &slowStore{store: m, holdFirst: make(chan struct{}), firstBlocked: make(chan struct{})}
			a, _, err := openAudit(s, "node", key)
			if err != nil {
				t.Fatal(err)
			}
			first := make(chan error, 1)
			go func() { first <- a.append(AuditRecord{Type: AuditStart, Detail: "first"}) }()
			<-s.firstBlocked
			// A group of 10 queues behind the first append's.
			const n = 10
			errs := make(chan error, n)
			for i := range n {
				go func() { errs <- a.append(AuditRecord{Type: AuditRefusal, Partner: "p", Detail: fmt.Sprint(i)}) }()
			}
			waitFor(t, func() bool {
				a.mu.Lock()
				defer a.mu.Unlock()
				return len(a.queue) == n
			})
			close(s.holdFirst)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			for range n {
				if err := <-errs; err == nil || !strings.Contains(err.Error(), "no space") {
					t.Errorf("an append of the failed group: %v", err)
				}
			}
			before, _ := readAll(m)
			head, _ := m.read(auditHeadFile)
			if err := a.append(AuditRecord{Type: AuditStart, Detail: "after"}); err != nil {
				t.Fatal(err)
			}
			var got []string
			sc, err := scanAudit(m, "node", pub, func(r AuditRecord) { got = append(got, r.Detail) })
			if err != nil || !slices.Equal(got, []string{"first", "after"}) || sc.report.Signed != 2 {
				t.Fatalf("log after a failed group: %q, %+v, %v", got, sc.report, err)
			}
			// And the failed group left the log and head as they were.
			m2 := m.reopen()
			m2.log = before
			m2.files[auditHeadFile] = head
			if sc, err := scanAudit(m2, "node", pub, nil); err != nil || sc.report.Records != 1 || sc.report.Signed != 1 {
				t.Fatalf("log right after the failed group: %+v, %v", sc.report, err)
			}
		})
	}
}

// TestAuditHeadFailure: when a group's head cannot be written, the group
// is taken back out of the log, the old head first; a crash anywhere in
// that leaves a log that opens, and a second failure there leaves appends
// refused until the node restarts, on a log that opens too.
func TestAuditHeadFailure(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	for _, then := range []error{nil, errCrash, errors.New("I/O error")} {
		for k := 1; k <= 2; k++ { // the old head's rewrite, the log's cut
			m := newMemStore()
			a, _, err := openAudit(m, "node", key)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.append(AuditRecord{Type: AuditStart}); err != nil {
				t.Fatal(err)
			}
			ops := -1
			m.fault = func(op, name string) error {
				switch {
				case ops < 0 && op == "write" && name == auditHeadFile:
					ops = 0
					return errors.New("no space left on device")
				case ops >= 0:
					if ops++; ops == k {
						return then
					}
				}
				return nil
			}
			err = a.append(AuditRecord{Type: AuditRefusal, Partner: "p"})
			if err == nil {
				t.Fatal("an append whose head failed succeeded")
			}
			what := fmt.Sprintf("then %v at step %d", then, k)
			later := a.append(AuditRecord{Type: AuditRefusal, Partner: "p", Detail: "later"})
			switch {
			case then == nil && k == 2:
				continue // the same as k == 1
			case then == nil:
				if later != nil {
					t.Fatalf("%s: the append after a failed one: %v", what, later)
				}
				if sc, err := scanAudit(m, "node", pub, nil); err != nil || sc.report.Records != 2 || sc.report.Signed != 2 {
					t.Fatalf("%s: %+v, %v", what, sc.report, err)
				}
				continue
			case then == errCrash:
			default:
				if later == nil || !strings.Contains(later.Error(), "until the node restarts") {
					t.Fatalf("%s: the append after an undo that failed: %v", what, later)
				}
			}
			s := m.reopen()
			if _, sum, err := openAudit(s, "node", key); err != nil || sum.records < 1 {
				t.Fatalf("%s: restart: %+v, %v", what, sum, err)
			}
			if _, err := scanAudit(s, "node", pub, nil); err != nil {
				t.Fatalf("%s: after restart: %v", what, err)
			}
		}
	}
}

// writtenAnyway is a store whose first failing head write replaces the
// head all the same, as a write does whose rename was done and whose
// directory fsync failed.
type writtenAnyway struct {
	store
	failed bool
}

func (w *writtenAnyway) write(name string, data []byte) error {
	if err := w.store.write(name, data); err != nil {
		return err
	}
	if name == auditHeadFile && !w.failed {
		w.failed = true
		return errors.New("fsync: I/O error")
	}
	return nil
}

// TestAuditHeadWrittenAnyway: a head write that fails after replacing the
// head does not leave the head ahead of the log when the group is taken
// back out (the old head goes back first), so the node starts again.
func TestAuditHeadWrittenAnyway(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	m := newMemStore()
	a, _, err := openAudit(m, "node", key)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.append(AuditRecord{Type: AuditStart}); err != nil {
		t.Fatal(err)
	}
	a.s = &writtenAnyway{store: m}
	if err := a.append(AuditRecord{Type: AuditRefusal, Partner: "p"}); err == nil {
		t.Fatal("an append whose head failed succeeded")
	}
	if _, sum, err := openAudit(m.reopen(), "node", key); err != nil || sum.records != 1 {
		t.Fatalf("restart: %+v, %v", sum, err)
	}
}

// BenchmarkAuditAppend appends records to an audit log on disk from 1, 16
// and 64 goroutines at once, as that many requests in flight do, and
// reports the appends per second and the log writes (fsyncs) per append.
func BenchmarkAuditAppend(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	for _, conc := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("concurrent=%d", conc), func(b *testing.B) {
			fs, err := openFS(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer fs.close()
			s := &slowStore{store: fs}
			a, _, err := openAudit(s, "node", key)
			if err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range conc {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if err := a.append(AuditRecord{Time: time.Now(), Type: AuditRefusal, Partner: "agency-1", Epoch: 1, Detail: "budget"}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			b.ReportMetric(float64(s.appends.Load())/float64(b.N), "writes/append")
		})
	}
}
