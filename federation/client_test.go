package federation

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fedmatch/fedmatch/match"
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
