package federation

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// The client does not follow redirects, and fetches filters far larger
// than its own batch size allows for other answers. Regression: a
// partner's filter was held to the limit of a confirm response of this
// node's MaxBatch, and a redirect was followed off the pinned connection.
func TestClientLimits(t *testing.T) {
	big := entries(emails(t, "x", 0, 20000), "L")
	tn := newTestNet(t, [][]match.Entry{big, nil}, func(i int, cfg *Config) {
		if i == 1 {
			cfg.MaxBatch = 64
		}
	})
	tn.publishAll()
	if r := tn.nodes[1].Match(context.Background(), emails(t, "x", 0, 100))[0]; r.Err != nil || len(r.Hits) != 100 {
		t.Fatalf("a 20000-entry filter with MaxBatch 64: %d hits, %v", len(r.Hits), r.Err)
	}

	// A server presenting the pinned certificate but redirecting.
	var followed atomic.Bool
	pub := tn.nodes[0]
	redirector := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/elsewhere") {
			followed.Store(true)
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	redirector.TLS = pub.ServerTLSConfig()
	redirector.StartTLS()
	defer redirector.Close()
	p := *partnerOf(tn.nodes[1].Node, "agency-0")
	p.URL = redirector.URL
	m := tn.nodes[1].Matcher
	delete(m.clients, p.ID)
	c := m.client(&p)
	delete(m.clients, p.ID) // keep the shared cache clean
	var re *RemoteError
	if _, err := c.refresh(context.Background()); !errors.As(err, &re) || re.Status != http.StatusTemporaryRedirect {
		t.Error("a redirect was accepted as a filter")
	}
	if followed.Load() {
		t.Error("the client followed a redirect")
	}
}

// A confirm answer carries up to MaxRepeats labels of MaxLabelLen bytes
// for each tag, and the client's bound on it follows the request's tags.
// Regression test: the bound was MaxLabelLen per tag of Config.MaxBatch,
// so a node with small batches refused its partner's honest answer about
// an indicator that many of the partner's cases share.
func TestClientLargeConfirmAnswer(t *testing.T) {
	shared := indicator.MustNew(indicator.Email, "shared@example.org")
	var list []match.Entry
	for i := range match.MaxRepeats {
		label := fmt.Sprintf("case %02d ", i) + strings.Repeat("x", match.MaxLabelLen-8)
		list = append(list, match.Entry{Indicator: shared, Label: label})
	}
	tn := newTestNet(t, [][]match.Entry{list, nil}, func(i int, cfg *Config) {
		if i == 1 {
			cfg.MaxBatch = 16
		}
	})
	tn.publishAll()
	r := tn.nodes[1].Match(context.Background(), []indicator.Indicator{shared})[0]
	if r.Err != nil || len(r.Hits) != 1 || len(r.Hits[0].Labels) != match.MaxRepeats {
		t.Fatalf("hits %d, err %v", len(r.Hits), r.Err)
	}
}

// bigFilter returns a filter of node's key declaring n entries, of
// 8·words bytes of bits, none set: it passes every density check, so it
// costs the querier only memory.
func bigFilter(t testing.TB, node *testNode, n uint64, words int) *match.Filter {
	t.Helper()
	small, _ := node.Filter().MarshalBinary() // an empty list
	fixed := len(small) - 8*((node.Filter().Bits()+63)/64)
	fb := make([]byte, fixed+8*words)
	copy(fb, small[:fixed])
	binary.BigEndian.PutUint64(fb[fixed-17:], n)
	binary.BigEndian.PutUint64(fb[fixed-9:], 64*uint64(words))
	var f match.Filter
	if err := f.UnmarshalBinary(fb); err != nil {
		t.Fatal(err)
	}
	return &f
}

// filterServer serves sf, as node does, behind node's pinned certificate,
// and returns a client of querier's matcher to it as partner p.
func filterServer(t testing.TB, node, querier *testNode, sf *signedFilter, tweak func(*Partner)) *partnerClient {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sf.serve(w, r)
	}))
	srv.TLS = node.ServerTLSConfig()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p := *partnerOf(querier.Node, node.cfg.ID)
	p.URL = srv.URL
	if tweak != nil {
		tweak(&p)
	}
	return &partnerClient{m: querier.Matcher, p: &p, hc: querier.client(partnerOf(querier.Node, node.cfg.ID)).hc}
}

