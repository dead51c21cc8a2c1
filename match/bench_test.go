package match

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/cloudflare/circl/oprf"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// The benchmarks report, besides ns/op:
//
//	ns/elem  fedmatch's cost per indicator
//	x-circl  that cost divided by the cost of the raw circl operation for
//	         the same work on one core, measured in the same iterations
//	         (so at cores=2 it also counts the gain from parallelism)
//	speedup  (cores=2) fedmatch's one-worker time divided by its
//	         two-worker time, measured in the same iterations
//
// Run: go test -run '^$' -bench . ./match

// circlServer returns circl's own server for key in mode m.
type circlServer struct {
	full func(in, info []byte) ([]byte, error)
	eval func(req *oprf.EvaluationRequest, info []byte) (*oprf.Evaluation, error)
}

func newCirclServer(b *testing.B, key *PrivateKey, m Mode) circlServer {
	sk := new(oprf.PrivateKey)
	raw, _ := key.k.MarshalBinary()
	s := key.suite.params().circl
	if err := sk.UnmarshalBinary(s, raw); err != nil {
		b.Fatal(err)
	}
	switch m {
	case ModePOPRF:
		srv := oprf.NewPartialObliviousServer(s, sk)
		return circlServer{srv.FullEvaluate, srv.Evaluate}
	case ModeVOPRF:
		srv := oprf.NewVerifiableServer(s, sk)
		return circlServer{
			func(in, _ []byte) ([]byte, error) { return srv.FullEvaluate(in) },
			func(r *oprf.EvaluationRequest, _ []byte) (*oprf.Evaluation, error) { return srv.Evaluate(r) },
		}
	default:
		srv := oprf.NewServer(s, sk)
		return circlServer{
			func(in, _ []byte) ([]byte, error) { return srv.FullEvaluate(in) },
			func(r *oprf.EvaluationRequest, _ []byte) (*oprf.Evaluation, error) { return srv.Evaluate(r) },
		}
	}
}

// circlFullEvaluate evaluates every input with circl and returns the time.
func circlFullEvaluate(b *testing.B, srv circlServer, inputs [][]byte, info []byte) time.Duration {
	start := time.Now()
	for _, in := range inputs {
		if _, err := srv.full(in, info); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

func report(b *testing.B, ours, raw time.Duration, n int) {
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N*n), "ns/elem")
	b.ReportMetric(float64(ours)/float64(raw), "x-circl")
}

func benchEntries(n int) []Entry {
	es := make([]Entry, n)
	for i := range es {
		es[i] = Entry{Indicator: indicator.MustNew(indicator.Email, fmt.Sprintf("user%d@example.org", i))}
	}
	return es
}

func inputsOf(es []Entry) [][]byte {
	in := make([][]byte, len(es))
	for i, e := range es {
		in[i] = appendInput(nil, e.Indicator)
	}
	return in
}

// BenchmarkPublish builds a filter from n entries. The circl baseline is
// FullEvaluate of every entry (for POPRF, circl recomputes the key tweak
// per element; fedmatch computes it once per kind, hence x-circl < 1).
func BenchmarkPublish(b *testing.B) {
	for _, c := range []struct {
		mode Mode
		n    int
	}{{ModePOPRF, 1000}, {ModePOPRF, 10000}, {ModeVOPRF, 1000}} {
		es := benchEntries(c.n)
		benchPublish(b, fmt.Sprintf("%v/n=%d", c.mode, c.n), c.mode, es)
	}
	if es := realEntries(b, "tweetfeed_domains.txt.gz", indicator.Domain, 10000); es != nil {
		benchPublish(b, "POPRF/tweetfeed_domains/n=10000", ModePOPRF, es)
	}
}

func benchPublish(b *testing.B, name string, mode Mode, es []Entry) {
	key := testKey(b, SuiteRistretto255, 1)
	srv := newCirclServer(b, key, mode)
	inputs := inputsOf(es)
	info := kindInfo(es[0].Indicator.Kind().Name())
	b.Run(name+"/cores=1", func(b *testing.B) {
		var ours, raw time.Duration
		for b.Loop() {
			start := time.Now()
			if _, err := Publish(key, slices.Values(es), &PublishOptions{Mode: mode, Workers: 1}); err != nil {
				b.Fatal(err)
			}
			ours += time.Since(start)
			b.StopTimer()
			raw += circlFullEvaluate(b, srv, inputs, info)
			b.StartTimer()
		}
		report(b, ours, raw, len(es))
	})
	b.Run(name+"/cores=2", func(b *testing.B) {
		var ours, one, raw time.Duration
		for b.Loop() {
			start := time.Now()
			if _, err := Publish(key, slices.Values(es), &PublishOptions{Mode: mode, Workers: 2}); err != nil {
				b.Fatal(err)
			}
			ours += time.Since(start)
			b.StopTimer()
			start = time.Now()
			if _, err := Publish(key, slices.Values(es), &PublishOptions{Mode: mode, Workers: 1}); err != nil {
				b.Fatal(err)
			}
			one += time.Since(start)
			raw += circlFullEvaluate(b, srv, inputs, info)
			b.StartTimer()
		}
		report(b, ours, raw, len(es))
		b.ReportMetric(float64(one)/float64(ours), "speedup")
	})
}

