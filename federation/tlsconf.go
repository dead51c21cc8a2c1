package federation

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Peers are authenticated by pinning: a node accepts, as client and as
// server, exactly the certificates whose public key hashes (SPKI) it has
// configured for its partners, within their validity period. TLS 1.3 only,
// with Go's default key exchange, which since Go 1.24 is the hybrid
// post-quantum X25519MLKEM768.

// SPKIHash returns the SHA-256 hash of a certificate's
// SubjectPublicKeyInfo: the pin a partner configures for it.
func SPKIHash(cert *x509.Certificate) [32]byte {
	return sha256.Sum256(cert.RawSubjectPublicKeyInfo)
}

// IdentitySPKI returns the pin of a node that presents the self-signed
// certificate of its identity key (Config.TLSCertificate unset). It does
// not change when the certificate is renewed.
func IdentitySPKI(pub ed25519.PublicKey) [32]byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // an Ed25519 key always marshals
	}
	return sha256.Sum256(der)
}

// SelfSignedCertificate returns a certificate for key, valid from an hour
// before now for validity, naming id. A node presents it when it has no
// agency certificate; partners pin its key (IdentitySPKI).
func SelfSignedCertificate(id string, key ed25519.PrivateKey, now time.Time, validity time.Duration) (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: id, Organization: []string{"fedmatch node"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// Errors of peer authentication.
var (
	ErrNoPeerCertificate = errors.New("federation: no client certificate")
	ErrUnknownPeer       = errors.New("federation: certificate of no configured partner")
	ErrPeerCertExpired   = errors.New("federation: peer certificate outside its validity period")
)

// checkPeer returns the partner whose pin matches the peer's leaf
// certificate, if it is valid at now.
func (n *Node) checkPeer(certs []*x509.Certificate) (*Partner, error) {
	if len(certs) == 0 {
		return nil, ErrNoPeerCertificate
	}
	leaf := certs[0]
	p := n.byPin[SPKIHash(leaf)]
	if p == nil {
		return nil, ErrUnknownPeer
	}
	if now := n.cfg.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("%w: partner %s", ErrPeerCertExpired, p.ID)
	}
	return p, nil
}

// ServerTLSConfig returns the TLS configuration of the node's server: TLS
// 1.3, a client certificate required and pinned to a partner. Use it for
// the server that mounts [Node.Handler], or let [Node.ListenAndServe] do it.
func (n *Node) ServerTLSConfig() *tls.Config {
	base := func() *tls.Config {
		return &tls.Config{
			MinVersion:   tls.VersionTLS13,
			Certificates: []tls.Certificate{*n.certificate()},
			NextProtos:   []string{"h2", "http/1.1"},
			ClientAuth:   tls.RequireAnyClientCert,
			VerifyConnection: func(cs tls.ConnectionState) error {
				_, err := n.checkPeer(cs.PeerCertificates)
				return err
			},
		}
	}
	c := base()
	// Each handshake takes the node's current certificate, which Maintain
	// renews, whatever the server did to the configuration it was given.
	c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return base(), nil }
	return c
}

// clientTLSConfig returns the TLS configuration for connecting to p: this
// node's certificate, and p's pinned.
func (m *Matcher) clientTLSConfig(p *Partner) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return m.certificate(), nil
		},
		// The chain is not verified against a CA: the peer's key is pinned
		// in VerifyConnection, which is stricter.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return ErrNoPeerCertificate
			}
			leaf := cs.PeerCertificates[0]
			if SPKIHash(leaf) != p.SPKI {
				return fmt.Errorf("%w: server of partner %s presents another key", ErrUnknownPeer, p.ID)
			}
			if now := m.cfg.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
				return fmt.Errorf("%w: partner %s", ErrPeerCertExpired, p.ID)
			}
			return nil
		},
	}
}
