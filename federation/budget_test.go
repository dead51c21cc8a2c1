package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// TestBudgetsConcurrent: 16 partners each send 12 concurrent requests of
// 5 evaluations against a budget of 37. Exactly 7 requests per partner
// are granted (35 evaluations), the rest refused with budget_exhausted;
// the counts on disk are exact; after a restart they are the same and the
// budgets stay spent.
func TestBudgetsConcurrent(t *testing.T) {
	const partners, requests, batch, budget = 16, 12, 5, 37
	const granted = budget / batch
	const day = 24 * time.Hour
	// The publishing node and 16 client identities.
	clientKeys := make([]ed25519.PrivateKey, partners)
	for j := range clientKeys {
		_, clientKeys[j], _ = ed25519.GenerateKey(rand.Reader)
	}
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 10), "L")}, func(i int, cfg *Config) {
		for j, key := range clientKeys {
			cfg.Partners = append(cfg.Partners, Partner{
				ID: fmt.Sprintf("client-%d", j), URL: "https://client.example", SPKI: IdentitySPKI(key.Public().(ed25519.PublicKey)),
				Identity: key.Public().(ed25519.PublicKey), Kinds: []string{"email"}, Budget: budget,
			})
		}
	})
	tn.publishAll()
	target := tn.nodes[0]
	body := evalBody(t, target.Filter(), batch)

	type outcome struct{ ok, refused, other int }
	results := make([]outcome, partners)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for j := range partners {
		cert, err := SelfSignedCertificate(fmt.Sprintf("client-%d", j), clientKeys[j], tn.clock.Now(), day)
		if err != nil {
			t.Fatal(err)
		}
		client := rawClient(&cert)
		for range requests {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := client.Post(target.server.URL+PathPrefix+"evaluate", "application/octet-stream", bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var ae apiError
				json.Unmarshal(data, &ae)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case resp.StatusCode == 200:
					results[j].ok++
				case resp.StatusCode == 429 && ae.Error == CodeBudgetExhausted:
					results[j].refused++
				default:
					results[j].other++
				}
			}()
		}
	}
	wg.Wait()
	for j, r := range results {
		if r.ok != granted || r.refused != requests-granted || r.other != 0 {
			t.Errorf("client-%d: %d granted, %d refused, %d other; want %d, %d, 0", j, r.ok, r.refused, r.other, granted, requests-granted)
		}
		if used := target.BudgetUsed(fmt.Sprintf("client-%d", j), 1); used != granted*batch {
			t.Errorf("client-%d: %d used, want %d", j, used, granted*batch)
		}
	}
	// The audit log counts exactly the granted evaluations and refusals,
	// the refusals in one record per partner (Maintain records them).
	if err := target.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadAudit(target.cfg.StateDir, target.cfg.ID, target.cfg.Identity.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	evals, refusals, refusalRecs := 0, 0, map[string]int{}
	for _, r := range recs {
		switch r.Type {
		case AuditEvaluation:
			evals++
		case AuditRefusal:
			refusals += int(r.Count)
			refusalRecs[r.Partner]++
		}
	}
	if evals != partners*granted || refusals != partners*(requests-granted) || len(refusalRecs) != partners {
		t.Errorf("audit: %d evaluations, %d refusals of %d partners", evals, refusals, len(refusalRecs))
	}
	for p, n := range refusalRecs {
		if n != 1 {
			t.Errorf("%s: %d refusal records, want 1", p, n)
		}
	}

	// After a restart the budgets are as they were, and still spent.
	tn.restart(0)
	target = tn.nodes[0]
	for j := range partners {
		if used := target.BudgetUsed(fmt.Sprintf("client-%d", j), 1); used != granted*batch {
			t.Errorf("after restart, client-%d: %d used", j, used)
		}
	}
	cert, _ := SelfSignedCertificate("client-0", clientKeys[0], tn.clock.Now(), day)
	resp, err := rawClient(&cert).Post(target.server.URL+PathPrefix+"evaluate", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after restart: %d, want 429", resp.StatusCode)
	}
}

