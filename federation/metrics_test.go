package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// Two nodes over loopback mutual TLS: the counters of the publisher and of
// the querier say what was asked, spent, confirmed and refused, and the
// querier's view of the publisher's filter follows its additions.
func TestMetrics(t *testing.T) {
	held := emails(t, "held", 0, 20)
	ips := []indicator.Indicator{
		indicator.MustNew(indicator.IPv4, "192.0.2.1"), indicator.MustNew(indicator.IPv4, "192.0.2.2"),
		indicator.MustNew(indicator.IPv4, "192.0.2.3"), indicator.MustNew(indicator.IPv4, "192.0.2.4"),
		indicator.MustNew(indicator.IPv4, "192.0.2.5"),
	}
	list := entries(append(append([]indicator.Indicator{}, held...), ips[:2]...), "A")
	tn := newTestNet(t, [][]match.Entry{list, nil}, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Partners[0].Budget = 1000
		}
	})
	tn.publishAll()
	pub, q := tn.nodes[0], tn.nodes[1]

	m0 := pub.Metrics()
	if m0.Epoch != 1 || m0.Version != 22 || m0.Entries != 22 || m0.CapacityLeft != minCapacity-22 || !m0.Changed.Equal(tn.clock.Now()) {
		t.Errorf("after Publish: epoch %d, version %d, entries %d, capacity left %d, changed %v",
			m0.Epoch, m0.Version, m0.Entries, m0.CapacityLeft, m0.Changed)
	}
	if len(m0.Partners) != 1 || m0.Partners[0].Partner != "agency-1" || m0.Partners[0].BudgetLeft != 1000 ||
		len(m0.Partners[0].Evaluations) != 0 {
		t.Fatalf("before any query: %+v", m0.Partners)
	}

	// 30 e-mail addresses, 10 held; 5 IP addresses, 2 held.
	query := append(emails(t, "held", 10, 30), ips...)
	res := q.Match(context.Background(), query)[0]
	if res.Err != nil || len(res.Hits) != 12 {
		t.Fatalf("match: %d hits, %v", len(res.Hits), res.Err)
	}
	wantKinds := map[string]uint64{"email": 30, "ipv4": 5}
	// The answers are written before the latency is counted.
	waitFor(t, func() bool { return pub.Metrics().Partners[0].Latency["confirm"].Count == 2 })
	s := pub.Metrics().Partners[0]
	if !maps.Equal(s.Evaluations, wantKinds) {
		t.Errorf("publisher counted evaluations %v, want %v", s.Evaluations, wantKinds)
	}
	if s.BudgetLeft != 1000-35 || s.Budget != 1000 {
		t.Errorf("budget left %d of %d, want %d", s.BudgetLeft, s.Budget, 1000-35)
	}
	if s.ConfirmedHits != 12 || s.ConfirmedTags != uint64(res.Candidates) {
		t.Errorf("confirmed %d hits of %d tags, want 12 of %d", s.ConfirmedHits, s.ConfirmedTags, res.Candidates)
	}
	for ep, want := range map[string]uint64{"filter": 1, "filter_wait": 0, "evaluate": 2, "confirm": 2, "health": 0} {
		if h := s.Latency[ep]; h.Count != want || len(h.Counts) != len(h.Bounds) || h.Counts[len(h.Counts)-1] > h.Count {
			t.Errorf("latency of %s: %+v, want %d requests", ep, h, want)
		}
	}
	f := q.Metrics().Partners[0]
	if f.Partner != "agency-0" || !maps.Equal(f.Queried, wantKinds) || f.Hits != 12 {
		t.Errorf("querier counted %v evaluations and %d hits, want %v and 12", f.Queried, f.Hits, wantKinds)
	}
	if f.PartnerEpoch != 1 || f.PartnerVersion != 22 || !f.PartnerAccepted.Equal(tn.clock.Now()) || f.Blocked {
		t.Errorf("querier holds epoch %d version %d accepted %v (blocked %v)", f.PartnerEpoch, f.PartnerVersion, f.PartnerAccepted, f.Blocked)
	}

	// A request refused is counted under its code, and its latency too.
	if status, code := post(t, q, pub, "evaluate", []byte("not a request")); code != CodeMalformed {
		t.Fatalf("refusal: %d %s", status, code)
	}
	waitFor(t, func() bool { return pub.Metrics().Partners[0].Latency["evaluate"].Count == 3 })
	if r := pub.Metrics().Partners[0].Refusals; !maps.Equal(r, map[string]uint64{CodeMalformed: 1}) {
		t.Errorf("refusals %v, want malformed 1", r)
	}

	// An addition: the querier follows it, by a long poll.
	tn.clock.Advance(time.Minute)
	if _, err := pub.Add(context.Background(), entries(emails(t, "added", 0, 3), "B")); err != nil {
		t.Fatal(err)
	}
	m1 := pub.Metrics()
	if m1.Version != 25 || m1.Entries != 25 || m1.CapacityLeft != m0.CapacityLeft-3 || !m1.Changed.Equal(tn.clock.Now()) {
		t.Errorf("after Add: version %d, entries %d, capacity left %d, changed %v", m1.Version, m1.Entries, m1.CapacityLeft, m1.Changed)
	}
	if _, _, err := q.WaitForFilter(context.Background(), "agency-0", time.Second); err != nil {
		t.Fatal(err)
	}
	f = q.Metrics().Partners[0]
	if f.PartnerVersion != m1.Version || f.PartnerEpoch != m1.Epoch || !f.PartnerAccepted.Equal(tn.clock.Now()) {
		t.Errorf("querier holds epoch %d version %d accepted %v, publisher serves epoch %d version %d",
			f.PartnerEpoch, f.PartnerVersion, f.PartnerAccepted, m1.Epoch, m1.Version)
	}
	waitFor(t, func() bool { return pub.Metrics().Partners[0].Latency["filter_wait"].Count == 1 })

	// A rotation starts the budget afresh; the counters go on.
	if err := pub.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := pub.Metrics().Partners[0]; s.BudgetLeft != 1000 || !maps.Equal(s.Evaluations, wantKinds) {
		t.Errorf("after a rotation: budget left %d, evaluations %v", s.BudgetLeft, s.Evaluations)
	}
}

