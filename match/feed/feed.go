package feed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"math"
	"strings"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// A Format is an input format.
type Format int

const (
	// Auto detects the format from the content: JSON with a STIX bundle
	// or objects, JSON with a MISP event, CSV with a header naming a value
	// column, or else a line list.
	Auto Format = iota
	// STIX is a STIX 2.1 bundle, array of objects or single object.
	STIX
	// MISP is a MISP event: {"Event": {...}}, the bare event, or a MISP
	// API response {"response": [{"Event": ...}, ...]}.
	MISP
	// CSV has a header row; see [Options] for its columns.
	CSV
	// Lines is one value per line, of [Options.Kind].
	Lines
)

var formatNames = [...]string{Auto: "auto", STIX: "stix", MISP: "misp", CSV: "csv", Lines: "lines"}

func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat returns the format named s: "stix", "misp", "csv", "lines",
// or "auto" (or "").
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return Auto, nil
	}
	for f, n := range formatNames {
		if strings.EqualFold(s, n) {
			return Format(f), nil
		}
	}
	return 0, fmt.Errorf("feed: unknown format %q (want stix, misp, csv, lines or auto)", s)
}

// Options configure a [Reader]. The zero value detects the format.
type Options struct {
	// Format is the input format; Auto detects it.
	Format Format
	// Kind is the kind of every value of a line list, and of a CSV file
	// without a kind column.
	Kind *indicator.Kind
	// PhoneRegion, an ISO 3166-1 alpha-2 code, reads national-format phone
	// numbers as numbers of that country (see indicator.ParsePhone). Without
	// it such numbers are rejected.
	PhoneRegion string
	// CSV column names, matched without regard to case. The defaults are
	// "value" (or "indicator", "ioc"), "kind" (or "type"), "ref" (or
	// "reference", "id", "uuid") and "label".
	ValueColumn, KindColumn, RefColumn, LabelColumn string
	// Label, if not nil, chooses the label of every entry (the text a
	// partner receives on a confirmed hit) from the record it comes from.
	// Without it entries of CSV files take the label column, and others
	// have no label: what a partner may see is the publisher's decision.
	// A record whose label or reference match.CheckLabel refuses (too
	// long, not UTF-8, a control character such as a newline or tab) is
	// rejected, naming the field: join multi-line text with spaces here.
	Label func(Source) string
	// OnReject, if not nil, is called for every record that is not
	// imported. Without it the Reader keeps them (see [Reader.Rejects]),
	// which costs memory in proportion to the rejects: set it when reading
	// inputs that may be mostly invalid.
	OnReject func(Reject)
}

// A Source describes the record an entry comes from.
type Source struct {
	Format Format
	Where  string // as in Reject.Where
	ID     string // STIX indicator id, MISP attribute UUID, CSV reference
	Name   string // STIX indicator name, MISP event info, CSV label column
}

// A Reject is a record, or part of one, that was not imported, and why.
type Reject struct {
	// Where locates the record: "line 12", "indicator--<uuid>",
	// "attribute <uuid>".
	Where string
	// Reason says what was wrong, without quoting the value.
	Reason string
	// Unsupported is true for a record of a type or pattern this package
	// does not import, false for an invalid value of a supported one.
	Unsupported bool
}

func (r Reject) String() string {
	if r.Unsupported {
		return r.Where + ": unsupported: " + r.Reason
	}
	return r.Where + ": rejected: " + r.Reason
}

// Summary counts what a Reader did.
type Summary struct {
	Format      Format // the format read (detected, for Auto)
	Imported    int    // entries produced
	Rejected    int    // invalid values, labels or references
	Unsupported int    // records or parts of a type or pattern not imported
	Skipped     int    // blank and comment lines of text formats
}

// Limits.
const (
	// MaxRecordBytes bounds one record: a CSV row, a STIX object, a MISP
	// attribute or object, or a value outside them. A larger record (give
	// or take the 128 KiB the reader buffers ahead) is a fatal error,
	// reported before more is buffered. Lines of line lists have their
	// own, smaller limit and are rejected one by one.
	MaxRecordBytes = 4 << 20
	// sniffBytes is how much the format detection looks at.
	sniffBytes = 8 << 10
)

// ErrRecordTooLarge reports a record above MaxRecordBytes.
var ErrRecordTooLarge = errors.New("feed: record larger than MaxRecordBytes")

// A Reader reads entries from one input.
type Reader struct {
	in      *budgetReader
	br      *bufio.Reader
	opts    Options
	sum     Summary
	rejects []Reject
	err     error
	used    bool
	feedFS  fs.FS // a MISP feed directory, for NewMISPFeedReader
	// mispSeen records that the MISP document read so far had an event.
	mispSeen bool
}