// A partner confirms no more tags than it had evaluated: not without
// evaluations, not by replaying a confirmation. Regression: confirmations
// were not counted, so a partner could replay one to flood OnHit and the
// audit log.
func TestConfirmNeedsEvaluations(t *testing.T) {
	list := entries(emails(t, "x", 0, 5), "L")
	var notices atomic.Int32
	tn := newTestNet(t, [][]match.Entry{list, nil, nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Partners[1].Budget = 0 // agency-2 may not evaluate
			cfg.OnHit = func(HitNotice) { notices.Add(1) }
		}
	})
	tn.publishAll()
	pub := tn.nodes[0]

	// agency-1 has the same batch of 3 indicators (2 on the list)
	// evaluated three times: 9 evaluations.
	q, _ := match.NewQuerier(pub.Filter(), nil)
	qu, req, _ := q.Blind(append(emails(t, "x", 3, 2), emails(t, "y", 0, 1)...))
	body, _ := req.MarshalBinary()
	var er match.EvalResponse
	for range 3 {
		resp, err := rawClient(tn.nodes[1].certificate()).Post(pub.server.URL+PathPrefix+"evaluate", "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		data := new(bytes.Buffer)
		data.ReadFrom(resp.Body)
		resp.Body.Close()
		if err := er.UnmarshalBinary(data.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	creq, err := qu.Finalize(&er)
	if err != nil || creq.Len() != 2 {
		t.Fatalf("finalize: %d candidates, %v", creq.Len(), err)
	}
	cb, _ := creq.MarshalBinary()
	// 9 evaluations allow 9 confirmed tags: 4 confirmations of 2 tags.
	for i := range 4 {
		if status, code := post(t, tn.nodes[1], pub, "confirm", cb); status != 200 {
			t.Fatalf("confirmation %d: %d %s", i, status, code)
		}
	}
	if status, code := post(t, tn.nodes[1], pub, "confirm", cb); status != 429 || code != CodeBudgetExhausted {
		t.Errorf("a fifth confirmation (10 tags for 9 evaluations): %d %s", status, code)
	}
	// agency-2, which never evaluated, confirms agency-1's tags.
	if status, code := post(t, tn.nodes[2], pub, "confirm", cb); status != 429 || code != CodeBudgetExhausted {
		t.Errorf("confirmation without evaluations: %d %s", status, code)
	}
	waitFor(t, func() bool { return notices.Load() == 4 })
}

// TestBudgetsTruncated: no proper prefix of the budgets payload decodes,
// and a declared count far above what the bytes hold is refused before
// the map is allocated.
func TestBudgetsTruncated(t *testing.T) {
	payload := (&budgets{used: map[budgetKey]counters{{"p", 1}: {5, 2}}}).encode()
	for n := range len(payload) {
		if _, err := decodeBudgets(payload[:n]); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("budgets cut at %d: %v", n, err)
		}
	}
	if used, err := decodeBudgets(payload); err != nil || used[budgetKey{"p", 1}] != (counters{5, 2}) {
		t.Fatalf("budgets: %v, %v", used, err)
	}
	if _, err := decodeBudgets([]byte{0xff, 0xff, 0xff, 0xff}); !errors.Is(err, ErrCorruptState) {
		t.Fatal(err)
	}
}

// Concurrent reservations share writes (group commit), and each is
// granted only once a write that holds it is on disk. Regression: every
// reservation wrote and synced the budgets file under the budgets mutex,
// so every partner's requests waited for each other's fsync.
func TestBudgetsGroupCommit(t *testing.T) {
	m := newMemStore()
	var writes atomic.Int32
	m.fault = func(op, name string) error {
		if op == "write" && name == budgetsFile {
			writes.Add(1)
			time.Sleep(20 * time.Millisecond) // an fsync
		}
		return nil
	}
	b, _ := loadBudgets(m)
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok, err := b.reserve(fmt.Sprint("p", i%4), 1, 1, n); !ok || err != nil {
				t.Errorf("reservation %d: %v %v", i, ok, err)
			}
		}()
	}
	wg.Wait()
	if w := writes.Load(); w > n/5 {
		t.Errorf("%d writes for %d concurrent reservations", w, n)
	}
	m.fault = nil
	b2, err := loadBudgets(m)
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, c := range b2.used {
		total += c.evaluated
	}
	if total != n {
		t.Errorf("%d evaluations on disk, want %d", total, n)
	}

	// A reservation is not granted before its write is over.
	release := make(chan struct{})
	m.fault = func(op, name string) error {
		if name == budgetsFile {
			<-release
		}
		return nil
	}
	done := make(chan struct{})
	go func() {
		b.reserve("p0", 1, 1, n+1)
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("granted before it was written")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-done
}

