package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fedmatch/fedmatch/federation"
)

// metricsContentType is the media type of the Prometheus text exposition
// format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// serveMetrics serves GET /metrics on addr, in plain HTTP, until ctx is
// done: the node's federation.Metrics in the Prometheus text format. It
// returns once it listens, or the error that prevents it.
func serveMetrics(ctx context.Context, addr string, n *federation.Node, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler(n.Metrics))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	log.Info("serving metrics", "addr", "http://"+ln.Addr().String()+"/metrics")
	return nil
}

// metricsHandler answers with the text exposition of the snapshot that
// metrics returns.
func metricsHandler(metrics func() federation.Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		writeMetrics(&b, metrics())
		w.Header().Set("Content-Type", metricsContentType)
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		w.Write(b.Bytes())
	})
}

// A family is a metric family of the exposition: its samples are written
// together, after its HELP and TYPE lines, and not at all if it has none.
type family struct {
	name, typ, help string
	samples         []sample
}

type sample struct {
	suffix string   // after the family's name: "", or a histogram's "_bucket", "_sum", "_count"
	labels []string // name, value, name, value...
	value  string
}

func (f *family) add(labels []string, v uint64) {
	f.samples = append(f.samples, sample{labels: labels, value: strconv.FormatUint(v, 10)})
}

func (f *family) addFloat(labels []string, v float64) {
	f.samples = append(f.samples, sample{labels: labels, value: formatFloat(v)})
}

