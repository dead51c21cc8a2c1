package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/federation"
)

// A parsed sample of the text exposition format.
type parsedSample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	helpLine   = regexp.MustCompile(`^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$`)
	typeLine   = regexp.MustCompile(`^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$`)
	sampleName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*`)
)

// parseExposition parses text in the Prometheus text format 0.0.4, line
// by line, and checks what the format and its conventions require: every
// sample after its family's HELP and TYPE, each family once and its
// samples together, counters named _total, a histogram's buckets
// cumulative with le ascending and ending in +Inf equal to its _count.
func parseExposition(t *testing.T, text string) (samples []parsedSample, types map[string]string) {
	t.Helper()
	types = map[string]string{}
	helped := map[string]bool{}
	done := map[string]bool{} // families whose samples are over
	current := ""
	if !strings.HasSuffix(text, "\n") {
		t.Errorf("exposition does not end with a line feed")
	}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if m := helpLine.FindStringSubmatch(line); m != nil {
			if helped[m[1]] || done[m[1]] {
				t.Errorf("line %d: a second HELP of %s", i+1, m[1])
			}
			helped[m[1]] = true
			continue
		}
		if m := typeLine.FindStringSubmatch(line); m != nil {
			if _, ok := types[m[1]]; ok {
				t.Errorf("line %d: a second TYPE of %s", i+1, m[1])
			}
			if m[2] == "counter" && !strings.HasSuffix(m[1], "_total") {
				t.Errorf("line %d: counter %s is not named _total", i+1, m[1])
			}
			if !strings.HasPrefix(m[1], "fedmatch_") {
				t.Errorf("line %d: %s is not named fedmatch_", i+1, m[1])
			}
			types[m[1]] = m[2]
			continue
		}
		s, ok := parseSample(line)
		if !ok {
			t.Fatalf("line %d: not a HELP, TYPE or sample line: %q", i+1, line)
		}
		fam := s.name
		if types[fam] == "" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if f := strings.TrimSuffix(s.name, suffix); f != s.name && types[f] == "histogram" {
					fam = f
				}
			}
		}
		if types[fam] == "" || !helped[fam] {
			t.Errorf("line %d: sample of %s before its HELP and TYPE", i+1, fam)
		}
		if fam != current {
			if done[fam] {
				t.Errorf("line %d: samples of %s apart", i+1, fam)
			}
			done[current], current = true, fam
		}
		samples = append(samples, s)
	}
	checkHistograms(t, samples, types)
	return samples, types
}

// checkHistograms checks each histogram's buckets against its count.
func checkHistograms(t *testing.T, samples []parsedSample, types map[string]string) {
	t.Helper()
	type series struct {
		les      []float64
		counts   []float64
		count    float64
		hasCount bool
	}
	all := map[string]*series{}
	for _, s := range samples {
		fam := strings.TrimSuffix(strings.TrimSuffix(s.name, "_bucket"), "_count")
		if types[fam] != "histogram" {
			continue
		}
		key := fam + "{" + s.labels["partner"] + "," + s.labels["endpoint"] + "}"
		if all[key] == nil {
			all[key] = &series{}
		}
		h := all[key]
		switch {
		case strings.HasSuffix(s.name, "_bucket"):
			le, err := strconv.ParseFloat(s.labels["le"], 64)
			if err != nil {
				t.Errorf("%s: le %q", key, s.labels["le"])
			}
			if n := len(h.les); n > 0 && (le <= h.les[n-1] || s.value < h.counts[n-1]) {
				t.Errorf("%s: bucket le=%v %v after le=%v %v", key, le, s.value, h.les[n-1], h.counts[n-1])
			}
			h.les, h.counts = append(h.les, le), append(h.counts, s.value)
		case strings.HasSuffix(s.name, "_count"):
			h.count, h.hasCount = s.value, true
		}
	}
	for key, h := range all {
		if n := len(h.les); n == 0 || !math.IsInf(h.les[n-1], 1) || !h.hasCount || h.counts[n-1] != h.count {
			t.Errorf("%s: buckets %v %v, count %v", key, h.les, h.counts, h.count)
		}
	}
}

// parseSample parses name{label="value",...} value, undoing the escapes
// of label values.
func parseSample(line string) (parsedSample, bool) {
	s := parsedSample{labels: map[string]string{}}
	s.name = sampleName.FindString(line)
	if s.name == "" {
		return s, false
	}
	rest := line[len(s.name):]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for !strings.HasPrefix(rest, "}") {
			name := labelName.FindString(rest)
			if name == "" || !strings.HasPrefix(rest[len(name):], `="`) {
				return s, false
			}
			rest = rest[len(name)+2:]
			var v strings.Builder
			for {
				if rest == "" || rest[0] == '\n' {
					return s, false
				}
				c := rest[0]
				rest = rest[1:]
				if c == '"' {
					break
				}
				if c == '\\' {
					if rest == "" {
						return s, false
					}
					switch rest[0] {
					case '\\', '"':
						v.WriteByte(rest[0])
					case 'n':
						v.WriteByte('\n')
					default:
						return s, false
					}
					rest = rest[1:]
					continue
				}
				v.WriteByte(c)
			}
			if _, dup := s.labels[name]; dup {
				return s, false
			}
			s.labels[name] = v.String()
			rest = strings.TrimPrefix(rest, ",")
		}
		rest = rest[1:]
	}
	if !strings.HasPrefix(rest, " ") {
		return s, false
	}
	v, err := strconv.ParseFloat(rest[1:], 64)
	if err != nil {
		return s, false
	}
	s.value = v
	return s, true
}

