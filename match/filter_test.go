package match

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"math"
	mathrand "math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
)

func FuzzFilter(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var fl Filter
		if fl.UnmarshalBinary(b) != nil {
			return
		}
		checkReencode(t, b, &fl)
		if q, err := NewQuerier(&fl, &QuerierOptions{InsecureAllowOPRF: true, MaxFalsePositiveRate: 0.5}); err == nil {
			q.Blind(synthetic(t, 0, 2))
		}
	})
}

func TestFilterMetadata(t *testing.T) {
	nb, na := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	key := testKey(t, SuiteP256, 7)
	p := mustPublish(t, key, entriesOf(synthetic(t, 0, 10), nil), &PublishOptions{Mode: ModeVOPRF, Epoch: 42, NotBefore: nb, NotAfter: na})
	var f Filter
	reencode(t, p.Filter(), &f)
	if f.Suite() != SuiteP256 || f.Mode() != ModeVOPRF || f.Epoch() != 42 || f.KeyID() != key.KeyID() ||
		!f.NotBefore().Equal(nb) || !f.NotAfter().Equal(na) || !f.PublicKey().Equal(key.Public()) || f.Len() != 10 {
		t.Fatalf("filter metadata did not survive encoding: %v %v %d %v %v %v", f.Suite(), f.Mode(), f.Epoch(), f.KeyID(), f.NotBefore(), f.NotAfter())
	}
	for _, c := range []struct {
		t    time.Time
		want bool
	}{{nb.Add(-time.Second), false}, {nb, true}, {na, true}, {na.Add(time.Second), false}} {
		if f.ValidAt(c.t) != c.want {
			t.Errorf("ValidAt(%v) = %v", c.t, !c.want)
		}
	}
	if b, _ := f.MarshalBinary(); f.Size() != len(b) {
		t.Errorf("Size() = %d, encoding is %d bytes", f.Size(), len(b))
	}
}

// TestFilterFalsePositiveRate measures the Bloom filter alone, over
// random tags, at a rate high enough to count: the measured rate must be
// within 5 sigma of the configured one.
func TestFilterFalsePositiveRate(t *testing.T) {
	const n, trials, fpr = 20_000, 400_000, 1e-3
	f, idx := randomFilter(t, n, fpr)
	pos := newPositioner()
	fp := 0
	for range trials {
		if f.contains(pos, randomTag()) {
			fp++
		}
	}
	for _, e := range idx {
		if !f.contains(pos, e.tag) {
			t.Fatal("false negative")
		}
	}
	mean := fpr * trials
	if sigma := math.Sqrt(mean); math.Abs(float64(fp)-mean) > 5*sigma {
		t.Errorf("%d false positives in %d trials, want %.0f ± %.0f", fp, trials, mean, 5*sigma)
	}
	if est := f.EstimatedFalsePositiveRate(); est < fpr/2 || est > 2*fpr {
		t.Errorf("estimated rate %g, configured %g", est, fpr)
	}
}

func randomTag() (t tag) {
	rand.Read(t[:])
	return t
}

func randomFilter(t *testing.T, n int, fpr float64) (*Filter, []indexEntry) {
	t.Helper()
	idx := make([]indexEntry, n)
	for i := range idx {
		idx[i].tag = randomTag()
	}
	idx, err := sortIndex(idx)
	if err != nil {
		t.Fatal(err)
	}
	f, err := buildFilter(idx, fpr, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f, idx
}

// TestSmallFiltersKeepTheirRate: small filters (few bits, many hashes)
// keep the false-positive rate their set bits give. Regression test: with
// bloom's double hashing, positions collapsed for small m, and a filter of
// one entry let through about 3 in 1000 random indicators against a
// configured 1e-9.
func TestSmallFiltersKeepTheirRate(t *testing.T) {
	const trials = 200_000
	pos := newPositioner()
	// The filters' tags are fixed: how many distinct bits a small
	// filter's k positions set varies from one set of tags to another, and
	// with random tags one run in a few hundred drew a one-entry filter
	// whose set bits give more than 1e-6.
	seeded := mathrand.NewChaCha8([32]byte{'s', 'm', 'a', 'l', 'l'})
	for _, n := range []int{1, 3, 10} {
		idx := make([]indexEntry, n)
		for i := range idx {
			seeded.Read(idx[i].tag[:])
		}
		idx, err := sortIndex(idx)
		if err != nil {
			t.Fatal(err)
		}
		f, err := buildFilter(idx, DefaultFalsePositiveRate, 0)
		if err != nil {
			t.Fatal(err)
		}
		fp := 0
		for range trials {
			if f.contains(pos, randomTag()) {
				fp++
			}
		}
		// Expected trials·(X/m)^k, far below one.
		if est := f.EstimatedFalsePositiveRate(); fp > 2 || est > 1e-6 {
			t.Errorf("n=%d (m=%d, k=%d): %d of %d random tags pass, estimate %g", n, f.Bits(), f.Hashes(), fp, trials, est)
		}
	}
}

// TestForgedTinyFilter is the attack the density check exists for: a
// publisher forges a filter of m = 2 bits, one set, k = 64. Its estimated
// rate (1/2)^64 must be the real one, so the querier may accept it.
// Regression test: with bloom's double hashing about 12% of a querier's
// indicators passed this filter and went to the publisher at confirm time.
func TestForgedTinyFilter(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 7), nil, nil)
	f := *p.Filter()
	f.bf = bloom.New(2, 64)
	f.bf.BitSet().Set(0)
	f.n, f.setBits = 1, 1
	if _, err := NewQuerier(&f, nil); err != nil {
		t.Fatalf("querier refused a harmless filter: %v", err)
	}
	pos := newPositioner()
	for i := range 100_000 {
		if f.contains(pos, randomTag()) {
			t.Fatalf("random tag %d passed a filter whose rate is 2^-64", i)
		}
	}
}

