package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/internal/wire"
	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// countNet is two nodes: agency-0 publishes emails a0..a{listLen-1} and
// lets agency-1 count with budget (and kinds) as given; agency-1 queries
// in batches of querierBatch.
func countNet(t *testing.T, listLen int, allow bool, budget int, kinds []string, querierBatch int) *testNet {
	return countNetLog(t, listLen, allow, budget, kinds, querierBatch, nil)
}

// countNetLog is countNet, both nodes logging to log if not nil.
func countNetLog(t *testing.T, listLen int, allow bool, budget int, kinds []string, querierBatch int, log *lockedBuffer) *testNet {
	t.Helper()
	lists := [][]match.Entry{entries(emails(t, "a", 0, listLen), "list"), nil}
	tn := newTestNet(t, lists, func(i int, cfg *Config) {
		if log != nil {
			cfg.Logger = slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		switch i {
		case 0:
			p := &cfg.Partners[0] // agency-1
			p.Cardinality, p.Budget = allow, budget
			if kinds != nil {
				p.Kinds = kinds
			}
		case 1:
			if querierBatch > 0 {
				cfg.MaxBatch = querierBatch
			}
		}
	})
	tn.publishAll()
	return tn
}

func countContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestCountEndToEnd counts, over mutual TLS, a query of known overlap
// with the partner's list, in several batches of two kinds, and checks
// the exact count, the budget spent and the count filter's signature.
func TestCountEndToEnd(t *testing.T) {
	tn := countNet(t, 200, true, 1<<20, nil, 32)
	pub, q := tn.nodes[0], tn.nodes[1]
	if pub.current.count == nil || !pub.current.count.IsCount() {
		t.Fatal("a node with a partner allowed to count published no count filter")
	}
	// 70 on the list (a130..a199), 50 not (a200..a249), 5 repeated, and
	// 3 domains (another kind, none on the list).
	inds := append(emails(t, "a", 130, 120), emails(t, "a", 130, 5)...)
	for _, d := range []string{"x.example", "y.example", "z.example"} {
		inds = append(inds, indicator.MustNew(indicator.Domain, d))
	}
	res, err := q.Count(countContext(t), "agency-0", inds)
	if err != nil {
		t.Fatal(err)
	}
	if res.Queried != 123 || res.Shared != 70 {
		t.Fatalf("Count = %+v, want Queried 123, Shared 70", res)
	}
	if res.ExpectedFalsePositives <= 0 || res.ExpectedFalsePositives > 1e-3 {
		t.Fatalf("ExpectedFalsePositives = %v", res.ExpectedFalsePositives)
	}
	if used := pub.BudgetUsed("agency-1", pub.Epoch()); used != 123 {
		t.Fatalf("budget used %d, want 123 (the distinct indicators sent)", used)
	}
	// Metrics: the counts are evaluations of their kinds, and their
	// requests are timed by endpoint.
	s := pub.Metrics().Partners[0]
	if s.Evaluations["email"] != 120 || s.Evaluations["domain"] != 3 {
		t.Errorf("evaluations counted %v, want email 120, domain 3", s.Evaluations)
	}
	if s.Latency["count"].Count != 5 || s.Latency["count_filter"].Count != 1 {
		t.Errorf("latency counted %d count and %d count_filter requests, want 5 and 1", s.Latency["count"].Count, s.Latency["count_filter"].Count)
	}
	// A second count of the same list is exact too (the held count filter,
	// revalidated by its ETag).
	res, err = q.Count(countContext(t), "agency-0", emails(t, "a", 0, 10))
	if err != nil || res.Shared != 10 || res.Queried != 10 {
		t.Fatalf("second Count = %+v, %v", res, err)
	}
	if _, err := q.Count(countContext(t), "nobody", inds); err == nil {
		t.Fatal("Count of an unknown partner did not fail")
	}
}

// TestCountFilterSignedAndTyped checks that the count filter served is
// signed by the node, verifies as a filter does, is a count filter, and
// is not taken where the filter belongs (and the reverse).
func TestCountFilterSignedAndTyped(t *testing.T) {
	tn := countNet(t, 20, true, 1<<20, nil, 0)
	pub, q := tn.nodes[0], tn.nodes[1]
	p := partnerOf(q.Node, "agency-0")
	body := getBody(t, q, pub, "count-filter", MediaTypeStreamedFilter)
	f, err := readSignedFilter(bytes.NewReader(body), int64(len(body)), p, tn.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !f.IsCount() || f.Epoch() != pub.Epoch() || f.KeyID() != pub.current.pub.CountPublicKey().KeyID() || f.KeyID() == pub.Filter().KeyID() {
		t.Fatalf("count filter: count %v epoch %d key %v", f.IsCount(), f.Epoch(), f.KeyID())
	}
	legacy := getBody(t, q, pub, "count-filter", "application/octet-stream")
	if _, err := readSignedFilter(bytes.NewReader(legacy), int64(len(legacy)), p, tn.clock.Now()); err != nil {
		t.Fatalf("signed count filter (0x09 envelope): %v", err)
	}
	// Signed by another identity: refused.
	other := *p
	other.Identity, _, _ = ed25519.GenerateKey(nil)
	if _, err := readSignedFilter(bytes.NewReader(body), int64(len(body)), &other, tn.clock.Now()); !errors.Is(err, ErrFilterSignature) {
		t.Fatalf("count filter under another identity: %v, want ErrFilterSignature", err)
	}
	// Swapped endpoints: a querier that finds a filter where the count
	// filter belongs refuses it, and the reverse.
	c := q.Matcher.client(p)
	swap := func(from, to string) {
		h := pub.Handler()
		var sw http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == PathPrefix+from {
				r.URL.Path = PathPrefix + to
				r.Pattern = ""
			}
			h.ServeHTTP(w, r)
		})
		pub.handler.Store(&sw)
	}
	swap("count-filter", "filter")
	if _, err := c.refreshCount(countContext(t)); !errors.Is(err, ErrFilterMalformed) {
		t.Fatalf("a filter served as the count filter: %v, want ErrFilterMalformed", err)
	}
	swap("filter", "count-filter")
	if _, err := c.refresh(countContext(t)); !errors.Is(err, ErrFilterMalformed) {
		t.Fatalf("a count filter served as the filter: %v, want ErrFilterMalformed", err)
	}
}