// A write that fails refuses the reservations it held and rolls them
// back; the budget never goes over its limit, and what the failed write
// held can be reserved again.
func TestBudgetsGroupCommitFailure(t *testing.T) {
	m := newMemStore()
	var failed atomic.Bool
	m.fault = func(op, name string) error {
		if name == budgetsFile && !failed.Swap(true) {
			time.Sleep(20 * time.Millisecond)
			return errors.New("no space left on device")
		}
		return nil
	}
	b, _ := loadBudgets(m)
	const limit = 20
	var granted, errs atomic.Int32
	var wg sync.WaitGroup
	for range 2 * limit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := b.reserve("p", 1, 1, limit)
			switch {
			case err != nil:
				errs.Add(1)
			case ok:
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	if errs.Load() == 0 || granted.Load() > limit {
		t.Fatalf("%d granted, %d failed", granted.Load(), errs.Load())
	}
	if used := b.usedBy("p", 1); used != uint64(granted.Load()) {
		t.Errorf("%d used after the failure, %d granted", used, granted.Load())
	}
	if left := limit - int(granted.Load()); left > 0 {
		if _, ok, err := b.reserve("p", 1, left, limit); !ok || err != nil {
			t.Errorf("the %d rolled back: %v %v", left, ok, err)
		}
	}
	b2, _ := loadBudgets(m)
	if used := b2.usedBy("p", 1); used != b.usedBy("p", 1) {
		t.Errorf("%d on disk, %d in memory", used, b.usedBy("p", 1))
	}
}

// The counters of an epoch whose grace period ended while the node was
// stopped are dropped at start. Regression: they were kept, and allowed
// confirmations in the epochs after.
func TestBudgetsPrunedAtStart(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	pub, from := tn.nodes[0], tn.nodes[1]
	if status, code := post(t, from, pub, "evaluate", evalBody(t, pub.Filter(), 3)); status != 200 {
		t.Fatalf("evaluate: %d %s", status, code)
	}
	if err := pub.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	tn.clock.Advance(2 * time.Hour) // past the grace period, while stopped
	tn.restart(0)
	if used := pub.BudgetUsed("agency-1", 1); used != 0 {
		t.Errorf("epoch 1's counters kept: %d", used)
	}
	if status, code := post(t, from, pub, "confirm", confirmBody(t, pub.Filter(), 3)); status != 429 {
		t.Errorf("a confirmation paid by an expired epoch: %d %s", status, code)
	}
	checkCounters(t, pub)
}

// A confirmation in the grace period after a rotation is charged to the
// epoch of the key it uses, and ends with it. Regression: it was charged
// to the new epoch, where it outlived the evaluations that paid for it
// and took the partner's confirmations of the new epoch.
func TestConfirmChargedToKeyEpoch(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	pub, from := tn.nodes[0], tn.nodes[1]
	q, _ := match.NewQuerier(pub.Filter(), nil)
	qu, req, _ := q.Blind(append(emails(t, "x", 3, 2), emails(t, "y", 0, 1)...))
	body, _ := req.MarshalBinary()
	resp, err := rawClient(from.certificate()).Post(pub.server.URL+PathPrefix+"evaluate", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var er match.EvalResponse
	if err := er.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	creq, err := qu.Finalize(&er)
	if err != nil || creq.Len() != 2 {
		t.Fatalf("finalize: %d candidates, %v", creq.Len(), err)
	}
	cb, _ := creq.MarshalBinary()
	if err := pub.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// In the grace period, under epoch 1's key.
	if status, code := post(t, from, pub, "confirm", cb); status != 200 {
		t.Fatalf("confirm in the grace period: %d %s", status, code)
	}
	pub.budgets.mu.Lock()
	c1, c2 := pub.budgets.used[budgetKey{"agency-1", 1}], pub.budgets.used[budgetKey{"agency-1", 2}]
	pub.budgets.mu.Unlock()
	if c1.confirmed != 2 || c2.confirmed != 0 {
		t.Errorf("confirmations charged: %d to epoch 1, %d to epoch 2", c1.confirmed, c2.confirmed)
	}
	checkCounters(t, pub)
	// The grace period ends; epoch 2's evaluations pay for epoch 2's
	// confirmations, all of them.
	tn.clock.Advance(2 * time.Hour)
	if err := pub.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if status, code := post(t, from, pub, "evaluate", evalBody(t, pub.Filter(), 2)); status != 200 {
		t.Fatalf("evaluate: %d %s", status, code)
	}
	if status, code := post(t, from, pub, "confirm", confirmBody(t, pub.Filter(), 2)); status != 200 {
		t.Errorf("confirm what epoch 2 paid for: %d %s", status, code)
	}
	checkCounters(t, pub)
}

// checkCounters checks that the audit log and the budget counters tell
// the same story: for every partner and epoch still counted, the
// evaluations and the confirmations the audit log records for it.
func checkCounters(t *testing.T, n *testNode) {
	t.Helper()
	audited := map[budgetKey]counters{}
	for _, r := range readAudit(t, n) {
		k := budgetKey{r.Partner, r.Epoch}
		c := audited[k]
		switch r.Type {
		case AuditEvaluation:
			c.evaluated += r.Count
		case AuditConfirmation:
			c.confirmed += r.Count
		}
		audited[k] = c
	}
	n.budgets.mu.Lock()
	defer n.budgets.mu.Unlock()
	for k, c := range n.budgets.used {
		if audited[k] != c {
			t.Errorf("%s in epoch %d: counters %+v, audit log %+v", k.partner, k.epoch, c, audited[k])
		}
	}
}