// TestDenseFilterRefused: a publisher that sets most bits would make every
// query a candidate and harvest the querier's list at confirm time.
func TestDenseFilterRefused(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 4), entriesOf(synthetic(t, 0, 100), nil), nil)
	honest := p.Filter()
	if _, err := NewQuerier(honest, nil); err != nil {
		t.Fatalf("honest filter refused: %v", err)
	}
	if fpr := honest.EstimatedFalsePositiveRate(); fpr > 1e-8 {
		t.Errorf("honest filter at the default rate estimates %g", fpr)
	}
	b, _ := honest.MarshalBinary()
	set := func(b []byte, frac float64) []byte {
		b = bytes.Clone(b)
		bitsOff := filterFixedLen(SuiteRistretto255)
		m := honest.Bits()
		for i := 0; i < int(float64(m)*frac); i++ {
			b[bitsOff+i/8] |= 1 << (i % 8)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		opts *QuerierOptions
		want string
	}{
		{"all ones", set(b, 1), nil, "more than k·n"},
		{"a third more ones", set(b, 0.3), nil, "honest filter"},
		{"declared n large", withN(t, set(b, 0.7), 1_000_000), nil, "false-positive rate"},
		{"bound tighter than rate", b, &QuerierOptions{MaxFalsePositiveRate: 1e-30}, "false-positive rate"},
	} {
		var f Filter
		if err := f.UnmarshalBinary(tc.data); err != nil {
			t.Fatal(err)
		}
		_, err := NewQuerier(&f, tc.opts)
		if !errors.Is(err, ErrUnsafeFilter) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrUnsafeFilter (%s)", tc.name, err, tc.want)
		}
	}
}

func withN(t *testing.T, b []byte, n uint64) []byte {
	t.Helper()
	off := msgHeaderLen + SuiteRistretto255.params().elemLen + 24
	b = bytes.Clone(b)
	for i := range 8 {
		b[off+i] = byte(n >> (56 - 8*i))
	}
	return b
}

// The querier's maxima: a filter declaring more entries, or longer, than
// QuerierOptions allow is refused, by NewQuerier and by ReadFilter before
// it reads the bits. Regression test for finding 2 of issue 8: any n up to
// 2^32-1 and any filter up to 4 GiB were accepted.
func TestFilterMaxima(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 4), entriesOf(synthetic(t, 0, 100), nil), nil)
	b, _ := p.Filter().MarshalBinary()
	big := withN(t, b, DefaultMaxFilterEntries+1)
	for _, c := range []struct {
		name string
		data []byte
		opts *QuerierOptions
		want string // "" accepted
	}{
		{"honest", b, nil, ""},
		{"above the default entries", big, nil, "entries, above the maximum 4194304"},
		{"entries raised", big, &QuerierOptions{MaxEntries: DefaultMaxFilterEntries + 1}, ""},
		{"entries lowered", b, &QuerierOptions{MaxEntries: 99}, "100 entries, above the maximum 99"},
		{"bytes lowered", b, &QuerierOptions{MaxFilterBytes: int64(len(b) - 1)}, "bytes, above the maximum"},
		{"bytes exact", b, &QuerierOptions{MaxFilterBytes: int64(len(b))}, ""},
	} {
		var f Filter
		if err := f.UnmarshalBinary(c.data); err != nil {
			t.Fatal(err)
		}
		_, err := NewQuerier(&f, c.opts)
		// ReadFilter refuses before it reads a single byte of the bits.
		fixed := c.data[:filterFixedLen(SuiteRistretto255)]
		_, rerr := ReadFilter(io.MultiReader(bytes.NewReader(fixed), errReader{}), c.opts)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: NewQuerier: %v", c.name, err)
		case c.want == "" && !errors.Is(rerr, errBits):
			t.Errorf("%s: ReadFilter did not read the bits: %v", c.name, rerr)
		case c.want != "" && (!errors.Is(err, ErrUnsafeFilter) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: NewQuerier: %v, want ErrUnsafeFilter (%s)", c.name, err, c.want)
		case c.want != "" && (!errors.Is(rerr, ErrUnsafeFilter) || !strings.Contains(rerr.Error(), c.want)):
			t.Errorf("%s: ReadFilter: %v, want ErrUnsafeFilter (%s)", c.name, rerr, c.want)
		}
	}
	for _, o := range []*QuerierOptions{{MaxEntries: -1}, {MaxFilterBytes: -1}} {
		if _, err := NewQuerier(p.Filter(), o); err == nil {
			t.Errorf("options %+v accepted", *o)
		}
		if _, err := ReadFilter(bytes.NewReader(b), o); err == nil {
			t.Errorf("ReadFilter: options %+v accepted", *o)
		}
	}
}

