package federation

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// recorder is a log handler that keeps what it is given.
type recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}

// find returns the records with message msg, and the value of attribute
// key of each.
func (r *recorder) find(msg, key string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.recs {
		if rec.Message != msg {
			continue
		}
		v := ""
		rec.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v = a.Value.String()
			}
			return true
		})
		out = append(out, v)
	}
	return out
}

// serve runs node's ListenAndServe until the test ends, and returns its
// address.
func serve(t *testing.T, node *testNode) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- node.ListenAndServe(ctx, "127.0.0.1:0", func(a net.Addr) { addrc <- a }) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case a := <-addrc:
		return a.String()
	case err := <-done:
		t.Fatal(err)
	}
	return ""
}

// Failed TLS handshakes, which anyone who reaches the port causes, make a
// few log lines and a count per minute, not a line each. Regression: the server
// wrote every one to the standard logger, about 115 bytes per attempt at
// 2,900 attempts a second from one client.
func TestHandshakeErrorsLogged(t *testing.T) {
	rec := &recorder{}
	tn := newTestNet(t, [][]match.Entry{nil}, func(i int, cfg *Config) { cfg.Logger = slog.New(rec) })
	node := tn.nodes[0]
	addr := serve(t, node)
	const attempts = 50
	for range attempts {
		c, err := tls.Dial("tcp", addr, &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true})
		if err == nil {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			c.Read(make([]byte, 1)) // the server's alert
			c.Close()
		}
	}
	waitFor(t, func() bool { return len(rec.find("http server", "err")) > 0 })
	time.Sleep(100 * time.Millisecond) // the last errors
	node.Close()
	first, repeated := rec.find("http server", "err"), rec.find("http server (repeated)", "repeated")
	if len(first) != repeatBurst || !strings.Contains(first[0], "TLS handshake error") || len(repeated) != 1 || repeated[0] != fmt.Sprint(attempts-repeatBurst) {
		t.Errorf("logged %d lines (%q), then %q repeated", len(first), first[:min(1, len(first))], repeated)
	}
}

// A failing disk makes a few error lines and a count per minute, not a
// line per request. Regression: a full disk logged 193,846 lines in 10 s.
func TestRepeatedErrorsLogged(t *testing.T) {
	rec := &recorder{}
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Logger = slog.New(rec)
		}
	})
	target := tn.nodes[0]
	target.Node.Close()
	cfg, err := target.cfg.check(true)
	if err != nil {
		t.Fatal(err)
	}
	m := newMemStore()
	n, err := newNode(cfg, m)
	if err != nil {
		t.Fatal(err)
	}
	target.Node = n
	h := n.Handler()
	target.handler.Store(&h)
	if err := n.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.fault = func(op, name string) error {
		if name == budgetsFile {
			return errors.New("no space left on device")
		}
		return nil
	}
	body := evalBody(t, n.Filter(), 3)
	for range 30 {
		if status, code := post(t, tn.nodes[1], target, "evaluate", body); status != 500 {
			t.Fatalf("%d %s", status, code)
		}
	}
	n.Close()
	first, repeated := rec.find("budget", "err"), rec.find("budget (repeated)", "repeated")
	if len(first) != repeatBurst || !strings.Contains(first[0], "no space left on device") || len(repeated) != 1 || repeated[0] != fmt.Sprint(30-repeatBurst) {
		t.Errorf("logged %d lines (%q), then %q repeated", len(first), first[:min(1, len(first))], repeated)
	}
}

// dialPartner connects to addr as node, over TLS (within timeout, if not
// zero), and sends one request for the health endpoint on the connection.
// It returns the connection, open, or the error of the handshake or the
// request.
func dialPartner(node *testNode, addr string, timeout time.Duration) (*tls.Conn, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", addr, &tls.Config{MinVersion: tls.VersionTLS13,
		InsecureSkipVerify: true, Certificates: []tls.Certificate{*node.certificate()}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("GET " + PathPrefix + "health HTTP/1.1\r\nHost: node\r\n\r\n")); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		c.Close()
		return nil, errors.New(resp.Status)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// ListenAndServe bounds each partner's connections, and all connections.