// NewReader returns a Reader of the input r.
func NewReader(r io.Reader, opts *Options) *Reader {
	rd := &Reader{}
	if opts != nil {
		rd.opts = *opts
	}
	rd.in = &budgetReader{r: r}
	rd.in.reset()
	rd.br = bufio.NewReaderSize(rd.in, 64<<10)
	return rd
}

// Entries returns the entries of the input, read as they are consumed, so
// that memory does not grow with the input. It can be ranged over once.
// Records that are not imported go to [Options.OnReject] or
// [Reader.Rejects]; a fatal error (unreadable input, broken JSON or CSV
// structure) ends the sequence and is returned by [Reader.Err].
func (r *Reader) Entries() iter.Seq[match.Entry] {
	return func(yield func(match.Entry) bool) {
		if r.used {
			r.fail(errors.New("feed: Entries ranged over twice"))
			return
		}
		r.used = true
		f := r.opts.Format
		if f == Auto {
			var err error
			if f, err = r.detect(); err != nil {
				r.fail(err)
				return
			}
		}
		r.sum.Format = f
		emit := func(src Source, ind indicator.Indicator, label string) bool {
			if r.opts.Label != nil {
				label = r.opts.Label(src)
			}
			// What match.Publish would refuse is a reject of this
			// record, not a publication that fails.
			if err := match.CheckLabel(label); err != nil {
				r.reject(src.Where, "label: "+err.Error(), false)
				return true
			}
			if err := match.CheckLabel(src.ID); err != nil {
				r.reject(src.Where, "reference: "+err.Error(), false)
				return true
			}
			r.sum.Imported++
			return yield(match.Entry{Indicator: ind, Label: label, Ref: src.ID})
		}
		var err error
		switch f {
		case STIX:
			err = r.readSTIX(emit)
		case MISP:
			err = r.readMISP(emit)
		case CSV:
			err = r.readCSV(emit)
		case Lines:
			err = r.readLines(emit)
		default:
			err = fmt.Errorf("feed: invalid format %v", f)
		}
		if err != nil && !errors.Is(err, errStopped) {
			r.fail(err)
		}
	}
}

// errStopped is returned internally when the consumer stops ranging.
var errStopped = errors.New("feed: stopped")

// emitFunc hands an entry to the consumer; false means stop.
type emitFunc func(src Source, ind indicator.Indicator, label string) bool

func (r *Reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Err returns the fatal error that ended reading, if any.
func (r *Reader) Err() error { return r.err }

// Summary returns the counts so far.
func (r *Reader) Summary() Summary { return r.sum }

// Rejects returns the records not imported, when Options.OnReject is nil.
func (r *Reader) Rejects() []Reject { return r.rejects }

func (r *Reader) reject(where, reason string, unsupported bool) {
	rj := Reject{Where: where, Reason: reason, Unsupported: unsupported}
	if unsupported {
		r.sum.Unsupported++
	} else {
		r.sum.Rejected++
	}
	if r.opts.OnReject != nil {
		r.opts.OnReject(rj)
		return
	}
	r.rejects = append(r.rejects, rj)
}

// rejectErr records an invalid value, keeping only the reason of an
// indicator error (which never quotes the value).
func (r *Reader) rejectErr(where string, err error) {
	var ie *indicator.Error
	if errors.As(err, &ie) {
		r.reject(where, "invalid "+ie.Kind+": "+ie.Reason, false)
		return
	}
	r.reject(where, err.Error(), false)
}

// detect looks at the start of the input.
func (r *Reader) detect() (Format, error) {
	head, err := r.br.Peek(sniffBytes)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return 0, fmt.Errorf("feed: reading: %w", err)
	}
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		switch {
		case containsKey(t, "Event"), containsKey(t, "Attribute"), containsKey(t, "response"):
			return MISP, nil
		case containsKey(t, "spec_version"), containsKey(t, "pattern"), containsKey(t, "objects"):
			return STIX, nil
		}
		return 0, errors.New("feed: JSON input that is neither a STIX 2.1 bundle nor a MISP event; set Options.Format")
	}
	for _, line := range bytes.Split(t, []byte("\n")) {
		l := strings.TrimSpace(string(line))
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.ContainsAny(l, ",;\t") && csvHeaderHasValue(l, &r.opts) {
			return CSV, nil
		}
		break
	}
	return Lines, nil
}

func containsKey(b []byte, key string) bool { return bytes.Contains(b, []byte(`"`+key+`"`)) }

// budgetReader fails a read once more than MaxRecordBytes have been read
// since the last reset; readers reset it at every record boundary.
type budgetReader struct {
	r    io.Reader
	left int
}

func (b *budgetReader) reset() { b.left = MaxRecordBytes + 128<<10 } // + the buffers' read-ahead

// unlimited lifts the budget, for readers that bound records themselves
// (the JSON formats).
func (b *budgetReader) unlimited() { b.left = math.MaxInt }

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, ErrRecordTooLarge
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}