// realEntries reads up to n indicators from a list in ../shared/data, or
// returns nil (and skips nothing) when the folder is absent.
func realEntries(b *testing.B, file string, k *indicator.Kind, n int) []Entry {
	fh, err := os.Open("../../shared/data/" + file)
	if err != nil {
		return nil
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		b.Fatal(err)
	}
	var es []Entry
	sc := bufio.NewScanner(zr)
	for sc.Scan() && len(es) < n {
		if ind, err := indicator.New(k, sc.Text()); err == nil {
			es = append(es, Entry{Indicator: ind})
		}
	}
	return es
}

// BenchmarkEvaluate is the publisher side of a query of n elements: decode
// the request, evaluate and prove, encode the response. The circl
// baseline is its server's Evaluate on already-decoded elements, one proof
// per batch. At cores=2 the querier splits the batch into two chunks.
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{100, 1000, 4000} {
		benchmarkEvaluate(b, n)
	}
}

func benchmarkEvaluate(b *testing.B, n int) {
	for _, mode := range []Mode{ModePOPRF, ModeVOPRF} {
		for _, cores := range []int{1, 2} {
			b.Run(fmt.Sprintf("%v/n=%d/cores=%d", mode, n, cores), func(b *testing.B) {
				key := testKey(b, SuiteRistretto255, 1)
				p := mustPublish(b, key, nil, &PublishOptions{Mode: mode, Workers: cores})
				p1 := mustPublish(b, key, nil, &PublishOptions{Mode: mode, Workers: 1})
				q, err := NewQuerier(p.Filter(), &QuerierOptions{ChunkSize: n / cores})
				if err != nil {
					b.Fatal(err)
				}
				_, req, err := q.Blind(synthetic(b, 0, n))
				if err != nil {
					b.Fatal(err)
				}
				reqBytes, _ := req.MarshalBinary()
				creq := &oprf.EvaluationRequest{}
				el := key.suite.params().elemLen
				for i := range n {
					e := key.suite.params().circl.Group().NewElement()
					if err := e.UnmarshalBinary(req.elems[i*el : (i+1)*el]); err != nil {
						b.Fatal(err)
					}
					creq.Elements = append(creq.Elements, e)
				}
				srv := newCirclServer(b, key, mode)
				info := kindInfo("email")
				evaluate := func(p *Publisher) time.Duration {
					start := time.Now()
					var r EvalRequest
					if err := r.UnmarshalBinary(reqBytes); err != nil {
						b.Fatal(err)
					}
					resp, err := p.Evaluate(&r)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := resp.MarshalBinary(); err != nil {
						b.Fatal(err)
					}
					return time.Since(start)
				}
				var ours, one, raw time.Duration
				for b.Loop() {
					ours += evaluate(p)
					b.StopTimer()
					if cores > 1 {
						one += evaluate(p1)
					}
					start := time.Now()
					if _, err := srv.eval(creq, info); err != nil {
						b.Fatal(err)
					}
					raw += time.Since(start)
					b.StartTimer()
				}
				report(b, ours, raw, n)
				if cores > 1 {
					b.ReportMetric(float64(one)/float64(ours), "speedup")
				}
			})
		}
	}
}

// BenchmarkQuery is the querier side of a query of n indicators against a
// filter of 10,000 entries, half of them shared: blind and encode the
// request, then decode the response, verify, finalize and test the filter.
// The circl baseline is its client's Blind and Finalize (which verifies)
// on the same inputs.
func BenchmarkQuery(b *testing.B) {
	for _, n := range []int{100, 1000, 4000} {
		benchmarkQuery(b, n)
	}
}

