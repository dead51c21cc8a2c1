package feed

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonReader is a streaming reader of JSON (RFC 8259) for the importers.
// It validates everything it reads exactly as encoding/json does
// (FuzzJSONReader checks that against json.Valid) but decodes only the
// members the importers ask for and skips the rest without building
// values, which makes it several times faster than encoding/json on
// STIX and MISP exports, where most of each object is metadata.
//
// The reader buffers the input; a record (whatever lies between two calls
// of mark) larger than MaxRecordBytes is ErrRecordTooLarge.
type jsonReader struct {
	r     io.Reader
	buf   []byte
	pos   int // next unread byte
	mark  int // start of the current record in buf; bytes before it may go
	eof   bool
	err   error // read error
	depth int
	empty int // consecutive reads that returned nothing
}

// maxJSONDepth bounds nesting, as encoding/json does (10000); hostile
// input cannot exhaust the stack.
const maxJSONDepth = 10000

var errJSONSyntax = errors.New("invalid JSON")

func newJSONReader(r io.Reader) *jsonReader {
	return &jsonReader{r: r, buf: make([]byte, 0, 64<<10)}
}

// syntax returns a syntax error at the current offset.
func (j *jsonReader) syntax(what string) error {
	return fmt.Errorf("feed: JSON: %w: %s", errJSONSyntax, what)
}

// fill reads more input, keeping the current record; it returns false at
// the end of input or on error.
func (j *jsonReader) fill() bool {
	if j.eof || j.err != nil {
		return false
	}
	if j.mark > 0 { // drop what precedes the record
		n := copy(j.buf, j.buf[j.mark:])
		j.buf = j.buf[:n]
		j.pos -= j.mark
		j.mark = 0
	}
	if len(j.buf) >= MaxRecordBytes {
		j.err = ErrRecordTooLarge
		return false
	}
	if cap(j.buf)-len(j.buf) < 16<<10 {
		nb := make([]byte, len(j.buf), min(2*cap(j.buf)+16<<10, MaxRecordBytes+64<<10))
		copy(nb, j.buf)
		j.buf = nb
	}
	n, err := j.r.Read(j.buf[len(j.buf):cap(j.buf)])
	j.buf = j.buf[:len(j.buf)+n]
	switch {
	case err == io.EOF:
		j.eof = true
	case err != nil:
		j.err = err
	case n == 0:
		if j.empty++; j.empty > 100 {
			j.err = io.ErrNoProgress
		}
	default:
		j.empty = 0
	}
	return n > 0 || (!j.eof && j.err == nil)
}

// markRecord starts a new record at the current position.
func (j *jsonReader) markRecord() { j.mark = j.pos }

// failure returns the read error, if any, or else a syntax error.
func (j *jsonReader) failure(what string) error {
	if j.err != nil {
		if errors.Is(j.err, ErrRecordTooLarge) {
			return j.err
		}
		return fmt.Errorf("feed: reading: %w", j.err)
	}
	return j.syntax(what)
}

// peek skips white space and returns the next byte without consuming it.
func (j *jsonReader) peek() (byte, error) {
	for {
		for j.pos < len(j.buf) {
			switch c := j.buf[j.pos]; c {
			case ' ', '\t', '\r', '\n':
				j.pos++
			default:
				return c, nil
			}
		}
		if !j.fill() {
			return 0, j.failure("unexpected end of input")
		}
	}
}

// atEOF reports whether only white space is left.
func (j *jsonReader) atEOF() (bool, error) {
	_, err := j.peek()
	if err == nil {
		return false, nil
	}
	if j.eof && j.err == nil {
		return true, nil
	}
	return false, err
}

// byteAt returns the byte at j.pos+i, reading more if needed.
func (j *jsonReader) byteAt(i int) (byte, bool) {
	for j.pos+i >= len(j.buf) {
		if !j.fill() {
			return 0, false
		}
	}
	return j.buf[j.pos+i], true
}

func (j *jsonReader) expect(c byte) error {
	got, err := j.peek()
	if err != nil {
		return err
	}
	if got != c {
		return j.syntax(fmt.Sprintf("want %q, got %q", c, got))
	}
	j.pos++
	return nil
}

