package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// Before the first publication, evaluate and confirm answer 503; after
// Close, everything does, and Publish fails. Regression: before the first
// publication evaluate answered 410 unknown_key, and a closed node still
// served and published.
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

// TestMalformedRequests sends every endpoint what it must refuse, and
// checks the documented answer and that the node keeps serving.
func TestMalformedRequests(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Partners[0].Kinds = []string{"email"}
			cfg.Partners[0].Budget = 10
		}
	})
	tn.publishAll()
	target, client := tn.nodes[0], rawClient(tn.nodes[1].certificate())
	good := evalBody(t, target.Filter(), 3)
	ipReq := func() []byte {
		q, _ := match.NewQuerier(target.Filter(), nil)
		_, req, _ := q.Blind([]indicator.Indicator{indicator.MustNew(indicator.IPv4, "192.0.2.1")})
		b, _ := req.MarshalBinary()
		return b
	}()
	badElem := bytes.Clone(good)
	copy(badElem[len(badElem)-32:], bytes.Repeat([]byte{0xff}, 32)) // not a ristretto255 encoding
	otherKey := bytes.Clone(good)
	otherKey[8] ^= 1 // key id
	limit := requestBodyLimit(target.cfg.MaxBatch)
	for _, c := range []struct {
		name, method, path string
		body               []byte
		status             int
		code               string
	}{
		{"garbage evaluate", "POST", "evaluate", []byte("not a message"), 400, CodeMalformed},
		{"empty evaluate", "POST", "evaluate", nil, 400, CodeMalformed},
		{"truncated evaluate", "POST", "evaluate", good[:len(good)-1], 400, CodeMalformed},
		{"oversized evaluate", "POST", "evaluate", make([]byte, limit+1), 413, CodeTooLarge},
		{"invalid element", "POST", "evaluate", badElem, 400, CodeInvalidElement},
		{"unknown key", "POST", "evaluate", otherKey, 410, CodeUnknownKey},
		{"kind not allowed", "POST", "evaluate", ipReq, 403, CodeKindNotAllowed},
		{"garbage confirm", "POST", "confirm", []byte{1, 2, 3}, 400, CodeMalformed},
		{"oversized confirm", "POST", "confirm", make([]byte, limit+1), 413, CodeTooLarge},
		{"GET evaluate", "GET", "evaluate", nil, 405, CodeMethodNotAllowed},
		{"POST filter", "POST", "filter", []byte("x"), 405, CodeMethodNotAllowed},
		{"unknown path", "GET", "secrets", nil, 404, CodeNotFound},
		{"budget", "POST", "evaluate", evalBody(t, target.Filter(), 11), 429, CodeBudgetExhausted},
	} {
		req, _ := http.NewRequest(c.method, target.server.URL+PathPrefix+c.path, bytes.NewReader(c.body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var ae apiError
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		json.Unmarshal(data, &ae)
		if resp.StatusCode != c.status || ae.Error != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, resp.StatusCode, data, c.status, c.code)
		}
	}
	// A body with no declared length is as long as its header says: one
	// whose header declares a batch above the limit is refused (413)
	// before the rest is read, one longer than its header says is
	// malformed.
	confirmOf := func(n int) []byte {
		b := []byte("FDMT\x01\x04")
		b = append(b, good[6:8+match.KeyIDSize]...) // suite, mode, key id
		return binary.BigEndian.AppendUint32(b, uint32(n))
	}
	for _, c := range []struct {
		name   string
		body   []byte
		status int
	}{
		{"chunked oversized body", append(confirmOf(target.cfg.MaxBatch+1), make([]byte, limit+1024)...), 413},
		{"chunked body beyond its header", append(confirmOf(0), make([]byte, 1024)...), 400},
	} {
		pr, pw := io.Pipe()
		go func() {
			pw.Write(c.body)
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", target.server.URL+PathPrefix+"confirm", pr)
		req.ContentLength = -1
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.status)
		}
	}
	// The node still serves.
	r := tn.nodes[1].Match(context.Background(), emails(t, "x", 0, 2))[0]
	if r.Err != nil || len(r.Hits) != 2 {
		t.Fatalf("after the abuse: %+v", r)
	}
}

