package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// rawClient is an HTTPS client presenting cert, not verifying the server
// (the tests look at what the server does).
func rawClient(cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

// evalBody is a valid evaluation request for node's filter.
func evalBody(t *testing.T, f *match.Filter, n int) []byte {
	t.Helper()
	q, err := match.NewQuerier(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, req, err := q.Blind(emails(t, "probe", 0, n))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := req.MarshalBinary()
	return b
}

// TestRefusedCertificates: a certificate of an unknown key, the valid
// certificate of a node that is not a partner, and the expired
// certificate of a partner are all refused in the TLS handshake, before
// any request is read; nothing is evaluated or spent.
func TestRefusedCertificates(t *testing.T) {
	// agency-0 and agency-1 are partners; agency-2 is a partner of
	// agency-1 only.
	tn := newTestNet(t, [][]match.Entry{nil, nil, nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Partners = cfg.Partners[:1] // agency-1
		}
	})
	tn.publishAll()
	target := tn.nodes[0]
	body := evalBody(t, target.Filter(), 3)

	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	unknown, _ := SelfSignedCertificate("stranger", stranger, time.Now(), time.Hour)
	nonPartner := tn.nodes[2].certificate() // valid, pinned by agency-1, not by agency-0
	expired, _ := SelfSignedCertificate("agency-1", tn.nodes[1].cfg.Identity, tn.clock.Now().Add(-48*time.Hour), time.Hour)
	for name, cert := range map[string]*tls.Certificate{
		"no certificate": nil, "unknown key": &unknown, "non-partner": nonPartner, "expired partner": &expired,
	} {
		resp, err := rawClient(cert).Post(target.server.URL+PathPrefix+"evaluate", "application/octet-stream", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: the server answered %d", name, resp.StatusCode)
			continue
		}
		if !strings.Contains(err.Error(), "tls") && !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: %v, want a TLS handshake failure", name, err)
		}
	}
	// The genuine partner gets through, and only its request was counted.
	resp, err := rawClient(tn.nodes[1].certificate()).Post(target.server.URL+PathPrefix+"evaluate", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("partner: %d", resp.StatusCode)
	}
	if used := target.BudgetUsed("agency-1", 1); used != 3 {
		t.Errorf("budget used %d, want 3", used)
	}
	recs, _ := ReadAudit(target.cfg.StateDir, target.cfg.ID, target.cfg.Identity.Public().(ed25519.PublicKey))
	evals := 0
	for _, r := range recs {
		if r.Type == AuditEvaluation {
			evals++
		}
	}
	if evals != 1 {
		t.Errorf("%d evaluations audited, want 1", evals)
	}

	// Mounted in a server that does not require client certificates, the
	// handler itself refuses requests without a partner's certificate.
	srv := httptest.NewUnstartedServer(target.Handler())
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	for name, c := range map[string]struct {
		cert *tls.Certificate
		code string
	}{"no certificate": {nil, CodeNoClientCertificate}, "unknown": {&unknown, CodeUnknownPartner}, "expired": {&expired, CodeCertificateExpired}} {
		resp, err := rawClient(c.cert).Get(srv.URL + PathPrefix + "filter")
		if err != nil {
			t.Fatal(err)
		}
		var ae apiError
		json.NewDecoder(resp.Body).Decode(&ae)
		resp.Body.Close()
		if ae.Error != c.code || resp.StatusCode < 400 {
			t.Errorf("mounted, %s: %d %q, want %s", name, resp.StatusCode, ae.Error, c.code)
		}
	}
	// The node's own client refuses a server whose key is not the pinned
	// one: agency-1 talking to agency-2's server under agency-0's pin.
	p := *partnerOf(tn.nodes[1].Node, "agency-0")
	p.URL = tn.nodes[2].server.URL
	c := &partnerClient{m: tn.nodes[1].Matcher, p: &p, hc: &http.Client{Transport: &http.Transport{TLSClientConfig: tn.nodes[1].clientTLSConfig(&p)}}}
	if _, err := c.refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Errorf("impostor server: %v", err)
	}
}

