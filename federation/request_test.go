package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// confirmBody is a confirm request of n random tags for the key of
// filter f (answered "not an entry").
func confirmBody(t *testing.T, f *match.Filter, n int) []byte {
	t.Helper()
	eval := evalBody(t, f, 1)
	b := append([]byte("FDMT\x01\x04"), eval[6:8+match.KeyIDSize]...) // suite, mode, key id
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	tags := make([]byte, 16*n)
	rand.Read(tags)
	return append(b, tags...)
}

// stalledPost posts the first part bytes of body, declaring its whole
// length, and never sends the rest. It returns the status and error code,
// or fails if there is no answer within wait.
func stalledPost(t *testing.T, from, to *testNode, path string, body []byte, part int, wait time.Duration) (int, string, http.Header) {
	t.Helper()
	status, code, h, err := tryStalledPost(t, from, to.server.URL, path, body, part, wait)
	if err != nil {
		t.Fatalf("%s: no answer before the body is sent: %v", path, err)
	}
	return status, code, h
}

func tryStalledPost(t *testing.T, from *testNode, url, path string, body []byte, part int, wait time.Duration) (int, string, http.Header, error) {
	pr, pw := io.Pipe()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); pw.Close() })
	go func() {
		pw.Write(body[:part])
		select {
		case <-stop:
		case <-time.After(wait): // no answer: give up the body, so that the client returns
			pw.CloseWithError(errors.New("the test stopped sending"))
		}
	}()
	req, _ := http.NewRequest("POST", url+PathPrefix+path, pr)
	req.ContentLength = int64(len(body))
	c := rawClient(from.certificate())
	c.Timeout = wait
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	var ae apiError
	json.NewDecoder(resp.Body).Decode(&ae)
	return resp.StatusCode, ae.Error, resp.Header, nil
}

// A request refused on what its header declares is answered before the
// rest of its body is sent. Regression: the node read the whole body (up
// to 2.16 MB) before it authorised anything, so a partner without budget
// held its memory with many connections.
func TestAuthoriseBeforeReading(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil, nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Partners[0].Budget = 0 // agency-1 may evaluate nothing
			cfg.Partners[1].Kinds = []string{"ipv4"}
		}
	})
	tn.publishAll()
	target := tn.nodes[0]
	eval := evalBody(t, target.Filter(), 4000)
	for _, c := range []struct {
		name, path string
		from       *testNode
		body       []byte
		status     int
		code       string
	}{
		{"no budget", "evaluate", tn.nodes[1], eval, 429, CodeBudgetExhausted},
		{"kind not allowed", "evaluate", tn.nodes[2], eval, 403, CodeKindNotAllowed},
		{"confirm without evaluations", "confirm", tn.nodes[1], confirmBody(t, target.Filter(), 4000), 429, CodeBudgetExhausted},
	} {
		status, code, _ := stalledPost(t, c.from, target, c.path, c.body, match.MaxRequestHeaderLen, 3*time.Second)
		if status != c.status || code != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, status, code, c.status, c.code)
		}
	}
}

// An evaluation refused for an invalid element spends no budget and gives
// no confirm allowance, and its refusal is audited. Regression: such a
// batch spent its budget (and the node's processors on the elements
// before it) and was neither audited nor logged, and the budget it spent
// allowed confirmations.
func TestInvalidElementSpendsNothing(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Partners[0].Budget = 10
		}
	})
	tn.publishAll()
	target, from := tn.nodes[0], tn.nodes[1]
	bad := evalBody(t, target.Filter(), 9)
	copy(bad[len(bad)-32:], bytes.Repeat([]byte{0xff}, 32)) // the last element is no ristretto255 encoding
	if status, code := post(t, from, target, "evaluate", bad); status != 400 || code != CodeInvalidElement {
		t.Fatalf("invalid element: %d %s", status, code)
	}
	if used := target.BudgetUsed("agency-1", 1); used != 0 {
		t.Errorf("an invalid batch spent %d of the budget", used)
	}
	if status, code := post(t, from, target, "confirm", confirmBody(t, target.Filter(), 1)); status != 429 {
		t.Errorf("a confirmation after an invalid batch only: %d %s", status, code)
	}
	if status, code := post(t, from, target, "evaluate", evalBody(t, target.Filter(), 10)); status != 200 {
		t.Errorf("the whole budget after an invalid batch: %d %s", status, code)
	}
	if err := target.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := readAudit(t, target)
	last := recs[len(recs)-1]
	if last.Type != AuditRefusal || last.Partner != "agency-1" || last.Count != 2 ||
		!strings.HasPrefix(last.Detail, "budget_exhausted 1, invalid_element 1 (in ") {
		t.Errorf("audited %v", &last)
	}
}