// getBody GETs a node's endpoint with accept as Accept and returns the
// body of a 200 answer.
func getBody(t *testing.T, from, to *testNode, path, accept string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, to.server.URL+PathPrefix+path, nil)
	req.Header.Set("Accept", accept)
	resp, err := rawClient(from.certificate()).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

// getStatus GETs a node's endpoint and returns the status and error code.
func getStatus(t *testing.T, from, to *testNode, path string) (int, string) {
	t.Helper()
	st, code, _ := getMsg(t, from, to, path)
	return st, code
}

// getMsg GETs a node's endpoint and returns the status, error code and
// message.
func getMsg(t *testing.T, from, to *testNode, path string) (int, string, string) {
	t.Helper()
	resp, err := rawClient(from.certificate()).Get(to.server.URL + PathPrefix + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ae apiError
	json.NewDecoder(resp.Body).Decode(&ae)
	return resp.StatusCode, ae.Error, ae.Message
}

// countBody is a valid count request of inds for node's count filter.
func countBody(t *testing.T, node *testNode, inds []indicator.Indicator) []byte {
	t.Helper()
	q, err := match.NewQuerier(node.current.count, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, req, err := q.BlindCount(inds)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := req.MarshalBinary()
	return b
}

// TestCountPolicy checks that a partner not allowed to count is refused
// both endpoints with 403 count_not_allowed and spends nothing, that a
// node with no such partner builds no count filter, and that the kind
// policy applies to counts.
func TestCountPolicy(t *testing.T) {
	tn := countNet(t, 20, false, 1<<20, nil, 0)
	pub, q := tn.nodes[0], tn.nodes[1]
	if pub.current.count != nil || pub.current.countSigned != nil {
		t.Fatal("a node with no partner allowed to count built a count filter")
	}
	_, err := q.Count(countContext(t), "agency-0", emails(t, "a", 0, 5))
	var re *RemoteError
	if !errors.As(err, &re) || re.Status != http.StatusForbidden || re.Code != CodeCountNotAllowed ||
		!strings.Contains(re.Message, "not allowed for this partner") {
		t.Fatalf("Count by a partner not allowed: %v", err)
	}
	if st, code := getStatus(t, q, pub, "count-filter"); st != http.StatusForbidden || code != CodeCountNotAllowed {
		t.Fatalf("GET count-filter: %d %s", st, code)
	}
	// Whatever it sends: a valid request for the key, one for no key, a
	// malformed one, one above every limit.
	body := countBodyForKey(t, pub, emails(t, "a", 0, 5))
	noKey := bytes.Clone(body)
	noKey[len(noKey)-5*32-4-1-len("email")-1] ^= 1 // the key id's last byte
	if h, err := match.ParseCountRequestHeader(noKey); err != nil || h.KeyID() == pub.Filter().KeyID() {
		t.Fatalf("the request for no key: %v", err)
	}
	for name, b := range map[string][]byte{"valid": body, "unknown key": noKey, "malformed": []byte("fedmatch"),
		"oversized": make([]byte, requestBodyLimit(pub.cfg.MaxBatch)+1)} {
		if st, code := post(t, q, pub, "count", b); st != http.StatusForbidden || code != CodeCountNotAllowed {
			t.Fatalf("POST count, %s: %d %s", name, st, code)
		}
	}
	if used := pub.BudgetUsed("agency-1", pub.Epoch()); used != 0 {
		t.Fatalf("refused counts spent %d", used)
	}
	if h, err := q.Health(countContext(t), "agency-0"); err != nil || h.Limits.Count {
		t.Fatalf("health of a node that refuses counts: %+v, %v", h, err)
	}

	// Allowed once the epoch was published: no count filter until the
	// next publication (503 not_published), then counts.
	partnerOf(pub.Node, "agency-1").Cardinality = true
	st, code, msg := getMsg(t, q, pub, "count-filter")
	if st != http.StatusServiceUnavailable || code != CodeNotPublished || !strings.Contains(msg, "no count filter in epoch 1") {
		t.Fatalf("GET count-filter of an epoch without one: %d %s %q", st, code, msg)
	}
	if _, err := q.Count(countContext(t), "agency-0", emails(t, "a", 0, 5)); !errors.As(err, &re) || re.Code != CodeNotPublished {
		t.Fatalf("Count of an epoch without a count filter: %v", err)
	}
	if err := pub.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res, err := q.Count(countContext(t), "agency-0", emails(t, "a", 0, 5)); err != nil || res.Shared != 5 {
		t.Fatalf("Count after the publication: %+v, %v", res, err)
	}

	// Allowed to count, but only domains: emails are refused as an
	// evaluation of them would be.
	tn = countNet(t, 20, true, 1<<20, []string{"domain"}, 0)
	pub, q = tn.nodes[0], tn.nodes[1]
	_, err = q.Count(countContext(t), "agency-0", emails(t, "a", 0, 5))
	if !errors.As(err, &re) || re.Status != http.StatusForbidden || re.Code != CodeKindNotAllowed {
		t.Fatalf("Count of a kind not allowed: %v", err)
	}
	if res, err := q.Count(countContext(t), "agency-0", []indicator.Indicator{indicator.MustNew(indicator.Domain, "a.example")}); err != nil || res.Shared != 0 {
		t.Fatalf("Count of an allowed kind: %+v, %v", res, err)
	}
	if used := pub.BudgetUsed("agency-1", pub.Epoch()); used != 1 {
		t.Fatalf("budget used %d, want 1", used)
	}
	if h, err := q.Health(countContext(t), "agency-0"); err != nil || !h.Limits.Count {
		t.Fatalf("health of a node that allows counts: %+v, %v", h, err)
	}
}

// countBodyForKey is a count request for node's current key, made without
// its count filter (a node that has none): the count filter's header is
// the filter's but for the type.
func countBodyForKey(t *testing.T, node *testNode, inds []indicator.Indicator) []byte {
	t.Helper()
	// A count filter of one entry under the node's key.
	pub, err := match.Publish(node.current.key, seq(entries(inds[:1], "x")), &match.PublishOptions{Count: true,
		Epoch: node.Filter().Epoch(), NotBefore: node.Filter().NotBefore(), NotAfter: node.Filter().NotAfter()})
	if err != nil {
		t.Fatal(err)
	}
	q, err := match.NewQuerier(pub.CountFilter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, req, err := q.BlindCount(inds)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := req.MarshalBinary()
	return b
}

func seq(list []match.Entry) func(func(match.Entry) bool) {
	return func(yield func(match.Entry) bool) {
		for _, e := range list {
			if !yield(e) {
				return
			}
		}
	}
}

// TestCountBudget checks that a count of n distinct indicators spends n
// of the evaluation budget, shared with evaluations, and that a count
// over what is left is refused with 429 budget_exhausted and spends
// nothing.
func TestCountBudget(t *testing.T) {
	tn := countNet(t, 50, true, 100, nil, 0)
	pub, q := tn.nodes[0], tn.nodes[1]
	ctx := countContext(t)
	if _, err := q.Count(ctx, "agency-0", emails(t, "a", 0, 60)); err != nil {
		t.Fatal(err)
	}
	if used := pub.BudgetUsed("agency-1", pub.Epoch()); used != 60 {
		t.Fatalf("budget used %d after a count of 60", used)
	}
	_, err := q.Count(ctx, "agency-0", emails(t, "b", 0, 41))
	var re *RemoteError
	if !errors.As(err, &re) || re.Status != http.StatusTooManyRequests || re.Code != CodeBudgetExhausted {
		t.Fatalf("count over the budget: %v", err)
	}
	if used := pub.BudgetUsed("agency-1", pub.Epoch()); used != 60 {
		t.Fatalf("budget used %d after a refused count", used)
	}
	// Evaluations draw on the same budget: 30 evaluated, then 10 counted
	// fit exactly; one more of either is refused.
	if st, code := post(t, q, pub, "evaluate", evalBody(t, pub.Filter(), 30)); st != http.StatusOK {
		t.Fatalf("evaluate: %d %s", st, code)
	}
	if res, err := q.Count(ctx, "agency-0", emails(t, "a", 40, 10)); err != nil || res.Shared != 10 {
		t.Fatalf("count of the last 10: %+v, %v", res, err)
	}
	if used := pub.BudgetUsed("agency-1", pub.Epoch()); used != 100 {
		t.Fatalf("budget used %d, want 100", used)
	}
	if st, code := post(t, q, pub, "count", countBody(t, pub, emails(t, "c", 0, 1))); st != http.StatusTooManyRequests || code != CodeBudgetExhausted {
		t.Fatalf("count beyond the budget: %d %s", st, code)
	}
	if st, code := post(t, q, pub, "evaluate", evalBody(t, pub.Filter(), 1)); st != http.StatusTooManyRequests || code != CodeBudgetExhausted {
		t.Fatalf("evaluation beyond the budget spent by counts: %d %s", st, code)
	}
	// The budget spent by counts survives a restart (it is on disk).
	tn.restart(0)
	if used := pub.BudgetUsed("agency-1", pub.Epoch()); used != 100 {
		t.Fatalf("budget used %d after a restart, want 100", used)
	}
}

// TestCountAudit checks the audit record of a count: partner, epoch,
// kind, batch size, marked as a count; no count learned and no indicator
// value, in the record or in the node's log lines.
func TestCountAudit(t *testing.T) {
	var logs lockedBuffer
	tn := countNetLog(t, 50, true, 1<<20, nil, 0, &logs)
	pub, q := tn.nodes[0], tn.nodes[1]
	inds := emails(t, "a", 40, 17) // 10 on the list
	res, err := q.Count(countContext(t), "agency-0", inds)
	if err != nil || res.Shared != 10 {
		t.Fatalf("Count = %+v, %v", res, err)
	}
	recs, err := ReadAudit(pub.cfg.StateDir, pub.cfg.ID, pub.cfg.Identity.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	var counts []AuditRecord
	for _, r := range recs {
		if r.Type == AuditCount {
			counts = append(counts, r)
		}
		if r.Type == AuditEvaluation {
			t.Errorf("a count recorded as an evaluation: %v", &r)
		}
		s := r.String()
		for _, ind := range inds {
			if strings.Contains(s, ind.String()) || strings.Contains(s, "@example.org") {
				t.Fatalf("audit record holds an indicator value: %s", s)
			}
		}
	}
	if len(counts) != 1 {
		t.Fatalf("%d count records, want 1", len(counts))
	}
	r := counts[0]
	if r.Partner != "agency-1" || r.Epoch != pub.Epoch() || r.Count != 17 || r.Hits != 0 || r.Detail != "kind email" {
		t.Fatalf("count record %v: want partner agency-1, epoch %d, count 17, hits 0, detail \"kind email\"", &r, pub.Epoch())
	}
	if s := r.String(); !strings.Contains(s, " count epoch=") || !strings.Contains(s, "count=17") || strings.Contains(s, "hits") {
		t.Fatalf("count record reads %q", s)
	}
	// The querier's log holds no count record: it audits no outgoing
	// query.
	qrecs, err := ReadAudit(q.cfg.StateDir, q.cfg.ID, q.cfg.Identity.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range qrecs {
		if r.Type == AuditCount || r.Type == AuditEvaluation {
			t.Fatalf("querier's audit log records %v", &r)
		}
	}
	if _, err := VerifyAudit(pub.cfg.StateDir, pub.cfg.ID, pub.cfg.Identity.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	// The log line of the count: partner, kind and size, no value, no
	// count learned.
	out := logs.String()
	if !strings.Contains(out, `"msg":"counted","partner":"agency-1","kind":"email","count":17`) {
		t.Fatalf("no \"counted\" line in the log:\n%s", out)
	}
	if strings.Contains(out, "@example.org") || strings.Contains(out, `"shared"`) {
		t.Fatalf("the log holds an indicator value or a count learned:\n%s", out)
	}
}

// TestCountMalformed sends count requests that are cut short, too long,
// of another type, or declare too many elements or invalid ones: each
// gets a clear 4xx and spends nothing.
func TestCountMalformed(t *testing.T) {
	tn := countNet(t, 20, true, 1<<20, nil, 0)
	pub, q := tn.nodes[0], tn.nodes[1]
	good := countBody(t, pub, emails(t, "a", 0, 8))
	hdr, err := match.ParseCountRequestHeader(good)
	if err != nil {
		t.Fatal(err)
	}
	el := len(countBody(t, pub, emails(t, "a", 0, 9))) - len(good) // an element's length
	countAt := len(good) - 8*el - 4                                // the count field
	if hdr.Size() != len(good) {
		t.Fatalf("header declares %d bytes, request has %d", hdr.Size(), len(good))
	}
	oversize := bytes.Clone(good[:countAt+4])
	binary.BigEndian.PutUint32(oversize[countAt:], uint32(pub.cfg.MaxBatch+1))
	tooMany := bytes.Clone(good[:countAt+4])
	binary.BigEndian.PutUint32(tooMany[countAt:], match.MaxBatch+1)
	invalid := bytes.Clone(good)
	for i := countAt + 4; i < len(invalid); i++ {
		invalid[i] = 0xff
	}
	wrongType := bytes.Clone(good)
	wrongType[wire.HeaderLen-1] = byte(wire.TypeConfirmRequest) // the message type
	cases := []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"empty", nil, http.StatusBadRequest, CodeMalformed},
		{"truncated header", good[:10], http.StatusBadRequest, CodeMalformed},
		{"truncated elements", good[:len(good)-5], http.StatusBadRequest, CodeMalformed},
		{"trailing bytes", append(bytes.Clone(good), 0), http.StatusBadRequest, CodeMalformed},
		{"evaluation request", evalBody(t, pub.Filter(), 8), http.StatusBadRequest, CodeMalformed},
		{"wrong type", wrongType, http.StatusBadRequest, CodeMalformed},
		{"count above MaxBatch", oversize, http.StatusRequestEntityTooLarge, CodeTooLarge},
		{"count above match.MaxBatch", tooMany, http.StatusRequestEntityTooLarge, CodeTooLarge},
		{"invalid elements", invalid, http.StatusBadRequest, CodeInvalidElement},
	}
	for _, c := range cases {
		st, code, msg := postMsg(t, q, pub, "count", c.body)
		if st != c.status || code != c.code || msg == "" {
			t.Errorf("%s: %d %s %q, want %d %s", c.name, st, code, msg, c.status, c.code)
		}
	}
	if used := pub.BudgetUsed("agency-1", pub.Epoch()); used != 0 {
		t.Fatalf("malformed counts spent %d", used)
	}
	// A count request names the count key; under the filter's key it
	// names no served key, and an evaluation under the count key neither.
	fid, cid := pub.Filter().KeyID(), pub.current.pub.CountPublicKey().KeyID()
	underFilterKey := bytes.Clone(good)
	copy(underFilterKey[wire.HeaderLen+2:], fid[:])
	evalUnderCountKey := evalBody(t, pub.Filter(), 8)
	copy(evalUnderCountKey[wire.HeaderLen+2:], cid[:])
	for _, c := range []struct {
		endpoint string
		body     []byte
	}{{"count", underFilterKey}, {"evaluate", evalUnderCountKey}} {
		if st, code, msg := postMsg(t, q, pub, c.endpoint, c.body); st != http.StatusGone || code != CodeUnknownKey {
			t.Errorf("%s under the other key: %d %s %q, want 410 %s", c.endpoint, st, code, msg, CodeUnknownKey)
		}
	}
	// GET on the count endpoint, POST on the count filter's.
	if st, code := getStatus(t, q, pub, "count"); st != http.StatusMethodNotAllowed || code != CodeMethodNotAllowed {
		t.Fatalf("GET count: %d %s", st, code)
	}
	if st, code := post(t, q, pub, "count-filter", good); st != http.StatusMethodNotAllowed || code != CodeMethodNotAllowed {
		t.Fatalf("POST count-filter: %d %s", st, code)
	}
	// The good one still counts.
	if st, code := post(t, q, pub, "count", good); st != http.StatusOK {
		t.Fatalf("good count: %d %s", st, code)
	}
}

// TestCountFilterRestart checks that the count filter, which a restored
// publisher lacks, is kept with the epoch's state: after a restart, and
// after changes journaled and folded, the node serves the same count
// filter and counts stay exact.
func TestCountFilterRestart(t *testing.T) {
	tn := countNet(t, 30, true, 1<<20, nil, 0)
	pub, q := tn.nodes[0], tn.nodes[1]
	before, err := pub.current.count.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// A change within the epoch: the count filter stays the list as
	// published.
	signed := pub.current.countSigned
	if _, err := pub.Add(context.Background(), entries(emails(t, "n", 0, 3), "new")); err != nil {
		t.Fatal(err)
	}
	if pub.current.countSigned != signed {
		t.Fatal("a change signed the count filter again")
	}
	// The journal folded into epoch-N.pub keeps the count filter.
	pub.opMu.Lock()
	err = pub.savePublisher(pub.current, pub.current.jr.seq)
	pub.opMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if data, err := pub.store.read(pubFile(1)); err != nil {
		t.Fatal(err)
	} else if typ, _, err := decodeStateOf(data, statePublisherCount); err != nil || typ != statePublisherCount {
		t.Fatalf("epoch-1.pub after a fold: %v", err)
	}
	tn.restart(0)
	pub = tn.nodes[0]
	if pub.current.count == nil || pub.current.countSigned == nil {
		t.Fatal("no count filter after a restart")
	}
	after, _ := pub.current.count.MarshalBinary()
	if !bytes.Equal(before, after) {
		t.Fatal("the count filter changed across a restart")
	}
	res, err := q.Count(countContext(t), "agency-0", append(emails(t, "a", 20, 20), emails(t, "n", 0, 3)...))
	if err != nil || res.Queried != 23 || res.Shared != 10 {
		t.Fatalf("Count after a restart = %+v, %v; want Queried 23, Shared 10 (the list as published)", res, err)
	}
	// A rotation makes a new count filter of the list, additions
	// included, under the new key; it too survives a restart.
	pub.list = append(pub.list, entries(emails(t, "n", 0, 3), "new")...)
	if err := pub.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	tn.restart(0)
	pub = tn.nodes[0]
	if pub.current.count == nil || pub.current.count.Epoch() != 2 || pub.previous == nil || pub.previous.count == nil {
		t.Fatal("count filters of the current and previous epochs not restored")
	}
	res, err = q.Count(countContext(t), "agency-0", emails(t, "n", 0, 3))
	if err != nil || res.Shared != 3 {
		t.Fatalf("Count after a rotation = %+v, %v", res, err)
	}
}

// TestCountFilterCorrupt checks that a count filter in epoch-N.pub that
// is not its epoch's (another type, epoch or key) stops the node at
// start with ErrCorruptState, and that decodePublisherFile refuses every
// cut of a file with one.
func TestCountFilterCorrupt(t *testing.T) {
	tn := countNet(t, 10, true, 1<<20, nil, 0)
	pub := tn.nodes[0]
	f := pub.Filter()
	if _, err := decodeCountFilter(mustMarshal(t, f), pub.current.pub); err == nil {
		t.Fatal("a filter taken as a count filter")
	}
	cb := mustMarshal(t, pub.current.count)
	if _, err := decodeCountFilter(cb, pub.current.pub); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeCountFilter(cb[:len(cb)-1], pub.current.pub); err == nil {
		t.Fatal("a truncated count filter decoded")
	}
	payload := encodePublisherFile("00ff", 3, cb, []byte("state"))
	gen, applied, count, state, ok := decodePublisherFile(statePublisherCount, payload)
	if !ok || gen != "00ff" || applied != 3 || !bytes.Equal(count, cb) || string(state) != "state" {
		t.Fatalf("decodePublisherFile: %q %d %d %q %v", gen, applied, len(count), state, ok)
	}
	for i := range len(payload) - len("state") {
		if _, _, _, _, ok := decodePublisherFile(statePublisherCount, payload[:i]); ok {
			t.Fatalf("decodePublisherFile took the payload cut at %d", i)
		}
	}
	// A count filter of another epoch's key in the file: refused at start.
	other := countNet(t, 10, true, 1<<20, nil, 0).nodes[0]
	data, err := pub.store.read(pubFile(1))
	if err != nil {
		t.Fatal(err)
	}
	_, p, err := decodeStateOf(data, statePublisherCount)
	if err != nil {
		t.Fatal(err)
	}
	g, a, _, st, _ := decodePublisherFile(statePublisherCount, p)
	bad := encodeState(statePublisherCount, encodePublisherFile(g, a, mustMarshal(t, other.current.count), st))
	if err := pub.store.write(pubFile(1), bad); err != nil {
		t.Fatal(err)
	}
	pub.Node.Close()
	if _, err := New(pub.cfg); !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), "count filter") {
		t.Fatalf("New on a foreign count filter: %v, want ErrCorruptState", err)
	}
}

func mustMarshal(t *testing.T, f *match.Filter) []byte {
	t.Helper()
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// postMsg is post, also returning the error's message.
func postMsg(t *testing.T, from, to *testNode, path string, body []byte) (int, string, string) {
	t.Helper()
	resp, err := rawClient(from.certificate()).Post(to.server.URL+PathPrefix+path, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ae apiError
	json.NewDecoder(resp.Body).Decode(&ae)
	return resp.StatusCode, ae.Error, ae.Message
}

// sampleSignedCountFilter is a signed count filter, in both envelopes.
func sampleSignedCountFilter(t testing.TB) (legacy, streamed []byte, p *Partner, now time.Time) {
	_, key, _ := ed25519.GenerateKey(nil)
	mk, _ := match.GenerateKey(match.SuiteRistretto255)
	now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	pub, err := match.Publish(mk, seq(entries(emails(t, "s", 0, 20), "L")),
		&match.PublishOptions{Count: true, Epoch: 3, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	sf, err := newSignedFilter("pub", key, pub.CountFilter())
	if err != nil {
		t.Fatal(err)
	}
	streamed = append(bytes.Clone(sf.stream), sf.filter...)
	return sf.legacy, streamed, &Partner{ID: "pub", Identity: key.Public().(ed25519.PublicKey)}, now
}

// TestSignedCountFilterTruncated: every cut of a signed count filter, in
// either envelope, is refused with ErrFilterMalformed (or, for a cut
// inside the streamed filter, a signature or decoding error), never
// accepted.
func TestSignedCountFilterTruncated(t *testing.T) {
	legacy, streamed, p, now := sampleSignedCountFilter(t)
	for _, full := range [][]byte{legacy, streamed} {
		f, err := verifyFilter(full, p, now)
		if err != nil || !f.IsCount() {
			t.Fatalf("genuine signed count filter: %v", err)
		}
		for i := range len(full) {
			if _, err := verifyFilter(full[:i], p, now); err == nil {
				t.Fatalf("signed count filter cut at %d of %d accepted", i, len(full))
			} else if !errors.Is(err, ErrFilterMalformed) && !errors.Is(err, ErrFilterSignature) {
				t.Fatalf("cut at %d: %v", i, err)
			}
		}
	}
}

func FuzzSignedCountFilter(f *testing.F) {
	legacy, streamed, p, now := sampleSignedCountFilter(f)
	f.Add(legacy)
	f.Add(streamed)
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := verifyFilter(data, p, now)
		if err != nil {
			return
		}
		// Only the genuine bytes verify.
		if !bytes.Equal(data, legacy) && !bytes.Equal(data, streamed) || !fl.IsCount() {
			t.Fatalf("accepted a count filter other than the one signed")
		}
	})
}

// FuzzPublisherFile: the payload of epoch-N.pub, with a count filter or
// not, never panics the decoder, and a count filter it yields is checked.
func FuzzPublisherFile(f *testing.F) {
	mk, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		f.Fatal(err)
	}
	pub, err := match.Publish(mk, seq(entries(emails(f, "s", 0, 20), "L")), &match.PublishOptions{Count: true, Epoch: 7})
	if err != nil {
		f.Fatal(err)
	}
	fl := pub.Filter()
	cb, _ := pub.CountFilter().MarshalBinary()
	f.Add(encodePublisherFile("00ff", 7, cb, []byte("state")))
	f.Add(encodePublisherFile("00ff", 7, nil, []byte("state")))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []stateType{statePublisher, statePublisherLine, statePublisherJournal, statePublisherCount} {
			_, _, count, _, ok := decodePublisherFile(typ, data)
			if !ok {
				continue
			}
			if typ != statePublisherCount && count != nil {
				t.Fatalf("a count filter in a file of type %v", typ)
			}
			if c, err := decodeCountFilter(count, pub); err == nil && c != nil && (!c.IsCount() || c.Epoch() != fl.Epoch() || c.KeyID() != pub.CountPublicKey().KeyID()) {
				t.Fatal("decodeCountFilter took a filter that is not the epoch's count filter")
			}
		}
	})
}

// TestCountRotationRetry: a count refused with unknown_key because the
// partner rotated between the count filter's fetch and the request (which
// spent nothing) is sent again, once, under the new count filter, and
// counts exactly.
func TestCountRotationRetry(t *testing.T) {
	tn := countNet(t, 30, true, 1<<20, nil, 0)
	pub, q := tn.nodes[0], tn.nodes[1]
	h := pub.Handler()
	var rotated atomic.Bool
	var sw http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PathPrefix+"count" && !rotated.Swap(true) {
			for range 2 { // the first key is destroyed
				if err := pub.Rotate(context.Background()); err != nil {
					t.Error(err)
				}
			}
		}
		h.ServeHTTP(w, r)
	})
	pub.handler.Store(&sw)
	res, err := q.Count(countContext(t), "agency-0", emails(t, "a", 20, 20))
	if err != nil || res.Shared != 10 || res.Queried != 20 {
		t.Fatalf("Count across a rotation = %+v, %v", res, err)
	}
	if !rotated.Load() || pub.Epoch() != 3 {
		t.Fatalf("rotated %v, epoch %d", rotated.Load(), pub.Epoch())
	}
	if used := pub.BudgetUsed("agency-1", 3); used != 20 {
		t.Fatalf("budget used %d in epoch 3, want 20 (the refused request spent nothing)", used)
	}
}

