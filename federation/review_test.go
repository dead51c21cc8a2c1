package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fedmatch/fedmatch/match"
)

// Regression tests for the findings of a review of this package.

// post sends body to a node's endpoint with a partner's certificate and
// returns the status and error code.
func post(t *testing.T, from, to *testNode, path string, body []byte) (int, string) {
	t.Helper()
	resp, err := rawClient(from.certificate()).Post(to.server.URL+PathPrefix+path, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ae apiError
	json.NewDecoder(resp.Body).Decode(&ae)
	return resp.StatusCode, ae.Error
}

// A kind policy is refused outside POPRF mode, where a partner could
// declare an allowed kind and send another; an empty label prefix, which
// would release every label, is refused.
func TestPolicyConfig(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	pub := key.Public().(ed25519.PublicKey)
	base := func() *Config {
		return &Config{ID: "a", Identity: key, StateDir: t.TempDir(), Partners: []Partner{{
			ID: "b", URL: "https://b.example", SPKI: IdentitySPKI(pub), Identity: pub, Kinds: []string{"ipv4"}, Budget: 10,
		}}}
	}
	c := base()
	c.Mode = match.ModeVOPRF
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "POPRF") {
		t.Errorf("VOPRF with a kind policy: %v", err)
	}
	c = base()
	c.Mode = match.ModeVOPRF
	c.Partners[0].Kinds = []string{"*"}
	if n, err := New(c); err != nil {
		t.Errorf("VOPRF without a kind policy: %v", err)
	} else {
		n.Close()
	}
	c = base()
	c.Partners[0].ReleaseLabels = []string{"TLP:GREEN", ""}
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "empty label prefix") {
		t.Errorf("empty label prefix: %v", err)
	}
}

// A partner confirms no more tags than it had evaluated: not without
// evaluations, not by replaying a confirmation.
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

// A watchlist that fails aborts the rotation: nothing changes, the
// previous filter keeps being served.
func TestWatchlistError(t *testing.T) {
	fail := false
	list := entries(emails(t, "x", 0, 5), "L")
	tn := newTestNet(t, [][]match.Entry{list, nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Watchlist = func() iter.Seq2[match.Entry, error] {
				return func(yield func(match.Entry, error) bool) {
					for j, e := range list {
						if fail && j == 3 {
							yield(match.Entry{}, errors.New("watchlist unreadable"))
							return
						}
						if !yield(e, nil) {
							return
						}
					}
				}
			}
		}
	})
	tn.publishAll()
	pub := tn.nodes[0]
	fail = true
	if err := pub.Rotate(context.Background()); err == nil || !strings.Contains(err.Error(), "unreadable") {
		t.Fatalf("rotation over a failing watchlist: %v", err)
	}
	if err := pub.Publish(context.Background()); err == nil {
		t.Fatal("publication over a failing watchlist succeeded")
	}
	if pub.Epoch() != 1 || pub.Filter().Len() != 5 {
		t.Fatalf("after the failures: epoch %d, %d entries", pub.Epoch(), pub.Filter().Len())
	}
	if r := tn.nodes[1].Match(context.Background(), emails(t, "x", 0, 5))[0]; r.Err != nil || len(r.Hits) != 5 {
		t.Fatalf("the previous filter is not served: %+v", r)
	}
}

// Deleting a state file is not a fresh start.
func TestDeletedState(t *testing.T) {
	for _, c := range []struct {
		remove []string
		want   string
	}{
		{[]string{nodeStateFile}, "node.state is missing"},
		{[]string{auditFile, auditHeadFile}, "audit log is missing or empty"},
		{[]string{budgetsFile}, "budgets is missing"},
	} {
		tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
		tn.publishAll()
		if r := tn.nodes[1].Match(context.Background(), emails(t, "x", 0, 2))[0]; r.Err != nil {
			t.Fatal(r.Err)
		}
		node := tn.nodes[0]
		node.Close()
		for _, f := range c.remove {
			if err := os.Remove(filepath.Join(node.cfg.StateDir, f)); err != nil {
				t.Fatal(err)
			}
		}
		_, err := New(node.cfg)
		if !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("removed %v: %v", c.remove, err)
		}
		// And the keys are still there: nothing was destroyed.
		if _, err := os.Stat(filepath.Join(node.cfg.StateDir, keyFile(1))); err != nil && c.remove[0] == nodeStateFile {
			t.Errorf("removed %v: the key went too: %v", c.remove, err)
		}
	}
}

// A failed audit write leaves the log verifiable and the next append
// works.
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

// The client does not follow redirects, and fetches filters far larger
// than its own batch size allows for other answers.
func TestClientLimits(t *testing.T) {
	big := entries(emails(t, "x", 0, 20000), "L")
	tn := newTestNet(t, [][]match.Entry{big, nil}, func(i int, cfg *Config) {
		if i == 1 {
			cfg.MaxBatch = 64
		}
	})
	tn.publishAll()
	if r := tn.nodes[1].Match(context.Background(), emails(t, "x", 0, 100))[0]; r.Err != nil || len(r.Hits) != 100 {
		t.Fatalf("a 20000-entry filter with MaxBatch 64: %d hits, %v", len(r.Hits), r.Err)
	}

	// A server presenting the pinned certificate but redirecting.
	var followed atomic.Bool
	pub := tn.nodes[0]
	redirector := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/elsewhere") {
			followed.Store(true)
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	redirector.TLS = pub.ServerTLSConfig()
	redirector.StartTLS()
	defer redirector.Close()
	p := *partnerOf(tn.nodes[1].Node, "agency-0")
	p.URL = redirector.URL
	m := tn.nodes[1].Matcher
	delete(m.clients, p.ID)
	c := m.client(&p)
	delete(m.clients, p.ID) // keep the shared cache clean
	var re *RemoteError
	if _, err := c.refresh(context.Background()); !errors.As(err, &re) || re.Status != http.StatusTemporaryRedirect {
		t.Error("a redirect was accepted as a filter")
	}
	if followed.Load() {
		t.Error("the client followed a redirect")
	}
}

// Before the first publication, evaluate and confirm answer 503; after
// Close, everything does, and Publish fails.
func TestNotPublishedAndClosed(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{nil, nil}, nil)
	target, from := tn.nodes[0], tn.nodes[1]
	// A well-formed request for a filter that does not exist yet.
	other := newTestNet(t, [][]match.Entry{nil}, nil)
	other.publishAll()
	body := evalBody(t, other.nodes[0].Filter(), 2)
	for _, path := range []string{"evaluate", "filter"} {
		var status int
		var code string
		if path == "filter" {
			resp, err := rawClient(from.certificate()).Get(target.server.URL + PathPrefix + path)
			if err != nil {
				t.Fatal(err)
			}
			var ae apiError
			json.NewDecoder(resp.Body).Decode(&ae)
			resp.Body.Close()
			status, code = resp.StatusCode, ae.Error
		} else {
			status, code = post(t, from, target, path, body)
		}
		if status != 503 || code != CodeNotPublished {
			t.Errorf("%s before publication: %d %s", path, status, code)
		}
	}
	tn.publishAll()
	target.Close()
	if err := target.Publish(context.Background()); !errors.Is(err, errClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
	if status, code := post(t, from, target, "evaluate", body); status != 503 {
		t.Errorf("evaluate after Close: %d %s", status, code)
	}
}