// acceptFilterMemory fetches a filter of 8·words bytes of bits through c
// and returns the bytes allocated and the peak heap growth while it did.
func acceptFilterMemory(t testing.TB, c *partnerClient) (total, peak uint64) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var top atomic.Uint64
	done, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > top.Load() {
				top.Store(ms.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	q, err := c.refresh(context.Background())
	close(done)
	<-sampled
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(q)
	return after.TotalAlloc - before.TotalAlloc, top.Load() - before.HeapAlloc
}

// Accepting a filter costs about its size. Regression test for finding 3
// of issue 8: the client read the body whole (growing it), copied it to
// verify the signature and decoded it into a third copy, 4.5 times the
// filter's size in all.
func TestFilterMemory(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{nil, nil}, nil)
	tn.publishAll()
	const words = 1 << 20 // 8 MiB
	sf, err := newSignedFilter("agency-0", tn.nodes[0].cfg.Identity, bigFilter(t, tn.nodes[0], 1000, words))
	if err != nil {
		t.Fatal(err)
	}
	c := filterServer(t, tn.nodes[0], tn.nodes[1], sf, nil)
	// The first fetch opens the connection (TLS handshake, HTTP/2
	// buffers: about 4 MiB in all); the second costs the filter alone.
	acceptFilterMemory(t, c)
	c.etag = ""
	total, peak := acceptFilterMemory(t, c)
	t.Logf("a filter of %d bytes: %d bytes allocated, heap grew by at most %d", len(sf.filter), total, peak)
	// Slack for the connection, independent of the filter's size: HTTP/2
	// buffers up to its 4 MiB stream window when the reader lags (as it
	// does under the race detector), and the test's server encrypts in
	// this process. Reading the body whole, as before, cost 4.4 times the
	// filter: 37 MB here.
	if limit := uint64(len(sf.filter))*5/4 + 8<<20; total > limit {
		t.Errorf("accepting a filter of %d bytes allocated %d, above %d", len(sf.filter), total, limit)
	}
}

// TestLargeFilterMemory measures what accepting the filter of the issue
// costs: 64 MiB declaring 2^32-1 entries, from a partner whose maxima
// allow it. Run with FEDMATCH_MEASURE_FILTER=1 go test -run
// TestLargeFilterMemory -v ./federation.
func TestLargeFilterMemory(t *testing.T) {
	if os.Getenv("FEDMATCH_MEASURE_FILTER") == "" {
		t.Skip("set FEDMATCH_MEASURE_FILTER=1 to measure")
	}
	tn := newTestNet(t, [][]match.Entry{nil, nil}, nil)
	tn.publishAll()
	const words = 1 << 23 // 64 MiB
	sf, err := newSignedFilter("agency-0", tn.nodes[0].cfg.Identity, bigFilter(t, tn.nodes[0], match.MaxEntries, words))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		tweak func(*Partner)
	}{
		{"default maxima (refused before the body)", nil},
		{"maxima raised", func(p *Partner) { p.MaxFilterEntries, p.MaxFilterBytes = match.MaxEntries, 1<<27 }},
	} {
		cl := filterServer(t, tn.nodes[0], tn.nodes[1], sf, c.tweak)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if c.tweak == nil {
			_, err := cl.refresh(context.Background())
			runtime.ReadMemStats(&after)
			t.Logf("%s: %v; %.2f MiB allocated", c.name, err, float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
			continue
		}
		for _, conn := range []string{"new connection", "open connection"} {
			cl.etag = ""
			total, peak := acceptFilterMemory(t, cl)
			t.Logf("%s, %s: a filter of %.1f MiB: %.1f MiB allocated, heap grew by at most %.1f MiB", c.name, conn,
				float64(len(sf.filter))/(1<<20), float64(total)/(1<<20), float64(peak)/(1<<20))
		}
	}
}

// A partner's error text is quoted, so it cannot add lines to the
// querier's logs or output. (It was printed raw.)
func TestRemoteErrorQuoted(t *testing.T) {
	e := &RemoteError{Partner: "p", Status: 400, Code: "malformed\nforged", Message: "bad\r\n2026-11-22 INFO all clear"}
	if s := e.Error(); strings.ContainsAny(s, "\r\n") {
		t.Fatalf("%q", s)
	}
}

// A request answered busy, which spent nothing, is sent again after
// Retry-After, a bounded number of times. (A busy node made an honest
// partner's query fail at once.)
func TestClientRetriesBusy(t *testing.T) {
	for _, c := range []struct {
		busy     int  // evaluations answered busy before one is let through
		wantHits bool // the match succeeds
	}{{2, true}, {maxBusyRetries, true}, {maxBusyRetries + 1, false}} {
		tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
		tn.publishAll()
		pub := tn.nodes[0]
		inner := *pub.handler.Load()
		var evaluations atomic.Int32
		h := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/evaluate") && int(evaluations.Add(1)) <= c.busy {
				w.Header().Set("Retry-After", "0")
				writeError(w, http.StatusServiceUnavailable, CodeBusy, "busy")
				return
			}
			inner.ServeHTTP(w, r)
		}))
		pub.handler.Store(&h)
		r := tn.nodes[1].Match(context.Background(), emails(t, "x", 0, 2))[0]
		var re *RemoteError
		switch {
		case c.wantHits && (r.Err != nil || len(r.Hits) != 2):
			t.Errorf("%d busy answers: %d hits, %v", c.busy, len(r.Hits), r.Err)
		case !c.wantHits && (!errors.As(r.Err, &re) || re.Code != CodeBusy):
			t.Errorf("%d busy answers: %v, want the busy error", c.busy, r.Err)
		}
		if want := min(c.busy+1, maxBusyRetries+1); int(evaluations.Load()) != want {
			t.Errorf("%d busy answers: %d evaluations sent, want %d", c.busy, evaluations.Load(), want)
		}
	}
}
