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