// Regression: nothing bounded them, and a partner held 500.
func TestConnectionLimits(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{nil, nil, nil}, nil)
	node, p1, p2 := tn.nodes[0], tn.nodes[1], tn.nodes[2]
	node.srv.lim.partnerConns, node.srv.lim.conns = 2, 4
	addr := serve(t, node)
	// Two connections of agency-1; a third is refused in its handshake.
	var conns []*tls.Conn
	for range 2 {
		c, err := dialPartner(p1, addr, 0)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if c, err := dialPartner(p1, addr, 0); err == nil {
		c.Close()
		t.Fatal("a third connection of a partner limited to two")
	}
	// agency-2 is not held up by them.
	c, err := dialPartner(p2, addr, 0)
	if err != nil {
		t.Fatalf("another partner: %v", err)
	}
	conns = append(conns, c)
	// A fourth connection, without a handshake; a fifth waits to be
	// accepted until one is closed.
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := dialPartner(p2, addr, 300*time.Millisecond); err == nil {
		c.Close()
		t.Fatal("a fifth connection")
	}
	raw.Close()
	waitFor(t, func() bool {
		c, err := dialPartner(p2, addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	for _, c := range conns {
		c.Close()
	}
}

// ListenAndServe closes a handshake never made, an idle connection and a
// body sent too slowly when their time is over. Regression: it allowed
// two minutes for each, in which the connection counted for nothing.
func TestConnectionTimeouts(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	node, p1 := tn.nodes[0], tn.nodes[1]
	lim := &node.srv.lim
	lim.readHeader, lim.read, lim.idle = 300*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
	addr := serve(t, node)
	closed := func(what string, c net.Conn) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s kept open", what)
		}
		c.Close()
	}
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	closed("a connection without a handshake", raw)
	idle, err := dialPartner(p1, addr, 0)
	if err != nil {
		t.Fatal(err)
	}
	closed("an idle connection", idle)
	start := time.Now()
	tryStalledPost(t, p1, "https://"+addr, "evaluate", evalBody(t, node.Filter(), 100), 100, 3*time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a stalled body held its request %v", d)
	}
	// A request whose body is read waits for its turn longer than the
	// body may take, and is served.
	release, err := node.srv.gate.acquire(context.Background(), "agency-1", 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(time.Second, release)
	resp, err := rawClient(p1.certificate()).Post("https://"+addr+PathPrefix+"evaluate", "application/octet-stream",
		bytes.NewReader(evalBody(t, node.Filter(), 10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a request that waited its turn for a second: %d", resp.StatusCode)
	}
}

// An address whose connections keep ending without a partner's handshake
// has its next connections closed before any handshake, until its
// bucket refills. Regression: every connection cost the node a full
// handshake (an outsider's too), about 700 a second from a partner
// beyond its connection limit.
func TestFailedHandshakesLimited(t *testing.T) {
	rec := &recorder{}
	tn := newTestNet(t, [][]match.Entry{nil, nil}, func(i int, cfg *Config) { cfg.Logger = slog.New(rec) })
	node := tn.nodes[0]
	node.srv.lim.failedBurst, node.srv.lim.failedRate = 5, 0.001
	addr := serve(t, node)
	outsider := func() error {
		c, err := tls.Dial("tcp", addr, &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true})
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		return err
	}
	for range 5 {
		outsider()
	}
	waitFor(t, func() bool { return len(rec.find("http server", "err")) == 5 })
	time.Sleep(50 * time.Millisecond) // the last connection's close
	outsider()
	if refused := rec.find("connection refused", "err"); len(refused) != 1 || !strings.Contains(refused[0], "127.0.0.1") {
		t.Errorf("refused %q", refused)
	}
	if n := len(rec.find("http server", "err")); n != 5 {
		t.Errorf("%d handshakes, want 5", n)
	}
}

// Connections of an address that have not named a partner count at
// once: beyond the limit of pending connections, or once the connections
// held in their handshake have used the address's burst, the next is
// closed before any handshake, while a partner's connections, which give
// their charge back, are not limited by them. Regression: a connection
// was charged only when it ended, so that 500 held without a handshake
// were all accepted and took the node's connection slots, and a partner's
// own connections used up its address's burst.
func TestPendingConnectionsLimited(t *testing.T) {
	rec := &recorder{}
	tn := newTestNet(t, [][]match.Entry{nil, nil}, func(i int, cfg *Config) { cfg.Logger = slog.New(rec) })
	node, p1 := tn.nodes[0], tn.nodes[1]
	lim := &node.srv.lim
	lim.partnerConns, lim.failedBurst, lim.failedRate = 4, 6, 0.001
	addr := serve(t, node)
	// A partner's connections, one after the other, more than the
	// burst: each gives its charge back.
	for i := range 8 {
		c, err := dialPartner(p1, addr, 0)
		if err != nil {
			t.Fatalf("partner's connection %d: %v", i+1, err)
		}
		c.Close()
	}
	closedAtOnce := func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(time.Second))
		_, err = c.Read(make([]byte, 1))
		return !errors.Is(err, os.ErrDeadlineExceeded)
	}
	var held []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	waitFor(t, func() bool { return len(rec.find("connection refused", "err")) > 0 || closedAtOnce() })
	if refused := rec.find("connection refused", "err"); len(refused) == 0 || !strings.Contains(refused[0], "without a partner's handshake at once") {
		t.Fatalf("refused %q", refused)
	}
	if _, err := dialPartner(p1, addr, 0); err == nil {
		t.Error("a partner's connection accepted beyond the address's pending connections")
	}
}

// Beyond the rate of refusals, of all addresses, new connections wait to
// be accepted: refusing them costs the node a bounded share of its
// processors. Regression: 500 clients that reconnected as soon as they
// were refused made the node accept and close 3,000 connections a second.
func TestRefusalsPaced(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{nil, nil}, nil)
	node := tn.nodes[0]
	lim := &node.srv.lim
	lim.failedBurst, lim.failedRate = 1, 0.001
	lim.refusedBurst, lim.refusedRate = 1, 10
	addr := serve(t, node)
	refusedAt := func() time.Time {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		c.Read(make([]byte, 1))
		return time.Now()
	}
	c, err := net.Dial("tcp", addr) // uses the address's burst
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	waitFor(t, func() bool {
		c, _ := net.Dial("tcp", addr)
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(time.Second))
		_, err := c.Read(make([]byte, 1))
		return !errors.Is(err, os.ErrDeadlineExceeded)
	})
	start := refusedAt()
	for range 5 {
		refusedAt()
	}
	// The first refusal used the burst; each of the next waited 100 ms.
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("5 refusals at a rate of 10 a second took %v", d)
	}
}