// enter reads the opening delimiter of an object or array and reports
// whether it is empty (then also read whole). Otherwise it counts one more
// level of nesting, which the caller undoes when it is done.
func (j *jsonReader) enter(open, close byte) (empty bool, err error) {
	if err := j.expect(open); err != nil {
		return false, err
	}
	// The depth counts even an empty one, as encoding/json does.
	if j.depth+1 > maxJSONDepth {
		return false, j.syntax("nested too deep")
	}
	c, err := j.peek()
	if err != nil {
		return false, err
	}
	if c == close {
		j.pos++
		return true, nil
	}
	j.depth++
	return false, nil
}

// object reads an object, calling member for each member with its key
// (valid until the next read); member must consume the value.
func (j *jsonReader) object(member func(key string) error) error {
	empty, err := j.enter('{', '}')
	if err != nil || empty {
		return err
	}
	defer func() { j.depth-- }()
	for {
		if c, err := j.peek(); err != nil {
			return err
		} else if c != '"' {
			return j.syntax("object key is not a string")
		}
		key, err := j.str()
		if err != nil {
			return err
		}
		if err := j.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		if done, err := j.next('}', "want ',' or '}' in an object"); done || err != nil {
			return err
		}
	}
}

// array reads an array, calling elem for each element; elem must consume
// it.
func (j *jsonReader) array(elem func(i int) error) error {
	empty, err := j.enter('[', ']')
	if err != nil || empty {
		return err
	}
	defer func() { j.depth-- }()
	for i := 0; ; i++ {
		if err := elem(i); err != nil {
			return err
		}
		if done, err := j.next(']', "want ',' or ']' in an array"); done || err != nil {
			return err
		}
	}
}

// next consumes the separator after a member or element: ',' to go on,
// close to end the object or array (done), anything else is an error.
func (j *jsonReader) next(close byte, want string) (done bool, err error) {
	c, err := j.peek()
	if err != nil {
		return false, err
	}
	j.pos++
	switch c {
	case ',':
		return false, nil
	case close:
		return true, nil
	}
	return false, j.syntax(want)
}

// skip reads and discards one value.
func (j *jsonReader) skip() error {
	c, err := j.peek()
	if err != nil {
		return err
	}
	switch {
	case c == '{':
		return j.object(func(string) error { return j.skip() })
	case c == '[':
		return j.array(func(int) error { return j.skip() })
	case c == '"':
		return j.skipString()
	case c == 't':
		return j.literal("true")
	case c == 'f':
		return j.literal("false")
	case c == 'n':
		return j.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return j.number()
	}
	return j.syntax(fmt.Sprintf("unexpected %q", c))
}

func (j *jsonReader) literal(lit string) error {
	for i := range len(lit) {
		c, ok := j.byteAt(i)
		if !ok || c != lit[i] {
			return j.failure("invalid literal")
		}
	}
	j.pos += len(lit)
	return nil
}

// number validates a number: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func (j *jsonReader) number() error {
	i := 0
	next := func() byte {
		c, ok := j.byteAt(i)
		if !ok {
			return 0
		}
		return c
	}
	digits := func() int {
		n := 0
		for c := next(); '0' <= c && c <= '9'; c = next() {
			i++
			n++
		}
		return n
	}
	if next() == '-' {
		i++
	}
	switch c := next(); {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		digits()
	default:
		return j.failure("invalid number")
	}
	if next() == '.' {
		i++
		if digits() == 0 {
			return j.failure("invalid number")
		}
	}
	if c := next(); c == 'e' || c == 'E' {
		i++
		if c := next(); c == '+' || c == '-' {
			i++
		}
		if digits() == 0 {
			return j.failure("invalid number")
		}
	}
	if j.err != nil {
		return j.failure("")
	}
	j.pos += i
	return nil
}

// skipString validates a string without decoding it.
func (j *jsonReader) skipString() error {
	_, err := j.stringValue(false)
	return err
}

// str reads and decodes a string.
func (j *jsonReader) str() (string, error) { return j.stringValue(true) }