// find returns the value of the sample of name with labels, and whether
// there is one.
func find(samples []parsedSample, name string, labels ...string) (float64, bool) {
next:
	for _, s := range samples {
		if s.name != name || len(s.labels) != len(labels)/2 {
			continue
		}
		for i := 0; i < len(labels); i += 2 {
			if s.labels[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return s.value, true
	}
	return 0, false
}

// Label values are escaped as the format requires, and parse back to
// themselves; every family is well formed.
func TestWriteMetrics(t *testing.T) {
	weird := "we\"ird\\pa\nrtner"
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	h := federation.Histogram{
		Bounds: []time.Duration{time.Millisecond, time.Second},
		Counts: []uint64{1, 3}, Count: 4, Sum: 2500 * time.Millisecond,
	}
	m := federation.Metrics{Time: now, Epoch: 7, Version: 120, Entries: 118, CapacityLeft: 904, Changed: now.Add(-time.Hour),
		Partners: []federation.PartnerMetrics{{
			Partner: weird, Evaluations: map[string]uint64{"email": 30, "ipv4": 5}, Budget: 1000, BudgetLeft: 965,
			ConfirmedTags: 13, ConfirmedHits: 12, Refusals: map[string]uint64{"malformed": 2},
			Latency:      map[string]federation.Histogram{"evaluate": h},
			PartnerEpoch: 3, PartnerVersion: 40, PartnerAccepted: now.Add(-90 * time.Second),
			Queried: map[string]uint64{"email": 9}, Hits: 2,
		}},
	}
	var b bytes.Buffer
	if err := writeMetrics(&b, m); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	samples, types := parseExposition(t, out)
	if !strings.Contains(out, `fedmatch_served_refusals_total{partner="we\"ird\\pa\nrtner",code="malformed"} 2`+"\n") {
		t.Errorf("label value not escaped:\n%s", out)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"fedmatch_node_epoch", nil, 7},
		{"fedmatch_node_filter_version", nil, 120},
		{"fedmatch_node_filter_entries", nil, 118},
		{"fedmatch_node_filter_capacity_left", nil, 904},
		{"fedmatch_node_filter_changed_timestamp_seconds", nil, float64(now.Add(-time.Hour).Unix())},
		{"fedmatch_served_evaluations_total", []string{"partner", weird, "kind", "ipv4"}, 5},
		{"fedmatch_served_budget", []string{"partner", weird}, 1000},
		{"fedmatch_served_budget_left", []string{"partner", weird}, 965},
		{"fedmatch_served_confirmed_tags_total", []string{"partner", weird}, 13},
		{"fedmatch_served_confirmed_hits_total", []string{"partner", weird}, 12},
		{"fedmatch_served_refusals_total", []string{"partner", weird, "code", "malformed"}, 2},
		{"fedmatch_served_request_duration_seconds_bucket", []string{"partner", weird, "endpoint", "evaluate", "le", "0.001"}, 1},
		{"fedmatch_served_request_duration_seconds_bucket", []string{"partner", weird, "endpoint", "evaluate", "le", "1"}, 3},
		{"fedmatch_served_request_duration_seconds_bucket", []string{"partner", weird, "endpoint", "evaluate", "le", "+Inf"}, 4},
		{"fedmatch_served_request_duration_seconds_sum", []string{"partner", weird, "endpoint", "evaluate"}, 2.5},
		{"fedmatch_served_request_duration_seconds_count", []string{"partner", weird, "endpoint", "evaluate"}, 4},
		{"fedmatch_followed_epoch", []string{"partner", weird}, 3},
		{"fedmatch_followed_filter_version", []string{"partner", weird}, 40},
		{"fedmatch_followed_filter_accepted_timestamp_seconds", []string{"partner", weird}, float64(now.Add(-90 * time.Second).Unix())},
		{"fedmatch_followed_filter_age_seconds", []string{"partner", weird}, 90},
		{"fedmatch_followed_blocked", []string{"partner", weird}, 0},
		{"fedmatch_followed_evaluations_total", []string{"partner", weird, "kind", "email"}, 9},
		{"fedmatch_followed_hits_total", []string{"partner", weird}, 2},
	} {
		if v, ok := find(samples, c.name, c.labels...); !ok || v != c.want {
			t.Errorf("%s%q = %v (found %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	for name, typ := range map[string]string{
		"fedmatch_served_evaluations_total": "counter", "fedmatch_served_request_duration_seconds": "histogram",
		"fedmatch_served_budget_left": "gauge", "fedmatch_followed_filter_age_seconds": "gauge",
	} {
		if types[name] != typ {
			t.Errorf("TYPE of %s: %q, want %q", name, types[name], typ)
		}
	}

	// Before a publication and any partner: the node's gauges alone, no
	// timestamp of zero.
	b.Reset()
	writeMetrics(&b, federation.Metrics{Time: now})
	samples, _ = parseExposition(t, b.String())
	if len(samples) != 4 {
		t.Errorf("%d samples of an empty snapshot:\n%s", len(samples), b.String())
	}
}

// scrape gets url and parses its exposition.
func scrape(t *testing.T, url string) []parsedSample {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != metricsContentType {
		t.Fatalf("GET %s: %s %q", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	samples, _ := parseExposition(t, string(body))
	return samples
}

// A node run with -metrics serves its metrics, and its counters move with
// a partner's query.
func TestMetricsEndpoint(t *testing.T) {
	cfgA, cfgB := setup(t)
	addr := freePort(t)
	url := "http://" + addr + "/metrics"
	ctx, cancel := context.WithCancel(context.Background())
	var logA syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"-config", cfgA, "-metrics", addr}, &bytes.Buffer{}, &logA) }()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, logA.String())
		}
	}()

	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never served: %v\n%s", err, logA.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	evals := func(s []parsedSample) float64 {
		v, _ := find(s, "fedmatch_served_evaluations_total", "partner", "fiu-b", "kind", "email")
		return v
	}
	before := scrape(t, url)
	if v, ok := find(before, "fedmatch_node_epoch"); !ok || v != 1 {
		t.Errorf("epoch %v (found %v), want 1", v, ok)
	}

	query := filepath.Join(filepath.Dir(cfgB), "fiu-b-query.csv")
	var out, errb bytes.Buffer
	for run(context.Background(), []string{"-config", cfgB, "-match", query}, &out, &errb) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("matching never succeeded: %s", errb.String())
		}
		out.Reset()
		errb.Reset()
		time.Sleep(200 * time.Millisecond)
	}
	after := scrape(t, url)
	if evals(after) <= evals(before) {
		t.Errorf("fedmatch_served_evaluations_total{partner=fiu-b,kind=email}: %v after a query, %v before", evals(after), evals(before))
	}
	if v, _ := find(after, "fedmatch_served_confirmed_hits_total", "partner", "fiu-b"); v != 4 {
		t.Errorf("confirmed hits %v, want 4", v)
	}

	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %s", resp.Status)
	}
}
