package federation

// Helpers of the load and fault harnesses (loadhonest_test.go,
// killload_test.go, load_test.go): partners with fixed identities, which a
// child process re-creates from their names, HTTP clients presenting
// them, and latency statistics.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// loadIdentity is the fixed identity key of a harness's node or partner,
// derived from its name (test keys, of no use elsewhere).
func loadIdentity(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("fedmatch load harness identity " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// loadPartnerName is the name of a harness's i-th partner.
func loadPartnerName(i int) string { return fmt.Sprintf("partner-%02d", i) }

// loadConfig is the configuration of a harness's node, "load", serving
// the watchlist list to the given partners (all kinds, a budget no test
// exhausts) from dir.
func loadConfig(dir string, list []match.Entry, partners []string) *Config {
	cfg := &Config{
		ID:        "load",
		Identity:  loadIdentity("load"),
		StateDir:  dir,
		Watchlist: func() iter.Seq2[match.Entry, error] { return seq2(list) },
	}
	for _, name := range partners {
		pub := loadIdentity(name).Public().(ed25519.PublicKey)
		cfg.Partners = append(cfg.Partners, Partner{ID: name, URL: "https://" + name + ".invalid", SPKI: IdentitySPKI(pub),
			Identity: pub, Kinds: []string{"*"}, Budget: 1 << 40, ReleaseLabels: []string{"*"}})
	}
	return cfg
}

// loadClient is an HTTPS client (HTTP/2, as the node's own client)
// presenting the self-signed certificate of the partner name, from the
// local address local if not empty. It does not verify the server: the
// harnesses measure the node.
func loadClient(name, local string) *http.Client {
	key := loadIdentity(name)
	cert, err := SelfSignedCertificate(name, key, time.Now(), 24*time.Hour)
	if err != nil {
		panic(err)
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DialContext:       d.DialContext,
		ForceAttemptHTTP2: true,
		TLSClientConfig:   &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true, Certificates: []tls.Certificate{cert}},
	}}
}

// postBatch posts body to the evaluate endpoint at addr and returns the
// status (0 on a network error) and the time to the whole answer.
func postBatch(c *http.Client, addr string, body []byte) (int, time.Duration) {
	t0 := time.Now()
	resp, err := c.Post("https://"+addr+PathPrefix+"evaluate", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		return 0, time.Since(t0)
	}
	// A 200 whose body is cut off was still counted by the node: it
	// answers once the batch is on disk and audited.
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(t0)
}

// quantile returns the q-quantile (0 < q < 1) of sorted durations, by
// the nearest rank, or 0 if there are none.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