// TestCountBudgetsDeleted: budgets spent by counts only are not refunded
// by deleting the budgets file: the audit log's count records say that
// budget was spent, and New refuses to start. Regression: a checkpoint
// that kept only evaluation records would start with fresh budgets.
func TestCountBudgetsDeleted(t *testing.T) {
	tn := countNet(t, 10, true, 1<<20, nil, 0)
	pub, q := tn.nodes[0], tn.nodes[1]
	if _, err := q.Count(countContext(t), "agency-0", emails(t, "a", 0, 3)); err != nil {
		t.Fatal(err)
	}
	pub.Close()
	if err := os.Remove(filepath.Join(pub.cfg.StateDir, budgetsFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := New(pub.cfg); !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), "budgets is missing") {
		t.Fatalf("New without the budgets of counts: %v", err)
	}
	c := start("node")
	c.add(&AuditRecord{Type: AuditCount, Epoch: 4}, [32]byte{}, 10)
	if c.evaluated != [2]uint64{4, 0} {
		t.Fatalf("checkpoint after a count record: %+v", c.evaluated)
	}
}

// TestCountStoreFailures: a count whose audit record or budget
// reservation cannot be written is answered 500, not answered with the
// evaluation, and leaves the budget as it was (audit) or unspent in the
// log (budget).
func TestCountStoreFailures(t *testing.T) {
	tn := countNet(t, 10, true, 1<<20, nil, 0)
	pub, q := tn.nodes[0], tn.nodes[1]
	errDisk := errors.New("disk failed")
	pub.audit.mu.Lock()
	good := pub.audit.s
	pub.audit.s = &faultStore{store: good, fault: func(op, _ string) error {
		if op == "append" {
			return errDisk
		}
		return nil
	}}
	pub.audit.mu.Unlock()
	st, code, msg := postMsg(t, q, pub, "count", countBody(t, pub, emails(t, "a", 0, 4)))
	if st != http.StatusInternalServerError || code != CodeInternal || msg != "audit log unavailable" {
		t.Fatalf("count with the audit log failing: %d %s %q", st, code, msg)
	}
	if used := pub.BudgetUsed("agency-1", pub.Epoch()); used != 0 {
		t.Fatalf("a count not recorded spent %d", used)
	}

	tn = countNet(t, 10, true, 1<<20, nil, 0)
	pub, q = tn.nodes[0], tn.nodes[1]
	pub.budgets.mu.Lock()
	pub.budgets.s = &faultStore{store: pub.budgets.s, fault: func(op, name string) error {
		if name == budgetsFile {
			return errDisk
		}
		return nil
	}}
	pub.budgets.mu.Unlock()
	st, code, msg = postMsg(t, q, pub, "count", countBody(t, pub, emails(t, "a", 0, 4)))
	if st != http.StatusInternalServerError || code != CodeInternal || msg != "budget store unavailable" {
		t.Fatalf("count with the budget store failing: %d %s %q", st, code, msg)
	}
	recs, err := ReadAudit(pub.cfg.StateDir, pub.cfg.ID, pub.cfg.Identity.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Type == AuditCount {
			t.Fatalf("a count whose budget was not written is recorded: %v", &r)
		}
	}
}