var errBits = errors.New("the bits were read")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBits }

// ReadFilter decodes what UnmarshalBinary decodes, reading exactly the
// filter and leaving what follows; every proper prefix is ErrTruncated,
// and a failing reader's error is returned.
func TestReadFilter(t *testing.T) {
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		p := mustPublish(t, testKey(t, s, 4), entriesOf(synthetic(t, 0, 300), nil), &PublishOptions{Epoch: 9})
		b, _ := p.Filter().MarshalBinary()
		r := bytes.NewReader(append(bytes.Clone(b), "next"...))
		f, err := ReadFilter(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkReencode(t, b, f)
		if rest, _ := io.ReadAll(r); string(rest) != "next" {
			t.Errorf("%v: ReadFilter left %q", s, rest)
		}
		if f.SetBits() != p.Filter().SetBits() || f.EstimatedFalsePositiveRate() != p.Filter().EstimatedFalsePositiveRate() {
			t.Errorf("%v: set bits %d, want %d", s, f.SetBits(), p.Filter().SetBits())
		}
		for n := range len(b) {
			if _, err := ReadFilter(bytes.NewReader(b[:n]), nil); !errors.Is(err, ErrTruncated) {
				t.Fatalf("%v: cut at %d of %d: %v", s, n, len(b), err)
			}
		}
		if _, err := ReadFilter(io.MultiReader(bytes.NewReader(b[:len(b)-3]), errReader{}), nil); !errors.Is(err, errBits) {
			t.Errorf("%v: reader error: %v", s, err)
		}
	}
}

// TestReadFilterMemory: reading a filter allocates its bits and little
// else. Regression test for finding 3 of issue 8: accepting a filter cost
// 4.5 times its size (the body read whole, copied, then decoded).
func TestReadFilterMemory(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 4), nil, nil)
	b, _ := p.Filter().MarshalBinary()
	const m = 1 << 26 // 8 MiB of bits
	b = bytes.Clone(b[:filterFixedLen(SuiteRistretto255)])
	binary.BigEndian.PutUint64(b[len(b)-9:], m)
	b = append(b, make([]byte, m/8)...)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := ReadFilter(bytes.NewReader(b), &QuerierOptions{MaxFilterBytes: int64(len(b))})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > m/8+256<<10 {
		t.Errorf("reading a filter of %d bytes allocated %d", len(b), alloc)
	}
	runtime.KeepAlive(f)
}

func FuzzReadFilter(f *testing.F) {
	fixture(f)
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		opts := &QuerierOptions{MaxEntries: MaxEntries, MaxFilterBytes: limit}
		fr, err := ReadFilter(bytes.NewReader(b), opts)
		var fu Filter
		uerr := fu.UnmarshalBinary(b)
		if uerr == nil && len(b) <= limit && err != nil {
			t.Fatalf("UnmarshalBinary accepts, ReadFilter refuses: %v", err)
		}
		if err != nil {
			return
		}
		// ReadFilter read exactly one filter, which UnmarshalBinary
		// accepts alone.
		n := fr.Size()
		checkReencode(t, b[:n], fr)
		if err := fu.UnmarshalBinary(b[:n]); err != nil {
			t.Fatalf("ReadFilter accepts %d bytes, UnmarshalBinary refuses: %v", n, err)
		}
		if (uerr == nil) != (n == len(b)) {
			t.Fatalf("ReadFilter read %d of %d bytes; UnmarshalBinary: %v", n, len(b), uerr)
		}
	})
}