// A partner that opens connections faster than its rate has its
// handshakes refused, and those count against its address. Regression: a
// partner whose refused requests closed their connections (a 429 whose
// body is not read) made the node pay a full handshake for each, 1,300 a
// second in the load test.
func TestPartnerConnectionRate(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{nil, nil, nil}, nil)
	node, p1, p2 := tn.nodes[0], tn.nodes[1], tn.nodes[2]
	lim := &node.srv.lim
	lim.openBurst, lim.openRate = 3, 0.001
	lim.failedBurst, lim.failedRate = 2, 0.001
	addr := serve(t, node)
	dial := func(p *testNode) bool {
		c, err := dialPartner(p, addr, 0)
		if err == nil {
			c.Close()
		}
		time.Sleep(20 * time.Millisecond) // the node's close
		return err == nil
	}
	for i := range 3 {
		if !dial(p1) {
			t.Fatalf("agency-1's connection %d refused", i+1)
		}
	}
	if !dial(p2) {
		t.Fatal("agency-2 limited by agency-1's rate")
	}
	// Beyond its burst, agency-1's handshakes fail, and empty the
	// address's bucket of failures; then the address's connections are
	// closed before any handshake, agency-2's too (same address).
	for i := range 2 {
		if dial(p1) {
			t.Fatalf("agency-1's connection %d, beyond its burst of 3, accepted", 4+i)
		}
	}
	if dial(p2) {
		t.Fatal("a connection from an address whose connections keep failing accepted")
	}
}

// TestAddrBuckets: a burst, then the rate; addresses back to a full
// bucket are forgotten when the table is full.
func TestAddrBuckets(t *testing.T) {
	clk := newClock()
	a := newAddrBuckets(3, 2, clk.Now)
	for range 3 {
		if !a.take("x") {
			t.Fatal("refused within the burst")
		}
	}
	if a.take("x") || !a.take("y") {
		t.Fatal("the burst is per address")
	}
	a.give("x")
	if !a.take("x") || a.take("x") {
		t.Fatal("a token given back is one token")
	}
	clk.Advance(500 * time.Millisecond)
	if !a.take("x") {
		t.Fatal("not refilled at the rate")
	}
	if a.take("x") {
		t.Fatal("two tokens from half a second")
	}
	a.give("y")
	a.give("y")
	if b := a.buckets["y"]; b.tokens != 3 {
		t.Errorf("y has %v tokens, more than its burst of 3", b.tokens)
	}
	for i := range maxTrackedAddrs + 10 {
		a.take(fmt.Sprint("addr-", i))
	}
	if len(a.buckets) > maxTrackedAddrs {
		t.Errorf("%d addresses tracked", len(a.buckets))
	}
	if !a.take("untracked") {
		t.Error("an address that cannot be tracked is limited")
	}
	clk.Advance(time.Hour)
	a.take("new")
	if len(a.buckets) != 1 {
		t.Errorf("%d addresses tracked after they refilled", len(a.buckets))
	}
}