// TestCountCrashAtEveryStep is TestCrashAtEveryStep for a node that
// publishes count filters: stopped at each store operation in turn (a
// crash, or that operation failing alone), its state loads as
// checkRestart requires, and every epoch it serves has its count filter,
// of its key: the count filter is written with the publisher's state, in
// one atomic write.
func TestCountCrashAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds")
	}
	for _, fault := range []error{errCrash, errors.New("no space left on device")} {
		for k := 1; ; k++ {
			clk := newClock()
			c := crashConfig("", 20)
			c.Now = clk.Now
			c.Partners[0].Cardinality = true
			cfg, err := c.check(false)
			if err != nil {
				t.Fatal(err)
			}
			m := newMemStore()
			ops, at := 0, ""
			m.fault = func(op, name string) error {
				if ops++; ops == k {
					at = op + " " + name
					return fault
				}
				return nil
			}
			ackEpoch, ackUsed := aNodesLife(cfg, clk, m)
			if ops < k {
				break
			}
			what := fmt.Sprintf("%v at operation %d (%s)", fault, k, at)
			everyRotation := fault == errCrash || at != "append " && at != "write audit.head"
			s := m.reopen()
			checkRestart(t, what, cfg, s, ackEpoch, ackUsed, everyRotation)
			n, err := newNode(cfg, s)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			for _, e := range []*epoch{n.current, n.previous} {
				if e != nil && (e.count == nil || e.countSigned == nil || e.count.KeyID() != e.pub.CountPublicKey().KeyID()) {
					t.Errorf("%s: epoch %d serves without its count filter", what, e.number)
				}
			}
			n.Close()
		}
	}
}

