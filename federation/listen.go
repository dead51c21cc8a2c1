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
// new connections wait to be accepted); per partner (beyond it, the
// partner's handshake fails); the connections a partner opens (beyond a
// burst of 64, then 16 a second, its handshakes fail); and per address,
// those without a partner's handshake: 16 at once, and those that end
// without one a burst of 64, then 16 a second. Beyond these, an
// address's new connections are closed at once, before any handshake;
// and beyond 256 such refusals a second in all, new connections wait in
// the kernel's queue, so that a flood of connections costs the node a
// bounded share of its processors. An established connection is not
// affected; a new one, of any address, waits its turn behind the flood's:
// 1.6 to 1.7 seconds in the load test (500 connections re-opened as soon as
// closed), at most the kernel's accept queue (net.core.somaxconn, 4096 on
// current Linux) at 256 a second, 16 seconds. Partners keep their
// connections open, so this delays little but a partner's first request. It times out a
// handshake and a request header after 5 seconds, a request body after
// 30 seconds (more for batches above 2^16), an idle connection after 30
// seconds. Its error lines (failed handshakes, for one, which anyone who
// can reach the port causes) go to Config.Logger as warnings, the first
// of each kind per minute and then a count. A server of one's own that
// mounts [Node.Handler] sets such limits itself.
func (n *Node) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	lim := &n.srv.lim
	cl := &connLimiter{Listener: netutil.LimitListener(ln, lim.conns), max: lim.partnerConns, pending: lim.partnerConns,
		byPartner: map[string]int{}, byAddr: map[string]int{},
		unauth:   newAddrBuckets(lim.failedBurst, lim.failedRate, time.Now),
		opened:   newAddrBuckets(lim.openBurst, lim.openRate, time.Now),
		refusals: newAddrBuckets(lim.refusedBurst, lim.refusedRate, time.Now), log: n.log}
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
// names it (claim), and limits the rate at which a partner opens them.
// It also limits, per address, the connections that have not named a
// partner: at most pending at once, and those that end without a
// partner's handshake (refused, failed or never made) to a burst and then
// a rate. Each costs the node a handshake's computation and a connection
// slot, which anyone who reaches the port can make it spend. Beyond
// either, an address's new connections are closed at once, before any
// handshake; beyond a rate of such refusals in all, new connections are
// accepted at that rate, so that a flood of connections costs the node a
// bounded share of its processors. A connection is charged to its address's bucket when it is
// accepted, and the charge is given back when it names a partner, so
// that connections held in a handshake count at once. A partner that
// opens connections too fast has its handshakes refused, which then
// count against its address.
type connLimiter struct {
	net.Listener
	max      int          // connections per partner
	pending  int          // connections per address without a partner
	unauth   *addrBuckets // by address
	opened   *addrBuckets // by partner
	refusals *addrBuckets // of all connections closed at Accept, under ""

	log       *slog.Logger
	mu        sync.Mutex
	byPartner map[string]int
	byAddr    map[string]int // connections without a partner yet
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := remoteKey(c)
		l.mu.Lock()
		why := ""
		if l.byAddr[addr] >= l.pending {
			why = fmt.Sprintf("connections from %s: %d without a partner's handshake at once, the limit", addr, l.pending)
		} else if !l.unauth.take(addr) {
			why = "connections from " + addr + " keep ending without a partner's handshake"
		} else {
			l.byAddr[addr]++
		}
		l.mu.Unlock()
		if why != "" {
			l.log.Warn("connection refused", "err", why) // before the close that the peer sees
			c.Close()
			for l.refusals.rate > 0 && !l.refusals.take("") {
				// Refusing faster than the rate: new connections wait
				// in the kernel's queue, so that refusing costs the node
				// a bounded share of its processors.
				time.Sleep(time.Duration(float64(time.Second) / l.refusals.rate))
			}
			continue
		}
		return &partnerConn{Conn: c, l: l, addr: addr}, nil
	}
}

// unpend ends c's count as a connection without a partner. l.mu is held.
func (l *connLimiter) unpend(c *partnerConn) {
	if l.byAddr[c.addr]--; l.byAddr[c.addr] <= 0 {
		delete(l.byAddr, c.addr)
	}
}

// claim counts conn as partner's, or refuses it if the partner holds as
// many connections as it may or opens them faster than it may.
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
	if !l.opened.take(partner) {
		return fmt.Errorf("federation: partner %s opens connections faster than %g a second, the limit", partner, l.opened.rate)
	}
	l.byPartner[partner]++
	pc.partner = partner
	l.unpend(pc)
	l.unauth.give(pc.addr)
	return nil
}

// A partnerConn is a connection of a connLimiter.
type partnerConn struct {
	net.Conn
	l       *connLimiter
	addr    string // remoteKey(Conn)
	partner string // once claimed; guarded by l.mu
	closed  bool   // guarded by l.mu
}

func (c *partnerConn) Close() error {
	c.l.mu.Lock()
	if !c.closed {
		if c.partner != "" {
			if c.l.byPartner[c.partner]--; c.l.byPartner[c.partner] == 0 {
				delete(c.l.byPartner, c.partner)
			}
		} else {
			c.l.unpend(c)
		}
	}
	c.closed = true
	c.l.mu.Unlock()
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

// addrBuckets is a token bucket per key (an address, a partner): burst
// tokens, refilled at rate a second. It tracks at most maxTrackedAddrs
// keys; beyond, a new key is not limited.
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

// take takes a token of key and reports whether there was one; a key
// that cannot be tracked (the table is full of keys still limited) has
// one.
func (a *addrBuckets) take(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	b := a.buckets[key]
	if b == nil {
		if len(a.buckets) >= maxTrackedAddrs {
			for k, x := range a.buckets { // forget the keys back to a full bucket
				if a.refill(x, now); x.tokens >= a.burst {
					delete(a.buckets, k)
				}
			}
			if len(a.buckets) >= maxTrackedAddrs {
				return true
			}
		}
		b = &bucket{tokens: a.burst, at: now}
		a.buckets[key] = b
	}
	a.refill(b, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// give gives key back a token it took.
func (a *addrBuckets) give(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if b := a.buckets[key]; b != nil {
		a.refill(b, a.now())
		b.tokens = min(a.burst, b.tokens+1)
	}
}

// logWriter makes the lines of an http.Server's ErrorLog warnings of the
// node's logger, which counts repeated ones (repeatHandler).
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.log.Warn("http server", "err", strings.TrimSpace(string(p)))
	return len(p), nil
}
