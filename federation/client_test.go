package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

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