// stringValue reads a string (the next byte is '"'), validating escapes
// and refusing control characters as RFC 8259 requires; decode builds
// the value. Invalid UTF-8 is kept as it is (encoding/json would replace
// it with U+FFFD); the canonicalizers refuse it.
func (j *jsonReader) stringValue(decode bool) (string, error) {
	j.pos++ // '"'
	start := j.pos
	plain := true // no escapes so far: the value is buf[start:j.pos]
	var out []byte
	for {
		for j.pos < len(j.buf) {
			c := j.buf[j.pos]
			switch {
			case c == '"':
				var s string
				if decode {
					if plain {
						s = string(j.buf[start:j.pos])
					} else {
						s = string(out)
					}
				}
				j.pos++
				return s, nil
			case c < 0x20:
				return "", j.syntax("control character in a string")
			case c == '\\':
				if plain && decode {
					out = append(out[:0], j.buf[start:j.pos]...)
				}
				plain = false
				r, n, err := j.escape()
				if err != nil {
					return "", err
				}
				if decode {
					out = utf8.AppendRune(out, r)
				}
				j.pos += n
			default:
				if !plain && decode {
					out = append(out, c)
				}
				j.pos++
			}
		}
		// The string starts after the record mark, so fill keeps it; it
		// moves the buffer down by the mark.
		shift := j.mark
		if !j.fill() {
			return "", j.failure("unterminated string")
		}
		start -= shift
	}
}

// escape decodes the escape at j.pos and returns the rune and its length.
func (j *jsonReader) escape() (rune, int, error) {
	c, ok := j.byteAt(1)
	if !ok {
		return 0, 0, j.failure("unterminated escape")
	}
	switch c {
	case '"', '\\', '/':
		return rune(c), 2, nil
	case 'b':
		return '\b', 2, nil
	case 'f':
		return '\f', 2, nil
	case 'n':
		return '\n', 2, nil
	case 'r':
		return '\r', 2, nil
	case 't':
		return '\t', 2, nil
	case 'u':
		r, err := j.hex4(2)
		if err != nil {
			return 0, 0, err
		}
		if utf16.IsSurrogate(r) {
			// A surrogate pair is two escapes; a lone surrogate decodes
			// to U+FFFD, as in encoding/json.
			if a, ok1 := j.byteAt(6); ok1 && a == '\\' {
				if b, ok2 := j.byteAt(7); ok2 && b == 'u' {
					r2, err := j.hex4(8)
					if err != nil {
						return 0, 0, err
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						return d, 12, nil
					}
				}
			}
			return utf8.RuneError, 6, nil
		}
		return r, 6, nil
	}
	return 0, 0, j.syntax("invalid escape in a string")
}

func (j *jsonReader) hex4(at int) (rune, error) {
	var v rune
	for k := range 4 {
		c, ok := j.byteAt(at + k)
		if !ok {
			return 0, j.failure("unterminated \\u escape")
		}
		n, err := strconv.ParseUint(string(c), 16, 8)
		if err != nil {
			return 0, j.syntax("invalid \\u escape")
		}
		v = v<<4 | rune(n)
	}
	return v, nil
}

// stringOrSkip reads a string member; a value of another type is skipped
// and reported as ok=false.
func (j *jsonReader) stringOrSkip() (s string, ok bool, err error) {
	c, err := j.peek()
	if err != nil {
		return "", false, err
	}
	if c != '"' {
		return "", false, j.skip()
	}
	s, err = j.str()
	return s, err == nil, err
}

// boolOrSkip reads a boolean member: true, false, or (as older MISP
// exports write them) "1", "0", "true", "false"; anything else is skipped
// and reported as ok=false.
func (j *jsonReader) boolOrSkip() (v, ok bool, err error) {
	c, err := j.peek()
	if err != nil {
		return false, false, err
	}
	switch c {
	case 't':
		return true, true, j.literal("true")
	case 'f':
		return false, true, j.literal("false")
	case '"':
		s, err := j.str()
		switch s {
		case "1", "true":
			return true, true, err
		case "0", "false", "":
			return false, true, err
		}
		return false, false, err
	}
	return false, false, j.skip()
}
