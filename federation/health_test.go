package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// The health answer tells a partner the limits the node applies to it,
// and they are the limits the node enforces: a batch or a body one above
// is refused too_large. Regression: a partner learnt them only from a 413.
func TestHealth(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.MaxBatch = 100
			cfg.Partners[0].Budget = 50
		}
	})
	target, from := tn.nodes[0], tn.nodes[1]
	ctx := context.Background()
	h, err := from.Health(ctx, "agency-0")
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{MaxBatch: 100, MaxRequestBytes: 256 + 100*33, Requests: 32, BodyBytes: 16 << 20,
		LongPolls: 4, MaxWaitSeconds: 60, Budget: 50, BudgetLeft: 50}
	if h.Node != "agency-0" || h.Published || h.Epoch != 0 || h.Limits == nil || *h.Limits != want {
		t.Fatalf("before publication: %+v %+v", h, h.Limits)
	}
	tn.publishAll()
	if status, code := post(t, from, target, "evaluate", evalBody(t, target.Filter(), 3)); status != 200 {
		t.Fatal(status, code)
	}
	if h, err = from.Health(ctx, "agency-0"); err != nil {
		t.Fatal(err)
	}
	want.BudgetLeft, want.Confirmable = 47, 3
	if !h.Published || h.Epoch != 1 || *h.Limits != want {
		t.Errorf("after an evaluation of 3: %+v %+v", h, h.Limits)
	}
	// What the node enforces.
	good := evalBody(t, target.Filter(), 1)
	confirmOf := func(n int) []byte {
		b := slices.Concat([]byte("FDMT\x01\x04"), good[6:8+match.KeyIDSize])
		return binary.BigEndian.AppendUint32(b, uint32(n))
	}
	if status, code := post(t, from, target, "confirm", confirmOf(h.Limits.MaxBatch+1)); status != 413 || code != CodeTooLarge {
		t.Errorf("a batch of MaxBatch+1: %d %s", status, code)
	}
	if status, code := post(t, from, target, "evaluate", make([]byte, h.Limits.MaxRequestBytes+1)); status != 413 || code != CodeTooLarge {
		t.Errorf("a body of MaxRequestBytes+1: %d %s", status, code)
	}
	// The names on the wire, as PROTOCOL.md 5.3 gives them.
	resp, err := rawClient(from.certificate()).Get(target.server.URL + PathPrefix + "health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	var lim map[string]any
	json.Unmarshal(raw["limits"], &lim)
	var keys []string
	for k := range lim {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if got := strings.Join(keys, " "); got != "bodyBytes budget budgetLeft confirmable longPolls maxBatch maxRequestBytes maxWaitSeconds requests" ||
		string(raw["node"]) != `"agency-0"` || string(raw["published"]) != "true" || string(raw["epoch"]) != "1" ||
		resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("health answer %v, limits %s", raw, got)
	}
	if _, err := from.Health(ctx, "agency-9"); err == nil {
		t.Error("the health of no partner")
	}
}

// A health answer is one JSON object naming a node; a cut one, one
// followed by more, one above the size limit, or with a negative limit is
// refused; unknown fields are ignored and a node that predates the limits
// gives none.
func TestParseHealth(t *testing.T) {
	good := []byte(`{"node":"cert-a","epoch":3,"published":true,"limits":{"maxBatch":65536,"maxRequestBytes":2162944,` +
		`"requests":32,"bodyBytes":18022400,"longPolls":4,"maxWaitSeconds":60,"budget":100,"budgetLeft":90,"confirmable":10}}`)
	h, err := parseHealth(append(bytes.Clone(good), '\n'))
	if err != nil || h.Node != "cert-a" || h.Epoch != 3 || h.Limits == nil || h.Limits.MaxBatch != 65536 || h.Limits.Confirmable != 10 {
		t.Fatalf("%+v, %v", h, err)
	}
	for n := range len(good) {
		if _, err := parseHealth(good[:n]); err == nil {
			t.Fatalf("cut at %d: accepted", n)
		}
	}
	if h, err := parseHealth([]byte(`{"node":"cert-a","epoch":0,"published":false,"later":{"x":1}}`)); err != nil || h.Limits != nil {
		t.Errorf("an older node's answer with an unknown field: %+v, %v", h, err)
	}
	for name, b := range map[string][]byte{
		"two objects":    append(bytes.Clone(good), good...),
		"trailing":       append(bytes.Clone(good), 'x'),
		"no node":        []byte(`{"epoch":1}`),
		"bad node id":    []byte(`{"node":"a b"}`),
		"negative limit": []byte(`{"node":"a","limits":{"maxBatch":-1}}`),
		"array":          []byte(`[]`),
		"oversized":      append(append([]byte(`{"node":"a","x":"`), bytes.Repeat([]byte("y"), maxHealthBody)...), `"}`...),
	} {
		if _, err := parseHealth(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseHealth(f *testing.F) {
	f.Add([]byte(`{"node":"cert-a","epoch":3,"published":true,"limits":{"maxBatch":65536}}`))
	f.Add([]byte(`{"node":"a"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := parseHealth(data)
		if err == nil && (h == nil || !validID(h.Node)) {
			t.Fatalf("accepted %q as %+v", data, h)
		}
	})
}

// Every endpoint needs a partner's certificate, health and unknown paths
// included: under ListenAndServe the handshake fails without one; a
// handler mounted behind a TLS configuration that lets anyone in answers
// 401 or 403 on every path. Regression: the mounted handler answered an
// unknown path 404 to anyone.
func TestEveryEndpointNeedsAPartner(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{nil, nil}, nil)
	tn.publishAll()
	node, partner := tn.nodes[0], tn.nodes[1]
	addr := serve(t, node)
	paths := []string{"health", "filter", "evaluate", "confirm", "count-filter", "count", "no-such-endpoint"}
	for _, path := range paths {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, _ := http.NewRequest(method, "https://"+addr+PathPrefix+path, nil)
			if resp, err := rawClient(nil).Do(req); err == nil {
				resp.Body.Close()
				t.Errorf("ListenAndServe, %s %s without a certificate: %d", method, path, resp.StatusCode)
			}
		}
	}
	resp, err := rawClient(partner.certificate()).Get("https://" + addr + PathPrefix + "health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the partner's health request: %v %v", resp, err)
	}
	resp.Body.Close()

	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	unknown, _ := SelfSignedCertificate("stranger", stranger, tn.clock.Now(), time.Hour)
	srv := httptest.NewUnstartedServer(node.Handler())
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	for _, path := range append(paths, "../secrets") {
		for name, c := range map[string]struct {
			cert   *tls.Certificate
			status int
			code   string
		}{
			"none":    {nil, 401, CodeNoClientCertificate},
			"unknown": {&unknown, 403, CodeUnknownPartner},
		} {
			resp, err := rawClient(c.cert).Get(srv.URL + PathPrefix + path)
			if err != nil {
				t.Fatal(err)
			}
			var ae apiError
			json.NewDecoder(resp.Body).Decode(&ae)
			resp.Body.Close()
			if resp.StatusCode != c.status || ae.Error != c.code {
				t.Errorf("mounted, %s certificate, %s: %d %s, want %d %s", name, path, resp.StatusCode, ae.Error, c.status, c.code)
			}
		}
	}
	resp, err = rawClient(partner.certificate()).Get(srv.URL + PathPrefix + "no-such-endpoint")
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("mounted, the partner, an unknown path: %v %v", resp, err)
	}
	resp.Body.Close()
}