// A hit on an indicator that several of the publisher's entries hold
// releases every label, notifies every entry, and is audited as one hit
// of its entries. Regression: the confirmation record counted entries
// as hits, more hits than tags.
func TestConfirmRepeatedIndicator(t *testing.T) {
	shared := indicator.MustNew(indicator.Email, "shared@example.org")
	list := []match.Entry{
		{Indicator: shared, Label: "case 1", Ref: "r1"},
		{Indicator: shared, Label: "case 2", Ref: "r2"},
		{Indicator: shared, Ref: "r3"},
	}
	notices := make(chan HitNotice, 1)
	tn := newTestNet(t, [][]match.Entry{list, nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.OnHit = func(h HitNotice) { notices <- h }
		}
	})
	tn.publishAll()
	r := tn.nodes[1].Match(context.Background(), []indicator.Indicator{shared})[0]
	if r.Err != nil || len(r.Hits) != 1 || strings.Join(r.Hits[0].Labels, "|") != "case 1|case 2" {
		t.Fatalf("%+v", r)
	}
	var refs []string
	for _, e := range (<-notices).Entries {
		refs = append(refs, e.Ref)
	}
	if strings.Join(refs, " ") != "r1 r2 r3" {
		t.Errorf("notified entries %v", refs)
	}
	pub := tn.nodes[0]
	recs, err := ReadAudit(pub.cfg.StateDir, pub.cfg.ID, pub.cfg.Identity.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	if last.Type != AuditConfirmation || last.Count != 1 || last.Hits != 1 || last.Detail != "3 entries" {
		t.Errorf("audited %v", &last)
	}
}

// A confirm request that repeats a tag is refused malformed whether the
// tag is an entry or not, and nothing is confirmed, notified or charged.
// Regression: a repeated hit was refused and a repeated "no" answered, so
// that a partner learnt a tag was a hit from a refusal no one recorded as
// a confirmation.
func TestConfirmRefusesRepeatedTags(t *testing.T) {
	shared := indicator.MustNew(indicator.Email, "shared@example.org")
	notices := make(chan HitNotice, 4)
	tn := newTestNet(t, [][]match.Entry{{{Indicator: shared, Label: "case 1"}}, nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.OnHit = func(h HitNotice) { notices <- h }
		}
	})
	tn.publishAll()
	target, from := tn.nodes[0], tn.nodes[1]
	q, err := match.NewQuerier(target.Filter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	qu, req, err := q.Blind([]indicator.Indicator{shared})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := req.MarshalBinary()
	resp, err := rawClient(from.certificate()).Post(target.server.URL+PathPrefix+"evaluate", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var eresp match.EvalResponse
	if err := eresp.UnmarshalBinary(out); err != nil {
		t.Fatal(resp.StatusCode, err)
	}
	creq, err := qu.Finalize(&eresp)
	if err != nil || creq.Len() != 1 {
		t.Fatalf("%d candidates, %v", creq.Len(), err)
	}
	cb, _ := creq.MarshalBinary()
	head, hit := cb[:len(cb)-4-16], cb[len(cb)-16:]
	confirmOf := func(tags ...[]byte) []byte {
		b := binary.BigEndian.AppendUint32(bytes.Clone(head), uint32(len(tags)))
		return slices.Concat(append([][]byte{b}, tags...)...)
	}
	// Budget for the confirmations: the partner evaluated 1 + 3.
	if status, code := post(t, from, target, "evaluate", evalBody(t, target.Filter(), 3)); status != 200 {
		t.Fatal(status, code)
	}
	none := make([]byte, 16)
	for name, b := range map[string][]byte{
		"repeated hit":  confirmOf(hit, hit),
		"repeated no":   confirmOf(none, none),
		"hit, no twice": confirmOf(none, hit, none),
	} {
		if status, code := post(t, from, target, "confirm", b); status != 400 || code != CodeMalformed {
			t.Errorf("%s: %d %s, want 400 %s", name, status, code, CodeMalformed)
		}
	}
	select {
	case h := <-notices:
		t.Fatalf("refused confirmation notified %+v", h)
	default:
	}
	recs, err := ReadAudit(target.cfg.StateDir, target.cfg.ID, target.cfg.Identity.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Type == AuditConfirmation {
			t.Errorf("refused confirmation audited: %v", &r)
		}
	}
	// The same tags, once each, are answered.
	if status, code := post(t, from, target, "confirm", confirmOf(none, hit)); status != 200 {
		t.Errorf("distinct tags: %d %s", status, code)
	}
	if h := <-notices; len(h.Entries) != 1 {
		t.Errorf("notice %+v", h)
	}
}
