package federation

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"
)

// secretForms returns the ways a key's bytes could show in text: hex in
// either case, base64 in its variants, the decimal list %v gives a byte
// slice, and the raw bytes. Each form is of a window of the key, so that a
// form cut or wrapped still shows.
func secretForms(key []byte) []string {
	var forms []string
	for i := 0; i+8 <= len(key); i += 8 {
		w := key[i : i+8]
		dec := fmt.Sprint(w)
		forms = append(forms, hex.EncodeToString(w), strings.ToUpper(hex.EncodeToString(w)),
			string(w), dec[1:len(dec)-1])
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		forms = append(forms, enc.EncodeToString(key)[:12])
	}
	return forms
}

// ecdsaCertificate returns an agency certificate with a P-256 key.
func ecdsaCertificate(t *testing.T) (*tls.Certificate, *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "a"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, key
}

// formatEveryWay formats v with every verb, alone and inside a slice, a
// struct and a map, and logs it with slog's text and JSON handlers and
// marshals it to JSON.
func formatEveryWay(v any) string {
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		fmt.Fprintf(&out, verb+"\n", v)
		fmt.Fprintf(&out, verb+"\n", []any{v})
		fmt.Fprintf(&out, verb+"\n", struct{ C any }{v})
		fmt.Fprintf(&out, verb+"\n", map[string]any{"c": v})
	}
	fmt.Fprintln(&out, v)
	for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
		slog.New(h).Info("config", "config", v, slog.Any("any", v), slog.Group("g", "c", v))
	}
	if b, err := json.Marshal(v); err == nil {
		out.Write(b)
	}
	if s, ok := v.(fmt.Stringer); ok {
		out.WriteString(s.String())
	}
	if s, ok := v.(fmt.GoStringer); ok {
		out.WriteString(s.GoString())
	}
	return out.String()
}

// No formatting of a Config, a Node or a Matcher shows the identity key
// or the TLS key. Regression: %v printed Identity as a byte list, %x in
// hex, and slog's text handler (which uses %+v) logged it.
func TestConfigRedacted(t *testing.T) {
	_, identity, _ := ed25519.GenerateKey(rand.Reader)
	_, tlsEd, _ := ed25519.GenerateKey(rand.Reader)
	ecCert, ecKey := ecdsaCertificate(t)
	edCert, err := SelfSignedCertificate("a", tlsEd, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]string{
		"identity seed":       secretForms(identity.Seed()),
		"ed25519 TLS key":     secretForms(tlsEd.Seed()),
		"ECDSA TLS key":       secretForms(ecKey.D.FillBytes(make([]byte, 32))),
		"ECDSA TLS key (dec)": {ecKey.D.String()[:20]},
	}
	pub := identity.Public().(ed25519.PublicKey)
	base := Config{ID: "cert-a", Identity: identity, StateDir: t.TempDir(), Partners: []Partner{{
		ID: "fiu-b", URL: "https://b.example", SPKI: IdentitySPKI(pub), Identity: pub, Kinds: []string{"*"}, Budget: 10,
	}}}
	withEC, withEd := base, base
	withEC.TLSCertificate, withEd.TLSCertificate = ecCert, &edCert

	var texts []string
	for _, c := range []Config{base, withEC, withEd} {
		texts = append(texts, formatEveryWay(c), formatEveryWay(&c))
	}
	n, err := New(&withEd)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	m, err := NewMatcher(&withEC)
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, formatEveryWay(n), formatEveryWay(m))
	for _, text := range texts {
		for what, forms := range secrets {
			for _, f := range forms {
				if strings.Contains(text, f) {
					i := strings.Index(text, f)
					t.Fatalf("the %s shows (%q) in:\n%s", what, f, text[max(0, i-200):min(len(text), i+200)])
				}
			}
		}
	}
	// The summary says what matters.
	s := fmt.Sprint(withEC)
	for _, want := range []string{`"cert-a"`, "fiu-b", "POPRF", "ristretto255", "Identity:<redacted>", "TLSCertificate:<redacted>"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %s lacks %s", s, want)
		}
	}
}