// TestFilterVerification: a querier refuses a tampered, unsigned,
// wrongly signed, foreign, expired, inconsistent or rolled-back filter.
func TestFilterVerification(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	pub := tn.nodes[0]
	p := partnerOf(tn.nodes[1].Node, "agency-0")
	now := tn.clock.Now()
	good, _ := signFilter("agency-0", pub.cfg.Identity, pub.Filter())
	if _, err := verifyFilter(good, p, now); err != nil {
		t.Fatalf("genuine filter: %v", err)
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	wrongSigner, _ := signFilter("agency-0", otherKey, pub.Filter())
	wrongID, _ := signFilter("agency-9", pub.cfg.Identity, pub.Filter())
	tampered := bytes.Clone(good)
	tampered[len(tampered)-100] ^= 1 // a filter bit
	unsigned := bytes.Clone(good)
	copy(unsigned[len(unsigned)-64:], make([]byte, 64))
	// An envelope naming another key id than its filter, signed properly.
	inconsistent := resign(t, good, pub.cfg.Identity, func(b []byte) { b[6+1+len("agency-0")+8] ^= 1 })
	for name, c := range map[string]struct {
		data []byte
		at   time.Time
		want error
	}{
		"tampered":     {tampered, now, ErrFilterSignature},
		"unsigned":     {unsigned, now, ErrFilterSignature},
		"wrong signer": {wrongSigner, now, ErrFilterSignature},
		"wrong node":   {wrongID, now, ErrFilterSigner},
		"inconsistent": {inconsistent, now, ErrFilterKey},
		"expired":      {good, now.Add(25*time.Hour + time.Minute), ErrFilterExpired},
		"not yet":      {good, now.Add(-time.Minute), ErrFilterExpired},
		"truncated":    {good[:len(good)-70], now, ErrFilterMalformed},
		"empty":        {nil, now, ErrFilterMalformed},
	} {
		if _, err := verifyFilter(c.data, p, c.at); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// Over HTTP: after the clock passes the filter's end, the querier
	// refuses it rather than query with it.
	q := tn.nodes[1].Node
	if r := q.Match(context.Background(), emails(t, "x", 0, 2))[0]; r.Err != nil || len(r.Hits) != 2 {
		t.Fatalf("before expiry: %+v", r)
	}
	tn.clock.Advance(26 * time.Hour)
	if r := q.Match(context.Background(), emails(t, "x", 0, 2))[0]; !errors.Is(r.Err, ErrFilterExpired) {
		t.Errorf("expired filter: %v", r.Err)
	}
	// Rollback: after seeing epoch 2, an epoch-1 filter is refused.
	tn.clock.Advance(-26 * time.Hour)
	c := q.client(p)
	if _, err := c.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.epoch, c.etag = 2, ""
	c.mu.Unlock()
	if _, err := c.refresh(context.Background()); !errors.Is(err, ErrFilterRollback) {
		t.Errorf("rollback: %v", err)
	}
}

// resign edits a signed filter's body and signs it again.
func resign(t *testing.T, signed []byte, key ed25519.PrivateKey, edit func([]byte)) []byte {
	body := bytes.Clone(signed[:len(signed)-64])
	edit(body)
	return append(body, ed25519.Sign(key, append([]byte(labelSignedFilter), body...))...)
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
		{"budget", "POST", "evaluate", evalBody(t, target.Filter(), 9), 429, CodeBudgetExhausted},
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
	// An oversized body with no declared length is cut at the limit.
	pr, pw := io.Pipe()
	go func() {
		pw.Write(make([]byte, limit+1024))
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", target.server.URL+PathPrefix+"confirm", pr)
	req.ContentLength = -1
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked oversized body: %d", resp.StatusCode)
	}
	// The node still serves.
	r := tn.nodes[1].Match(context.Background(), emails(t, "x", 0, 2))[0]
	if r.Err != nil || len(r.Hits) != 2 {
		t.Fatalf("after the abuse: %+v", r)
	}
}
