package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// clock is a settable time source shared by the nodes of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testNode is a node with its mTLS server in the test process.
type testNode struct {
	*Node
	cfg     *Config
	server  *httptest.Server
	handler atomic.Pointer[http.Handler]
	list    []match.Entry
}

// testNet is a federation of nodes, all partners of each other.
type testNet struct {
	t     testing.TB
	clock *clock
	nodes []*testNode
}

// newTestNet starts n nodes. lists gives each node's watchlist; tweak, if
// not nil, adjusts a node's configuration before it starts.
func newTestNet(t testing.TB, lists [][]match.Entry, tweak func(i int, cfg *Config)) *testNet {
	t.Helper()
	tn := &testNet{t: t, clock: newClock()}
	keys := make([]ed25519.PrivateKey, len(lists))
	for i := range lists {
		_, keys[i], _ = ed25519.GenerateKey(rand.Reader)
		node := &testNode{list: lists[i]}
		node.server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			(*node.handler.Load()).ServeHTTP(w, r)
		}))
		tn.nodes = append(tn.nodes, node)
	}
	for i, node := range tn.nodes {
		cfg := &Config{
			ID:        fmt.Sprintf("agency-%d", i),
			Identity:  keys[i],
			StateDir:  t.TempDir(),
			Watchlist: func() iter.Seq2[match.Entry, error] { return seq2(node.list) },
			Now:       tn.clock.Now,
			MaxBatch:  4096,
		}
		for j := range tn.nodes {
			if j == i {
				continue
			}
			cfg.Partners = append(cfg.Partners, Partner{
				ID:            fmt.Sprintf("agency-%d", j),
				URL:           "https://" + tn.nodes[j].server.Listener.Addr().String(),
				SPKI:          IdentitySPKI(keys[j].Public().(ed25519.PublicKey)),
				Identity:      keys[j].Public().(ed25519.PublicKey),
				Kinds:         []string{"*"},
				Budget:        1 << 20,
				ReleaseLabels: []string{"*"},
			})
		}
		if tweak != nil {
			tweak(i, cfg)
		}
		node.cfg = cfg
		n, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		node.Node = n
		h := n.Handler()
		node.handler.Store(&h)
		node.server.TLS = n.ServerTLSConfig()
		node.server.StartTLS()
		t.Cleanup(func() {
			node.server.Close()
			node.Node.Close()
		})
	}
	return tn
}

// partnerOf returns n's configuration of partner id: the *Partner its
// Matcher uses.
func partnerOf(n *Node, id string) *Partner {
	for i := range n.cfg.Partners {
		if n.cfg.Partners[i].ID == id {
			return &n.cfg.Partners[i]
		}
	}
	panic("no partner " + id)
}

// restart closes node i and opens its state directory again.
func (tn *testNet) restart(i int) {
	tn.t.Helper()
	node := tn.nodes[i]
	node.Node.Close()
	n, err := New(node.cfg)
	if err != nil {
		tn.t.Fatal(err)
	}
	node.Node = n
	h := n.Handler()
	node.handler.Store(&h)
}

func (tn *testNet) publishAll() {
	tn.t.Helper()
	for _, node := range tn.nodes {
		if err := node.Publish(context.Background()); err != nil {
			tn.t.Fatal(err)
		}
	}
}

func emails(t testing.TB, prefix string, from, n int) []indicator.Indicator {
	out := make([]indicator.Indicator, n)
	for i := range out {
		out[i] = indicator.MustNew(indicator.Email, fmt.Sprintf("%s%d@example.org", prefix, from+i))
	}
	return out
}

func entries(inds []indicator.Indicator, label string) []match.Entry {
	es := make([]match.Entry, len(inds))
	for i, ind := range inds {
		es[i] = match.Entry{Indicator: ind, Label: fmt.Sprintf("%s %d", label, i), Ref: fmt.Sprintf("ref-%d", i)}
	}
	return es
}

func hitSet(hits []match.Hit) map[string]string {
	m := map[string]string{}
	for _, h := range hits {
		m[h.Indicator.String()] = strings.Join(h.Labels, "; ")
	}
	return m
}

// seq2 is a watchlist that never fails.
func seq2(list []match.Entry) iter.Seq2[match.Entry, error] {
	return func(yield func(match.Entry, error) bool) {
		for _, e := range list {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// waitFor polls cond for up to five seconds.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

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

// rawClient is an HTTPS client presenting cert, not verifying the server
// (the tests look at what the server does).
func rawClient(cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	// Generous: under -race on a loaded machine a batch can take seconds.
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: time.Minute}
}

// evalBody is a valid evaluation request for node's filter.
func evalBody(t *testing.T, f *match.Filter, n int) []byte {
	t.Helper()
	return evalBodyOf(t, f, emails(t, "probe", 0, n)...)
}

// evalBodyOf is the evaluation request of inds for node's filter.
func evalBodyOf(t *testing.T, f *match.Filter, inds ...indicator.Indicator) []byte {
	t.Helper()
	q, err := match.NewQuerier(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, req, err := q.Blind(inds)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := req.MarshalBinary()
	return b
}