func benchmarkQuery(b *testing.B, n int) {
	for _, mode := range []Mode{ModePOPRF, ModeVOPRF} {
		key := testKey(b, SuiteRistretto255, 1)
		p := mustPublish(b, key, benchEntries(10000), &PublishOptions{Mode: mode})
		inds := synthetic(b, 10000-n/2, n) // half of them shared
		inputs := make([][]byte, n)
		for i, ind := range inds {
			inputs[i] = appendInput(nil, ind)
		}
		srv := newCirclServer(b, key, mode)
		info := kindInfo("email")
		for _, cores := range []int{1, 2} {
			b.Run(fmt.Sprintf("%v/n=%d/cores=%d", mode, n, cores), func(b *testing.B) {
				newQ := func(workers int) *Querier {
					q, err := NewQuerier(p.Filter(), &QuerierOptions{Workers: workers, ChunkSize: n / cores})
					if err != nil {
						b.Fatal(err)
					}
					return q
				}
				q, q1 := newQ(cores), newQ(1)
				// query times one query; the publisher's part is untimed.
				query := func(q *Querier) time.Duration {
					start := time.Now()
					qu, req, err := q.Blind(inds)
					if err != nil {
						b.Fatal(err)
					}
					reqBytes, _ := req.MarshalBinary()
					t := time.Since(start)
					var r EvalRequest
					r.UnmarshalBinary(reqBytes)
					resp, err := p.Evaluate(&r)
					if err != nil {
						b.Fatal(err)
					}
					respBytes, _ := resp.MarshalBinary()
					start = time.Now()
					var rr EvalResponse
					if err := rr.UnmarshalBinary(respBytes); err != nil {
						b.Fatal(err)
					}
					creq, err := qu.Finalize(&rr)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := creq.MarshalBinary(); err != nil || creq.Len() < n/2 {
						b.Fatalf("%d candidates, %v", creq.Len(), err)
					}
					return t + time.Since(start)
				}
				var ours, one, raw time.Duration
				for b.Loop() {
					ours += query(q)
					b.StopTimer()
					if cores > 1 {
						one += query(q1)
					}
					opk := new(oprf.PublicKey)
					if err := opk.UnmarshalBinary(key.suite.params().circl, key.pub.enc); err != nil {
						b.Fatal(err)
					}
					raw += circlQuery(b, key.suite, mode, opk, srv, inputs, info)
					b.StartTimer()
				}
				report(b, ours, raw, n)
				if cores > 1 {
					b.ReportMetric(float64(one)/float64(ours), "speedup")
				}
			})
		}
	}
}

// circlQuery times circl's client Blind and Finalize over inputs, with the
// server's evaluation untimed.
func circlQuery(b *testing.B, s Suite, m Mode, opk *oprf.PublicKey, srv circlServer, inputs [][]byte, info []byte) time.Duration {
	cs := s.params().circl
	start := time.Now()
	var fd *oprf.FinalizeData
	var er *oprf.EvaluationRequest
	var err error
	var finalize func(*oprf.Evaluation) ([][]byte, error)
	switch m {
	case ModePOPRF:
		c := oprf.NewPartialObliviousClient(cs, opk)
		fd, er, err = c.Blind(inputs)
		finalize = func(e *oprf.Evaluation) ([][]byte, error) { return c.Finalize(fd, e, info) }
	default:
		c := oprf.NewVerifiableClient(cs, opk)
		fd, er, err = c.Blind(inputs)
		finalize = func(e *oprf.Evaluation) ([][]byte, error) { return c.Finalize(fd, e) }
	}
	if err != nil {
		b.Fatal(err)
	}
	blind := time.Since(start)
	ev, err := srv.eval(er, info)
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if _, err := finalize(ev); err != nil {
		b.Fatal(err)
	}
	return blind + time.Since(start)
}