// A snapshot shares nothing with the node: changing it changes neither
// the node's counters nor the next snapshot.
func TestMetricsSnapshotIsACopy(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "a", 0, 5), "A"), nil}, nil)
	tn.publishAll()
	pub, q := tn.nodes[0], tn.nodes[1]
	if r := q.Match(context.Background(), emails(t, "a", 0, 3))[0]; r.Err != nil {
		t.Fatal(r.Err)
	}
	waitFor(t, func() bool { return pub.Metrics().Partners[0].Latency["confirm"].Count == 1 })
	m := pub.Metrics()
	want := fmt.Sprintf("%+v", m)
	p := &m.Partners[0]
	p.Evaluations["email"] = 99
	p.Refusals["x"] = 1
	h := p.Latency["evaluate"]
	h.Bounds[0], h.Counts[0] = time.Hour, 99
	qm := q.Metrics()
	qm.Partners[0].Queried["email"] = 99
	if got := fmt.Sprintf("%+v", pub.Metrics()); got != want {
		t.Errorf("a snapshot changed by changing another:\n got %s\nwant %s", got, want)
	}
	if q.Metrics().Partners[0].Queried["email"] != 3 {
		t.Error("the querier's counters changed with its snapshot")
	}
}

func TestHistogramBuckets(t *testing.T) {
	var h histogram
	for _, d := range []time.Duration{0, 5 * time.Millisecond, 5*time.Millisecond + 1, time.Second, 2 * time.Minute} {
		h.observe(d)
	}
	s := h.snapshot()
	// A bound is inclusive (Prometheus's le): 0 and 5ms in the first
	// bucket, 5ms+1ns in the second, 1s in the bucket of 1s, 2m in +Inf.
	at := func(b time.Duration) uint64 {
		for i, x := range s.Bounds {
			if x == b {
				return s.Counts[i]
			}
		}
		t.Fatalf("no bucket %v", b)
		return 0
	}
	if at(5*time.Millisecond) != 2 || at(10*time.Millisecond) != 3 || at(500*time.Millisecond) != 3 ||
		at(time.Second) != 4 || at(time.Minute) != 4 || s.Count != 5 {
		t.Errorf("buckets %v of %v, count %d", s.Counts, s.Bounds, s.Count)
	}
	if want := 2*time.Minute + time.Second + 10*time.Millisecond + 1; s.Sum != want {
		t.Errorf("sum %v, want %v", s.Sum, want)
	}
}

