package feed

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/circl/oprf"
)

// fullEvaluateNs measures circl's POPRF FullEvaluate, the per-indicator
// cost floor of publishing, in the same run as the importer benchmarks.
func fullEvaluateNs(b *testing.B) float64 {
	sk, err := oprf.GenerateKey(oprf.SuiteRistretto255, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	srv := oprf.NewPartialObliviousServer(oprf.SuiteRistretto255, sk)
	const n = 200
	start := time.Now()
	for range n {
		srv.FullEvaluate([]byte("fedmatch-v1/domain\x00example.com"), []byte("fedmatch-v1/domain"))
	}
	return float64(time.Since(start).Nanoseconds()) / n
}

// synthetic inputs of n indicators in each format.
func syntheticSTIX(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"type": "bundle", "id": "bundle--1", "objects": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type": "indicator", "spec_version": "2.1", "id": "indicator--%08d-0000-4000-8000-000000000000", "name": "n%d", "pattern_type": "stix", "pattern": "[domain-name:value = 'host%d.Example.COM']", "valid_from": "2026-01-01T00:00:00Z"}`, i, i, i)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

func syntheticMISP(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"Event": {"uuid": "e", "info": "synthetic", "Attribute": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"uuid": "%08d-0000-4000-8000-000000000000", "type": "ip-dst", "category": "Network activity", "to_ids": true, "value": "10.%d.%d.%d"}`, i, i>>16&255, i>>8&255, i&255)
	}
	b.WriteString("]}}")
	return []byte(b.String())
}

func syntheticCSV(n int) []byte {
	var b strings.Builder
	b.WriteString("kind,value,ref,label\n")
	for i := range n {
		fmt.Fprintf(&b, "email,User%d@Example.ORG,case-%d,seen %d\n", i, i, i)
	}
	return []byte(b.String())
}

func syntheticLines(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "HOST%d.example.net.\n", i)
	}
	return []byte(b.String())
}

// BenchmarkImport reports, per format, the ns per imported indicator
// (parsing and canonicalization) and its ratio to circl's FullEvaluate
// measured in the same run (x-circl; the target is below 0.05).
func BenchmarkImport(b *testing.B) {
	full := fullEvaluateNs(b)
	const n = 10000
	cases := []struct {
		name string
		data []byte
		opts Options
	}{
		{"stix", syntheticSTIX(n), Options{}},
		{"misp", syntheticMISP(n), Options{}},
		{"csv", syntheticCSV(n), Options{}},
		{"lines", syntheticLines(n), Options{Kind: mustKind("domain")}},
	}
	if data, err := os.ReadFile(sharedData + "stix21_tweetfeed_bundle_2026-08-22.json"); err == nil {
		cases = append(cases, struct {
			name string
			data []byte
			opts Options
		}{"stix/tweetfeed", data, Options{}})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			imported := 0
			for b.Loop() {
				opts := c.opts
				r := NewReader(bytes.NewReader(c.data), &opts)
				for range r.Entries() {
					imported++
				}
				if r.Err() != nil || r.Summary().Rejected != 0 {
					b.Fatalf("%v %+v", r.Err(), r.Summary())
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(imported)
			b.ReportMetric(ns, "ns/indicator")
			b.ReportMetric(ns/full, "x-circl")
			b.SetBytes(int64(len(c.data)))
		})
	}
}
