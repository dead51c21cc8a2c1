package feed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// maxLineBytes bounds one line of a text format.
const maxLineBytes = 64 << 10

// readLine returns the next line without its end, or ok=false at the end
// of input. A line longer than maxLineBytes is consumed and returned as
// long=true, without its content.
func (r *Reader) readLine() (line []byte, long, ok bool, err error) {
	r.in.reset()
	var buf []byte
	for {
		part, isPrefix, err := r.br.ReadLine()
		if err == io.EOF {
			return nil, false, len(buf) > 0 || long, nil
		}
		if err != nil {
			return nil, false, false, fmt.Errorf("feed: reading: %w", err)
		}
		if !long {
			buf = append(buf, part...)
			if len(buf) > maxLineBytes {
				long, buf = true, nil
			}
		}
		if !isPrefix {
			return buf, long, true, nil
		}
		r.in.reset()
	}
}

// valueOf canonicalizes a value of kind k, understanding phone numbers in
// national format when a region is set.
func (r *Reader) valueOf(k *indicator.Kind, v string) (indicator.Indicator, error) {
	if k == indicator.Phone && r.opts.PhoneRegion != "" {
		return indicator.ParsePhone(v, r.opts.PhoneRegion)
	}
	return indicator.New(k, v)
}

func (r *Reader) readLines(emit emitFunc) error {
	if r.opts.Kind == nil {
		return errors.New("feed: a line list needs Options.Kind")
	}
	for n := 1; ; n++ {
		line, long, ok, err := r.readLine()
		if err != nil || !ok {
			return err
		}
		where := fmt.Sprintf("line %d", n)
		if long {
			r.reject(where, fmt.Sprintf("line longer than %d bytes", maxLineBytes), false)
			continue
		}
		s := strings.TrimSpace(string(bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))))
		if s == "" || strings.HasPrefix(s, "#") {
			r.sum.Skipped++
			continue
		}
		ind, err := r.valueOf(r.opts.Kind, s)
		if err != nil {
			r.rejectErr(where, err)
			continue
		}
		if !emit(Source{Format: Lines, Where: where, ID: where}, ind, "") {
			return errStopped
		}
	}
}