// A partner that declares ever new kind names grows its counters by at
// most maxMetricKinds names; the rest are counted together.
func TestKindCountersBounded(t *testing.T) {
	var k kindCounters
	for i := range maxMetricKinds + 10 {
		k.add(fmt.Sprintf("x-kind-%d", i), 2)
	}
	k.add("x-kind-0", 1)
	s := k.snapshot()
	if len(s) != maxMetricKinds+1 || s[otherKinds] != 20 || s["x-kind-0"] != 3 {
		t.Errorf("%d names, other %d, x-kind-0 %d", len(s), s[otherKinds], s["x-kind-0"])
	}
	if err := indicator.CheckKindName(otherKinds); err == nil {
		t.Errorf("%q is a valid kind name: it could be counted with the others", otherKinds)
	}
}

// lockedBuffer is a bytes.Buffer for the log of several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Every change of state makes a log line with stable keys, and no line
// holds an indicator value, a label or a reference: a publication, a
// standing match that exhausts its budget and finds hits, an addition it
// follows, a refused request, a publication afresh, two rotations (the
// second destroys the first key) and the nodes' close.
func TestLogEvents(t *testing.T) {
	var buf lockedBuffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	secret := func(prefix string, n int) []indicator.Indicator {
		out := make([]indicator.Indicator, n)
		for i := range out {
			out[i] = indicator.MustNew(indicator.Email, fmt.Sprintf("obs-secret-%s%d@example.org", prefix, i))
		}
		return out
	}
	label := func(es []match.Entry) []match.Entry {
		for i := range es {
			es[i].Label, es[i].Ref = fmt.Sprintf("TLP:RED label-zebra %d", i), fmt.Sprintf("ref-quagga-%d", i)
		}
		return es
	}
	held, later := secret("held", 3), secret("later", 1)
	tn := newTestNet(t, [][]match.Entry{label(entries(held, "")), nil}, func(i int, cfg *Config) {
		cfg.Logger = slog.New(h).With("node", cfg.ID)
		cfg.RequestTimeout = 10 * time.Second
		if i == 0 {
			cfg.Partners[0].Budget = 5 // exactly what agency-1 asks
		}
	})
	tn.publishAll()
	pub, q := tn.nodes[0], tn.nodes[1]

	hits := &hitLog{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mine := append(append(append([]indicator.Indicator{}, held...), later...), secret("never", 1)...)
	st, err := q.Stand(ctx, mine, StandingOptions{OnHit: hits.onHit, Wait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return hits.count() == 3 })
	if _, err := pub.Add(context.Background(), label(entries(later, ""))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return hits.count() == 4 })
	cancel()
	st.Wait()
	// The budget is spent: refused, and counted.
	if r := q.Match(context.Background(), secret("refused", 1))[0]; r.Err == nil {
		t.Fatal("a query beyond the budget was answered")
	}
	if err := pub.Publish(context.Background()); err != nil { // afresh, under the same key
		t.Fatal(err)
	}
	for range 2 {
		if err := pub.Rotate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	pub.Close()
	q.Close()

	type line struct {
		Msg     string  `json:"msg"`
		Node    string  `json:"node"`
		Partner *string `json:"partner"`
		Kind    *string `json:"kind"`
		Epoch   *uint64 `json:"epoch"`
		Version *uint64 `json:"version"`
		Count   *uint64 `json:"count"`
	}
	out := buf.String()
	seen := map[string][]line{}
	for _, s := range strings.Split(strings.TrimSpace(out), "\n") {
		var l line
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("log line %q: %v", s, err)
		}
		seen[l.Msg] = append(seen[l.Msg], l)
	}
	// Each event, by whom, and the keys it must carry.
	for _, ev := range []struct {
		msg, node string
		keys      string // of partner, kind, epoch, version, count
	}{
		{"fedmatch node started", "agency-0", "epoch"},
		{"self-signed TLS certificate made", "agency-0", ""},
		{"published", "agency-0", "epoch"},
		{"evaluated", "agency-0", "partner kind epoch count"},
		{"budget exhausted", "agency-0", "partner epoch"},
		{"confirmed", "agency-0", "partner epoch"},
		{"partner filter accepted", "agency-1", "partner epoch version"},
		{"standing hit found", "agency-1", "partner kind epoch version"},
		{"list changed", "agency-0", "epoch version"},
		{"rotated", "agency-0", "epoch"},
		{"destroyed epoch key", "agency-0", "epoch"},
		{"refused requests", "agency-0", "partner count"},
		{"fedmatch node closed", "agency-0", "epoch"},
		{"fedmatch node closed", "agency-1", "epoch"},
	} {
		var found *line
		for i, l := range seen[ev.msg] {
			if l.Node == ev.node {
				found = &seen[ev.msg][i]
				break
			}
		}
		if found == nil {
			t.Errorf("no %q from %s", ev.msg, ev.node)
			continue
		}
		have := map[string]bool{"partner": found.Partner != nil, "kind": found.Kind != nil, "epoch": found.Epoch != nil,
			"version": found.Version != nil, "count": found.Count != nil}
		for _, k := range strings.Fields(ev.keys) {
			if !have[k] {
				t.Errorf("%q from %s has no %q", ev.msg, ev.node, k)
			}
		}
	}
	if n := len(seen["standing hit found"]); n != 4 {
		t.Errorf("%d standing hits logged, want 4", n)
	}
	if n := len(seen["budget exhausted"]); n != 1 {
		t.Errorf("budget exhausted logged %d times, want once", n)
	}
	for _, l := range seen["standing hit found"] {
		if *l.Kind != "email" || *l.Partner != "agency-0" {
			t.Errorf("standing hit: partner %s, kind %s", *l.Partner, *l.Kind)
		}
	}
	// No value, label or reference, whole or in part.
	for _, s := range []string{"obs-secret", "label-zebra", "TLP:RED", "ref-quagga"} {
		if strings.Contains(out, s) {
			t.Errorf("the log holds %q", s)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", out)
	}
}

// The latency of each endpoint is counted under its name.
func TestEndpointOf(t *testing.T) {
	for target, want := range map[string]int{
		"filter":                      endpointFilter,
		"filter?key=00&from=1&gen=":   endpointFilter,
		"filter?key=00&from=1&wait=5": endpointFilterWait,
		"evaluate":                    endpointEvaluate,
		"confirm":                     endpointConfirm,
		"health":                      endpointHealth,
		"count-filter":                endpointCountFilter,
		"count":                       endpointCount,
		"other":                       -1,
	} {
		r, _ := http.NewRequest(http.MethodGet, "https://node.example"+PathPrefix+target, nil)
		r.Pattern = PathPrefix + strings.SplitN(target, "?", 2)[0]
		if got := endpointOf(r); got != want {
			t.Errorf("%s: endpoint %d, want %d", target, got, want)
		}
	}
}
