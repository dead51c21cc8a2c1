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

func (r *Reader) readCSV(emit emitFunc) error {
	cr := csv.NewReader(r.br)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.ReuseRecord = true
	var header []string
	var valueCol, kindCol, refCol, labelCol int
	first := true
	for {
		r.in.reset()
		if first {
			// The delimiter is the header's: peek at it.
			head, _ := r.br.Peek(sniffBytes)
			for _, l := range strings.Split(string(head), "\n") {
				if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
					cr.Comma = csvDelimiter(t)
					break
				}
			}
		}
		rec, err := cr.Read()
		if err == io.EOF {
			if first {
				return errors.New("feed: CSV input without a header row")
			}
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && !first && !errors.Is(err, ErrRecordTooLarge) {
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
		where := fmt.Sprintf("line %d", line)
		if first {
			first = false
			header = make([]string, len(rec))
			for i, f := range rec {
				header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(f, "\ufeff")))
			}
			valueCol = column(header, r.opts.ValueColumn, valueColumns)
			kindCol = column(header, r.opts.KindColumn, kindColumns)
			refCol = column(header, r.opts.RefColumn, refColumns)
			labelCol = column(header, r.opts.LabelColumn, labelColumns)
			switch {
			case valueCol < 0:
				return fmt.Errorf("feed: CSV header has no value column (%s)", strings.Join(valueColumns, ", "))
			case kindCol < 0 && r.opts.Kind == nil:
				return fmt.Errorf("feed: CSV header has no kind column (%s) and Options.Kind is not set", strings.Join(kindColumns, ", "))
			}
			continue
		}
		field := func(i int) string {
			if i < 0 || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		value := field(valueCol)
		if value == "" {
			r.reject(where, "empty value", false)
			continue
		}
		var ind indicator.Indicator
		if kindCol >= 0 && field(kindCol) != "" {
			ind, err = r.byKindName(field(kindCol), value)
		} else if r.opts.Kind != nil {
			ind, err = r.valueOf(r.opts.Kind, value)
		} else {
			r.reject(where, "no kind", false)
			continue
		}
		if errors.Is(err, indicator.ErrUnknownKind) {
			r.reject(where, fmt.Sprintf("kind %q is not supported", truncateName(field(kindCol))), true)
			continue
		}
		if err != nil {
			r.rejectErr(where, err)
			continue
		}
		id := field(refCol)
		if id == "" {
			id = where
		}
		src := Source{Format: CSV, Where: where, ID: id, Name: field(labelCol)}
		if !emit(src, ind, field(labelCol)) {
			return errStopped
		}
	}
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