// TestCountFilterRollback: a querier refuses a count filter of an older
// epoch than the count filter, or the filter, it accepted from the
// partner (a replay of a signed, still valid count filter).
func TestCountFilterRollback(t *testing.T) {
	tn := countNet(t, 10, true, 1<<20, nil, 0)
	pub, q := tn.nodes[0], tn.nodes[1]
	old := pub.current.countSigned
	if err := pub.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res, err := q.Count(countContext(t), "agency-0", emails(t, "a", 0, 4)); err != nil || res.Shared != 4 {
		t.Fatalf("Count in epoch 2: %+v, %v", res, err)
	}
	serveOldCountFilter(pub, old)
	if _, err := q.Count(countContext(t), "agency-0", emails(t, "a", 0, 4)); !errors.Is(err, ErrFilterRollback) {
		t.Fatalf("a replayed count filter of epoch 1 after epoch 2: %v, want ErrFilterRollback", err)
	}
	// A querier that accepted only the filter of epoch 2 refuses it too.
	tn2 := countNet(t, 10, true, 1<<20, nil, 0)
	pub2, q2 := tn2.nodes[0], tn2.nodes[1]
	old2 := pub2.current.countSigned
	if err := pub2.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := q2.Match(countContext(t), emails(t, "a", 0, 1))[0]; r.Err != nil || r.Epoch != 2 {
		t.Fatalf("Match in epoch 2: %+v", r)
	}
	serveOldCountFilter(pub2, old2)
	if _, err := q2.Count(countContext(t), "agency-0", emails(t, "a", 0, 4)); !errors.Is(err, ErrFilterRollback) {
		t.Fatalf("a count filter of epoch 1 after the filter of epoch 2: %v, want ErrFilterRollback", err)
	}
}

// serveOldCountFilter makes n answer GET count-filter with old, a signed
// count filter it served before: a replay.
func serveOldCountFilter(n *testNode, old *signedFilter) {
	h := n.Handler()
	var replay http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PathPrefix+"count-filter" {
			old.serve(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
	n.handler.Store(&replay)
}