// addHistogram adds h's buckets, sum and count, in seconds.
func (f *family) addHistogram(labels []string, h federation.Histogram) {
	for i, b := range h.Bounds {
		f.samples = append(f.samples, sample{"_bucket", append(slices.Clip(labels), "le", formatFloat(b.Seconds())), strconv.FormatUint(h.Counts[i], 10)})
	}
	f.samples = append(f.samples,
		sample{"_bucket", append(slices.Clip(labels), "le", "+Inf"), strconv.FormatUint(h.Count, 10)},
		sample{"_sum", labels, formatFloat(h.Sum.Seconds())},
		sample{"_count", labels, strconv.FormatUint(h.Count, 10)})
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// writeMetrics writes m in the Prometheus text exposition format 0.0.4:
// the node's gauges, then for each partner what it asked of this node
// (fedmatch_served_...) and what this node asked of it
// (fedmatch_followed_...). Counters count since the node started.
func writeMetrics(w io.Writer, m federation.Metrics) error {
	node := func(name, help string, v uint64) *family {
		f := &family{name: name, typ: "gauge", help: help}
		f.add(nil, v)
		return f
	}
	fams := []*family{
		node("fedmatch_node_epoch", "The node's current epoch; 0 before its first publication.", m.Epoch),
		node("fedmatch_node_filter_version", "Version of the filter the node serves: its number of distinct indicators.", m.Version),
		node("fedmatch_node_filter_entries", "Entries of the list the filter holds, less those removed.", uint64(m.Entries)),
		node("fedmatch_node_filter_capacity_left", "Distinct indicators that can still be added before a publication is needed.", uint64(m.CapacityLeft)),
	}
	changed := &family{name: "fedmatch_node_filter_changed_timestamp_seconds", typ: "gauge",
		help: "When the filter served was made (publication, rotation, change of the list) or loaded, in Unix seconds."}
	if !m.Changed.IsZero() {
		changed.addFloat(nil, unixSeconds(m.Changed))
	}
	var (
		evals = &family{name: "fedmatch_served_evaluations_total", typ: "counter",
			help: "Evaluations (indicators) answered to the partner, by kind."}
		budget = &family{name: "fedmatch_served_budget", typ: "gauge",
			help: "The partner's budget of evaluations per epoch."}
		left = &family{name: "fedmatch_served_budget_left", typ: "gauge",
			help: "What is left of the partner's budget in the current epoch."}
		tags = &family{name: "fedmatch_served_confirmed_tags_total", typ: "counter",
			help: "Tags the partner had this node confirm."}
		hits = &family{name: "fedmatch_served_confirmed_hits_total", typ: "counter",
			help: "Tags the partner had this node confirm that were on its list."}
		refusals = &family{name: "fedmatch_served_refusals_total", typ: "counter",
			help: "Requests of the partner refused, by error code."}
		latency = &family{name: "fedmatch_served_request_duration_seconds", typ: "histogram",
			help: "Time taken to answer the partner's requests, by endpoint (filter_wait: long polls)."}
		epoch = &family{name: "fedmatch_followed_epoch", typ: "gauge",
			help: "Epoch of the partner's filter this node accepted last."}
		version = &family{name: "fedmatch_followed_filter_version", typ: "gauge",
			help: "Version of the partner's filter this node accepted last."}
		accepted = &family{name: "fedmatch_followed_filter_accepted_timestamp_seconds", typ: "gauge",
			help: "When this node accepted the partner's last filter version, in Unix seconds."}
		age = &family{name: "fedmatch_followed_filter_age_seconds", typ: "gauge",
			help: "Time since this node accepted the partner's last filter version."}
		blocked = &family{name: "fedmatch_followed_blocked", typ: "gauge",
			help: "1 if the partner misbehaved in its current epoch and is not contacted."}
		queried = &family{name: "fedmatch_followed_evaluations_total", typ: "counter",
			help: "Evaluations this node had the partner make, by kind."}
		found = &family{name: "fedmatch_followed_hits_total", typ: "counter",
			help: "Hits the partner confirmed to this node."}
	)
	for _, p := range m.Partners {
		pl := []string{"partner", p.Partner}
		for _, k := range slices.Sorted(maps.Keys(p.Evaluations)) {
			evals.add([]string{"partner", p.Partner, "kind", k}, p.Evaluations[k])
		}
		budget.add(pl, uint64(p.Budget))
		left.add(pl, uint64(p.BudgetLeft))
		tags.add(pl, p.ConfirmedTags)
		hits.add(pl, p.ConfirmedHits)
		for _, c := range slices.Sorted(maps.Keys(p.Refusals)) {
			refusals.add([]string{"partner", p.Partner, "code", c}, p.Refusals[c])
		}
		for _, e := range slices.Sorted(maps.Keys(p.Latency)) {
			latency.addHistogram([]string{"partner", p.Partner, "endpoint", e}, p.Latency[e])
		}
		epoch.add(pl, p.PartnerEpoch)
		version.add(pl, p.PartnerVersion)
		if !p.PartnerAccepted.IsZero() {
			accepted.addFloat(pl, unixSeconds(p.PartnerAccepted))
			age.addFloat(pl, max(0, m.Time.Sub(p.PartnerAccepted).Seconds()))
		}
		b := uint64(0)
		if p.Blocked {
			b = 1
		}
		blocked.add(pl, b)
		for _, k := range slices.Sorted(maps.Keys(p.Queried)) {
			queried.add([]string{"partner", p.Partner, "kind", k}, p.Queried[k])
		}
		found.add(pl, p.Hits)
	}
	fams = append(fams, changed, evals, budget, left, tags, hits, refusals, latency,
		epoch, version, accepted, age, blocked, queried, found)

	var b strings.Builder
	for _, f := range fams {
		if len(f.samples) == 0 {
			continue
		}
		b.WriteString("# HELP " + f.name + " " + escapeHelp(f.help) + "\n")
		b.WriteString("# TYPE " + f.name + " " + f.typ + "\n")
		for _, s := range f.samples {
			b.WriteString(f.name + s.suffix)
			if len(s.labels) > 0 {
				b.WriteByte('{')
				for i := 0; i < len(s.labels); i += 2 {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(s.labels[i] + `="` + escapeLabel(s.labels[i+1]) + `"`)
				}
				b.WriteByte('}')
			}
			b.WriteString(" " + s.value + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// escapeLabel escapes a label value: backslash, double quote and line
// feed, as the format requires.
var escapeLabel = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace

// escapeHelp escapes a HELP text: backslash and line feed.
var escapeHelp = strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace
