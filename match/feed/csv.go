package feed

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fedmatch/fedmatch/match/indicator"
)

var (
	valueColumns = []string{"value", "indicator", "ioc"}
	kindColumns  = []string{"kind", "type"}
	refColumns   = []string{"ref", "reference", "id", "uuid"}
	labelColumns = []string{"label"}
)

// ipKindNames are kind-column values that mean "an IP address or network
// of either family".
var ipKindNames = []string{"ip", "ip-src", "ip-dst", "ip-address", "ipaddress", "ip-addr", "cidr"}

// csvDelimiter picks the delimiter of a header line: the most frequent of
// ',', ';' and tab.
func csvDelimiter(header string) rune {
	best, n := ',', strings.Count(header, ",")
	for _, c := range []rune{';', '\t'} {
		if m := strings.Count(header, string(c)); m > n {
			best, n = c, m
		}
	}
	return best
}

func splitHeader(header string) []string {
	cr := csv.NewReader(strings.NewReader(header))
	cr.Comma = csvDelimiter(header)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	fields, _ := cr.Read()
	for i := range fields {
		fields[i] = strings.ToLower(strings.TrimSpace(fields[i]))
	}
	return fields
}

func column(header []string, option string, defaults []string) int {
	if option != "" {
		return slices.Index(header, strings.ToLower(option))
	}
	for _, name := range defaults {
		if i := slices.Index(header, name); i >= 0 {
			return i
		}
	}
	return -1
}

func csvHeaderHasValue(line string, o *Options) bool {
	return column(splitHeader(line), o.ValueColumn, valueColumns) >= 0
}

// csvColumns are the positions of the columns a CSV feed is read from, as
// its header names them; -1 for a column the header lacks.
type csvColumns struct {
	value, kind, ref, label int
}

func (r *Reader) readCSV(emit emitFunc) error {
	cr := csv.NewReader(r.br)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.ReuseRecord = true
	r.in.reset()
	cr.Comma = r.peekCSVDelimiter()
	cols, err := r.readCSVHeader(cr)
	if err != nil {
		return err
	}
	for {
		r.in.reset()
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && !errors.Is(err, ErrRecordTooLarge) {
			r.reject(fmt.Sprintf("line %d", pe.Line), "malformed CSV row: "+pe.Err.Error(), false)
			continue
		}
		if err != nil {
			if errors.Is(err, ErrRecordTooLarge) {
				return err
			}
			return fmt.Errorf("feed: CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if !r.csvRow(cols, rec, fmt.Sprintf("line %d", line), emit) {
			return errStopped
		}
	}
}

// peekCSVDelimiter returns the delimiter of the header, the first line
// that is neither blank nor a comment, without consuming input.
func (r *Reader) peekCSVDelimiter() rune {
	head, _ := r.br.Peek(sniffBytes)
	for _, l := range strings.Split(string(head), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return csvDelimiter(t)
		}
	}
	return ','
}

// readCSVHeader reads the header row and finds the columns in it. A
// malformed header ends the feed: without it no row can be read.
func (r *Reader) readCSVHeader(cr *csv.Reader) (csvColumns, error) {
	rec, err := cr.Read()
	if err == io.EOF {
		return csvColumns{}, errors.New("feed: CSV input without a header row")
	}
	if err != nil {
		if errors.Is(err, ErrRecordTooLarge) {
			return csvColumns{}, err
		}
		return csvColumns{}, fmt.Errorf("feed: CSV: %w", err)
	}
	header := make([]string, len(rec))
	for i, f := range rec {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(f, "\ufeff")))
	}
	cols := csvColumns{
		value: column(header, r.opts.ValueColumn, valueColumns),
		kind:  column(header, r.opts.KindColumn, kindColumns),
		ref:   column(header, r.opts.RefColumn, refColumns),
		label: column(header, r.opts.LabelColumn, labelColumns),
	}
	switch {
	case cols.value < 0:
		return csvColumns{}, fmt.Errorf("feed: CSV header has no value column (%s)", strings.Join(valueColumns, ", "))
	case cols.kind < 0 && r.opts.Kind == nil:
		return csvColumns{}, fmt.Errorf("feed: CSV header has no kind column (%s) and Options.Kind is not set", strings.Join(kindColumns, ", "))
	}
	return cols, nil
}

// csvRow turns one data row into an entry and emits it, or rejects the
// row. It returns false when the consumer stops.
func (r *Reader) csvRow(cols csvColumns, rec []string, where string, emit emitFunc) bool {
	field := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	value := field(cols.value)
	if value == "" {
		r.reject(where, "empty value", false)
		return true
	}
	var ind indicator.Indicator
	var err error
	if cols.kind >= 0 && field(cols.kind) != "" {
		ind, err = r.byKindName(field(cols.kind), value)
	} else if r.opts.Kind != nil {
		ind, err = r.valueOf(r.opts.Kind, value)
	} else {
		r.reject(where, "no kind", false)
		return true
	}
	if errors.Is(err, indicator.ErrUnknownKind) {
		r.reject(where, fmt.Sprintf("kind %q is not supported", truncateName(field(cols.kind))), true)
		return true
	}
	if err != nil {
		r.rejectErr(where, err)
		return true
	}
	id := field(cols.ref)
	if id == "" {
		id = where
	}
	src := Source{Format: CSV, Where: where, ID: id, Name: field(cols.label)}
	return emit(src, ind, field(cols.label))
}

// byKindName canonicalizes value as the kind a CSV or MISP type names.
func (r *Reader) byKindName(kind, value string) (indicator.Indicator, error) {
	if slices.Contains(ipKindNames, strings.ToLower(kind)) {
		return indicator.ParseIP(value)
	}
	k, err := indicator.Lookup(kind)
	if err != nil {
		return indicator.Indicator{}, err
	}
	return r.valueOf(k, value)
}

// truncateName keeps a type name from the input short in a message.
func truncateName(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
