package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

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

// The hybrid post-quantum key exchange is preferred, not required: a
// partner whose TLS stack offers only X25519, or only P-256, connects,
// over HTTP/2 or HTTP/1.1, and the node logs nothing about it; one
// that offers the hybrid gets it. TLS 1.2 is refused.
func TestKeyExchangesAndHTTPVersions(t *testing.T) {
	rec := &recorder{}
	tn := newTestNet(t, [][]match.Entry{nil, nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Logger = slog.New(rec)
		}
	})
	tn.publishAll()
	addr := serve(t, tn.nodes[0])
	cert := tn.nodes[1].certificate()
	client := func(curves []tls.CurveID, h2 bool, maxVersion uint16) *http.Client {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: maxVersion, InsecureSkipVerify: true,
			Certificates: []tls.Certificate{*cert}, CurvePreferences: curves}
		tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: h2}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	for _, c := range []struct {
		name   string
		curves []tls.CurveID
		h2     bool
		curve  tls.CurveID
		proto  string
	}{
		{"X25519 only, HTTP/2", []tls.CurveID{tls.X25519}, true, tls.X25519, "HTTP/2.0"},
		{"X25519 only, HTTP/1.1", []tls.CurveID{tls.X25519}, false, tls.X25519, "HTTP/1.1"},
		{"P-256 only", []tls.CurveID{tls.CurveP256}, true, tls.CurveP256, "HTTP/2.0"},
		{"P-384 only", []tls.CurveID{tls.CurveP384}, false, tls.CurveP384, "HTTP/1.1"},
		{"Go's default", nil, true, tls.X25519MLKEM768, "HTTP/2.0"},
		{"X25519 first, then the hybrid", []tls.CurveID{tls.X25519, tls.X25519MLKEM768}, true, tls.X25519MLKEM768, "HTTP/2.0"},
	} {
		resp, err := client(c.curves, c.h2, 0).Get("https://" + addr + PathPrefix + "health")
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS.CurveID != c.curve || resp.Proto != c.proto || resp.TLS.Version != tls.VersionTLS13 {
			t.Errorf("%s: %d over %s, %v, TLS %x; want 200 over %s, %v", c.name, resp.StatusCode, resp.Proto, resp.TLS.CurveID, resp.TLS.Version, c.proto, c.curve)
		}
	}
	if resp, err := client(nil, true, tls.VersionTLS12).Get("https://" + addr + PathPrefix + "health"); err == nil {
		resp.Body.Close()
		t.Error("TLS 1.2 accepted")
	}
	waitFor(t, func() bool { return len(rec.find("http server", "err")) > 0 }) // the refused handshake's
	// The one line: the TLS 1.2 handshake refused.
	if lines := rec.find("http server", "err"); len(lines) != 1 || !strings.Contains(lines[0], "handshake") {
		t.Errorf("logged %q", lines)
	}
}
