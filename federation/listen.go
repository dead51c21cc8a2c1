package federation

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"
)

// ListenAndServe serves the node alone on addr over mutual TLS
// ([Node.ServerTLSConfig]) until ctx is cancelled, then shuts down
// gracefully. It returns the listener's address on ready, if not nil,
// once it accepts connections.
//
// It bounds the connections it holds (PROTOCOL.md 5.3): in total, idle
// and slow ones and those still in their handshake included (beyond it,
// new connections wait to be accepted), and per partner (beyond it, the
// partner's handshake fails); it closes at once, before any handshake,
// the connections of an address whose connections keep ending without a
// partner's handshake (beyond a burst of 64, 16 a second); and it times
// out a handshake and a request
// header after 5 seconds, a request body after 30 seconds (more for
// batches above 2^16), an idle connection after 30 seconds. Its error
// lines (failed handshakes, for one, which anyone who can reach the port
// causes) go to Config.Logger as warnings, the first of each kind per
// minute and then a count. A server of one's own that mounts
// [Node.Handler] sets such limits itself.
func (n *Node) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	lim := &n.srv.lim
	cl := &connLimiter{Listener: netutil.LimitListener(ln, lim.conns), max: lim.partnerConns, byPartner: map[string]int{},
		unauth: newAddrBuckets(lim.failedBurst, lim.failedRate, time.Now), log: n.log}
	srv := &http.Server{
		Handler:           n.Handler(),
		TLSConfig:         n.limitedTLSConfig(cl),
		ReadHeaderTimeout: lim.readHeader, // also bounds the TLS handshake
		ReadTimeout:       lim.read,       // per request, HTTP/2 streams too
		// Room to evaluate the largest batch on a busy node.
		WriteTimeout: lim.write,
		IdleTimeout:  lim.idle, // HTTP/2 connections too
		ErrorLog:     log.New(logWriter{n.log}, "", 0),
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(cl, "", "") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shut)
		return ctx.Err()
	}
}

// limitedTLSConfig is the node's server TLS configuration, whose
// handshakes also count the connection against its partner's limit.
func (n *Node) limitedTLSConfig(cl *connLimiter) *tls.Config {
	c := n.ServerTLSConfig()
	get := c.GetConfigForClient
	c.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		hc, err := get(hello)
		if err != nil {
			return nil, err
		}
		hc.VerifyConnection = func(cs tls.ConnectionState) error {
			p, err := n.checkPeer(cs.PeerCertificates)
			if err != nil {
				return err
			}
			return cl.claim(hello.Conn, p.ID)
		}
		return hc, nil
	}
	return c
}

// A connLimiter counts its connections by partner, once their handshake
// names it (claim). It also closes at once, before any handshake, the
// connections of an address whose connections keep ending without a
// partner's handshake (refused, failed or never made): each costs the
// node a handshake's computation, which anyone who reaches the port can
// make it spend.
type connLimiter struct {
	net.Listener
	max       int
	unauth    *addrBuckets
	log       *slog.Logger
	mu        sync.Mutex
	byPartner map[string]int
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if addr := remoteKey(c); !l.unauth.allowed(addr) {
			c.Close()
			l.log.Warn("connection refused", "err", "connections from "+addr+" keep ending without a partner's handshake")
			continue
		}
		return &partnerConn{Conn: c, l: l}, nil
	}
}

// claim counts conn as partner's, or refuses it if the partner holds as
// many connections as it may.
func (l *connLimiter) claim(conn net.Conn, partner string) error {
	pc, ok := conn.(*partnerConn)
	if !ok {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if pc.closed || pc.partner != "" {
		return nil
	}
	if l.byPartner[partner] >= l.max {
		return fmt.Errorf("federation: partner %s holds %d connections, the limit", partner, l.max)
	}
	l.byPartner[partner]++
	pc.partner = partner
	return nil
}

// A partnerConn is a connection of a connLimiter.
type partnerConn struct {
	net.Conn
	l       *connLimiter
	partner string // once claimed; guarded by l.mu
	closed  bool   // guarded by l.mu
}

func (c *partnerConn) Close() error {
	c.l.mu.Lock()
	first := !c.closed
	if first && c.partner != "" {
		if c.l.byPartner[c.partner]--; c.l.byPartner[c.partner] == 0 {
			delete(c.l.byPartner, c.partner)
		}
	}
	c.closed = true
	claimed := c.partner != ""
	c.l.mu.Unlock()
	if first && !claimed {
		c.l.unauth.take(remoteKey(c.Conn))
	}
	return c.Conn.Close()
}

// remoteKey is the address a connection is counted under: its IP, or its
// /64 for IPv6.
func remoteKey(c net.Conn) string {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	if a := ap.Addr().Unmap(); a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return ap.Addr().Unmap().String()
}

// addrBuckets is a token bucket per address: burst tokens, refilled at
// rate a second. It tracks at most maxTrackedAddrs addresses; beyond, a
// new address is not limited.
type addrBuckets struct {
	mu          sync.Mutex
	burst, rate float64
	now         func() time.Time
	buckets     map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

const maxTrackedAddrs = 4096

func newAddrBuckets(burst int, rate float64, now func() time.Time) *addrBuckets {
	return &addrBuckets{burst: float64(burst), rate: rate, now: now, buckets: map[string]*bucket{}}
}

// refill brings b's tokens to now. a.mu is held.
func (a *addrBuckets) refill(b *bucket, now time.Time) {
	b.tokens = min(a.burst, b.tokens+now.Sub(b.at).Seconds()*a.rate)
	b.at = now
}

// allowed reports whether addr has a token left.
func (a *addrBuckets) allowed(addr string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.buckets[addr]
	if b == nil {
		return true
	}
	a.refill(b, a.now())
	return b.tokens >= 1
}

// take takes a token of addr.
func (a *addrBuckets) take(addr string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	b := a.buckets[addr]
	if b == nil {
		if len(a.buckets) >= maxTrackedAddrs {
			for k, x := range a.buckets { // forget the addresses back to a full bucket
				if a.refill(x, now); x.tokens >= a.burst {
					delete(a.buckets, k)
				}
			}
			if len(a.buckets) >= maxTrackedAddrs {
				return
			}
		}
		b = &bucket{tokens: a.burst, at: now}
		a.buckets[addr] = b
	}
	a.refill(b, now)
	b.tokens = max(0, b.tokens-1)
}

// logWriter makes the lines of an http.Server's ErrorLog warnings of the
// node's logger, which counts repeated ones (repeatHandler).
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.log.Warn("http server", "err", strings.TrimSpace(string(p)))
	return len(p), nil
}