func readAudit(t *testing.T, n *testNode) []AuditRecord {
	t.Helper()
	recs, err := ReadAudit(n.cfg.StateDir, n.cfg.ID, n.cfg.Identity.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// Requests that change nothing write nothing: an empty confirmation
// neither rewrites the budgets nor appends to the audit log, and the
// refusals of a period are one audit record per partner. Regression: a
// partner without budget made the node append a signed audit record (and
// rewrite the budgets, for an empty confirmation) per request, about 850
// a second, a log that start-up then had to verify.
func TestFreeRequestsWriteNothing(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil, nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Partners[0].Budget = 0
			cfg.Partners[1].Kinds = []string{"ipv4"}
		}
	})
	tn.publishAll()
	target, p1, p2 := tn.nodes[0], tn.nodes[1], tn.nodes[2]
	budgetsPath := filepath.Join(target.cfg.StateDir, budgetsFile)
	before, _ := os.Stat(budgetsPath)
	records := len(readAudit(t, target))
	const n = 40
	empty, eval := confirmBody(t, target.Filter(), 0), evalBody(t, target.Filter(), 2)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range []struct {
				from   *testNode
				path   string
				body   []byte
				status int
			}{{p1, "confirm", empty, 200}, {p1, "evaluate", eval, 429}, {p2, "evaluate", eval, 403}, {p2, "confirm", []byte("junk"), 400}} {
				if status, code := post(t, c.from, target, c.path, c.body); status != c.status {
					t.Errorf("%s from %s: %d %s", c.path, c.from.cfg.ID, status, code)
				}
			}
		}()
	}
	wg.Wait()
	after, _ := os.Stat(budgetsPath)
	if (before == nil) != (after == nil) || before != nil && !os.SameFile(before, after) {
		t.Errorf("the budgets were rewritten")
	}
	if got := len(readAudit(t, target)); got != records {
		t.Errorf("%d audit records appended before the period is over", got-records)
	}
	if err := target.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := readAudit(t, target)[records:]
	want := map[string]string{
		"agency-1": "budget_exhausted 40 (in ",
		"agency-2": "kind_not_allowed 40, malformed 40 (in ",
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records appended for the period, want %d", len(recs), len(want))
	}
	for _, r := range recs {
		if r.Type != AuditRefusal || !strings.HasPrefix(r.Detail, want[r.Partner]) || r.Count != uint64(n*strings.Count(want[r.Partner], "40")) {
			t.Errorf("recorded %v", &r)
		}
	}
}

// Requests beyond the limits are refused at once with 503 busy and a
// Retry-After: beyond the requests in flight of a partner, and beyond the
// bytes of bodies in flight. Regression: nothing bounded them, and 500
// connections sending bodies took the node from 36 MiB to 1.37 GiB.
func TestBusy(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil, nil}, nil)
	tn.publishAll()
	target, p1, p2 := tn.nodes[0], tn.nodes[1], tn.nodes[2]
	target.srv.lim.partnerRequests = 2
	eval := evalBody(t, target.Filter(), 100)
	// Two requests of agency-1 stall in their bodies.
	for range 2 {
		go tryStalledPost(t, p1, target.server.URL, "evaluate", eval, 100, 5*time.Second)
	}
	waitFor(t, func() bool {
		target.srv.adm.mu.Lock()
		defer target.srv.adm.mu.Unlock()
		return target.srv.adm.requests == 2
	})
	status, code, h := stalledPost(t, p1, target, "evaluate", eval, len(eval), 3*time.Second)
	if status != 503 || code != CodeBusy || h.Get("Retry-After") != "1" {
		t.Errorf("a third request of the partner: %d %s, Retry-After %q", status, code, h.Get("Retry-After"))
	}
	// Another partner is served.
	if status, code := post(t, p2, target, "evaluate", eval); status != 200 {
		t.Errorf("another partner: %d %s", status, code)
	}
	// A body beyond the bytes in flight is refused before it is read.
	target.srv.lim.partnerBodyBytes = int64(len(eval)) + 100
	if status, code, _ := stalledPost(t, p2, target, "evaluate", evalBody(t, target.Filter(), 200), 100, 3*time.Second); status != 503 || code != CodeBusy {
		t.Errorf("a body beyond the bytes in flight: %d %s", status, code)
	}
}