// BenchmarkCount is cardinality-only matching of n indicators against a
// list of 10,000 entries, 500 of them shared, on one core, for each side:
// the querier's BlindCount, encoding and Count (the publisher's part
// untimed), and the publisher's decoding, EvaluateCount (evaluate,
// shuffle, prove the sum) and encoding. It reports x-circl, the ratio to
// circl's own operations for the same elements measured in the same run
// (for the querier its client's Blind and Finalize, for the publisher its
// BlindEvaluate), and x-reveal, the ratio to this package's revealing
// query of the same elements (Blind and Finalize; Evaluate).
func BenchmarkCount(b *testing.B) {
	const n = 1000
	for _, mode := range []Mode{ModePOPRF, ModeVOPRF} {
		key := testKey(b, SuiteRistretto255, 1)
		p := mustPublish(b, key, benchEntries(10000), &PublishOptions{Mode: mode, Count: true})
		inds := synthetic(b, 9500, n)
		inputs := make([][]byte, n)
		for i, ind := range inds {
			inputs[i] = appendInput(nil, ind)
		}
		srv := newCirclServer(b, key, mode)
		info := kindInfo("email")
		opk := new(oprf.PublicKey)
		if err := opk.UnmarshalBinary(key.suite.params().circl, key.pub.enc); err != nil {
			b.Fatal(err)
		}
		opts := &QuerierOptions{Workers: 1, ChunkSize: n}
		cq, err := NewQuerier(p.CountFilter(), opts)
		if err != nil {
			b.Fatal(err)
		}
		rq, err := NewQuerier(p.Filter(), opts)
		if err != nil {
			b.Fatal(err)
		}
		p1 := *p
		p1.workers = 1
		var query *CountQuery
		count := func() (querier, publisher time.Duration) {
			return exchangeTimes(b, func() binaryCodec {
				var req *CountRequest
				query, req, err = cq.BlindCount(inds)
				if err != nil {
					b.Fatal(err)
				}
				return req
			}, func(reqBytes []byte) binaryCodec {
				var r CountRequest
				if err := r.UnmarshalBinary(reqBytes); err != nil {
					b.Fatal(err)
				}
				resp, err := p1.EvaluateCount(&r)
				if err != nil {
					b.Fatal(err)
				}
				return resp
			}, func(respBytes []byte) {
				var rr CountResponse
				if err := rr.UnmarshalBinary(respBytes); err != nil {
					b.Fatal(err)
				}
				res, err := query.Count(&rr)
				if err != nil || res.Shared != 500 {
					b.Fatalf("counted %d, %v", res.Shared, err)
				}
			})
		}
		var qu *Query
		reveal := func() (querier, publisher time.Duration) {
			return exchangeTimes(b, func() binaryCodec {
				var req *EvalRequest
				qu, req, err = rq.Blind(inds)
				if err != nil {
					b.Fatal(err)
				}
				return req
			}, func(reqBytes []byte) binaryCodec {
				var r EvalRequest
				if err := r.UnmarshalBinary(reqBytes); err != nil {
					b.Fatal(err)
				}
				resp, err := p1.Evaluate(&r)
				if err != nil {
					b.Fatal(err)
				}
				return resp
			}, func(respBytes []byte) {
				var rr EvalResponse
				if err := rr.UnmarshalBinary(respBytes); err != nil {
					b.Fatal(err)
				}
				if _, err := qu.Finalize(&rr); err != nil {
					b.Fatal(err)
				}
			})
		}
		creq := &oprf.EvaluationRequest{}
		_, req, err := rq.Blind(inds)
		if err != nil {
			b.Fatal(err)
		}
		el := key.suite.params().elemLen
		for i := range n {
			e := key.suite.params().circl.Group().NewElement()
			if err := e.UnmarshalBinary(req.elems[i*el : (i+1)*el]); err != nil {
				b.Fatal(err)
			}
			creq.Elements = append(creq.Elements, e)
		}
		for _, role := range []string{"querier", "publisher"} {
			b.Run(fmt.Sprintf("%v/%s/n=%d", mode, role, n), func(b *testing.B) {
				var ours, rev, raw time.Duration
				for b.Loop() {
					q, pub := count()
					b.StopTimer()
					rq, rp := reveal()
					if role == "querier" {
						ours, rev = ours+q, rev+rq
						raw += circlQuery(b, key.suite, mode, opk, srv, inputs, info)
					} else {
						ours, rev = ours+pub, rev+rp
						start := time.Now()
						if _, err := srv.eval(creq, info); err != nil {
							b.Fatal(err)
						}
						raw += time.Since(start)
					}
					b.StartTimer()
				}
				report(b, ours, raw, n)
				b.ReportMetric(float64(ours)/float64(rev), "x-reveal")
			})
		}
	}
}

// exchangeTimes times one exchange in three steps: the querier's first
// (blind, then the request is encoded), the publisher's (decode the
// request, evaluate, encode the response), and the querier's last (decode
// the response, finish). It returns the querier's time and the
// publisher's.
func exchangeTimes(b *testing.B, first func() binaryCodec, middle func([]byte) binaryCodec, last func([]byte)) (querier, publisher time.Duration) {
	encode := func(m binaryCodec) []byte {
		out, err := m.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	start := time.Now()
	req := encode(first())
	querier = time.Since(start)
	start = time.Now()
	resp := encode(middle(req))
	publisher = time.Since(start)
	start = time.Now()
	last(resp)
	return querier + time.Since(start), publisher
}
