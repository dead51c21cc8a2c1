package feed

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file parses the STIX 2.1 patterning language (STIX 2.1 Part 5,
// section 9) far enough to decide what a pattern asserts: its
// comparisons, whether any two are joined by AND, and whether it uses a
// construct that this package does not import (NOT, EXISTS, FOLLOWEDBY,
// qualifiers, operators other than '=', values other than strings). A
// pattern that is not well formed is an error.

// A comparison is one "object-path operator value" of a pattern.
type comparison struct {
	path     string // as written, e.g. file:hashes.'SHA-256'
	op       string // "=", "!=", "LIKE", ...
	value    string // the string value, unescaped
	isString bool   // value is a string literal
}

// A parsedPattern is what the importer needs to know of a pattern.
type parsedPattern struct {
	comparisons []comparison
	hasAnd      bool   // some comparisons or observations are joined by AND
	unsupported string // a construct this package does not import, if any
}

// maxPatternBytes bounds a pattern; STIX objects are bounded anyway.
const maxPatternBytes = 1 << 20

type patternToken struct {
	kind  byte // 's' string, 'w' word/path, 'l' other literal, 'p' punctuation
	text  string
	isStr bool
}

// describe names the token in an error: punctuation and keywords (a word
// of at most 16 letters: AND, IN, REPEATS...) by their text, anything
// else by what it is, since it may be an indicator value (a string, or a
// value written without quotes: an address, a path), and a reason never
// quotes one.
func (t patternToken) describe() string {
	switch {
	case t.isStr:
		return "a string"
	case t.kind == 'l':
		return "a literal"
	case t.kind == 'p':
		return strconv.Quote(t.text)
	case len(t.text) > 16 || strings.ContainsFunc(t.text, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') }):
		return fmt.Sprintf("a word of %d bytes", len(t.text))
	}
	return strconv.Quote(t.text)
}

func lexPattern(s string) ([]patternToken, error) {
	var toks []patternToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '[' || c == ']' || c == '(' || c == ')' || c == ',':
			toks = append(toks, patternToken{kind: 'p', text: string(c)})
			i++
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			op := s[i:j]
			if op == "!" {
				return nil, errors.New("'!' without '='")
			}
			toks = append(toks, patternToken{kind: 'p', text: op})
			i = j
		case c == '\'':
			v, n, err := lexString(s[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, patternToken{kind: 's', text: v, isStr: true})
			i += n
		case (c == 't' || c == 'h' || c == 'b') && i+1 < len(s) && s[i+1] == '\'':
			v, n, err := lexString(s[i+1:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, patternToken{kind: 'l', text: string(c) + "'" + v + "'"})
			i += 1 + n
		case isWordByte(c):
			j := i
		word:
			for j < len(s) {
				switch {
				case isWordByte(s[j]) || s[j] == ':' || s[j] == '.':
					j++
				case s[j] == '\'' && j > i && s[j-1] == '.':
					// A quoted path component: hashes.'SHA-256'.
					_, n, err := lexString(s[j:])
					if err != nil {
						return nil, err
					}
					j += n
				case s[j] == '[' && strings.Contains(s[i:j], ":"):
					// A list index in a path: to_refs[*], x[0].
					k := strings.IndexByte(s[j:], ']')
					if k < 0 {
						return nil, errors.New("unclosed '[' in an object path")
					}
					j += k + 1
				default:
					break word
				}
			}
			toks = append(toks, patternToken{kind: 'w', text: s[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q", c)
		}
	}
	return toks, nil
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '+'
}

// lexString reads a single-quoted string at the start of s, with the
// escapes \' and \\, and returns its value and length.
func lexString(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '\'' && s[i+1] != '\\') {
				return "", 0, errors.New("invalid escape in a string (only \\' and \\\\)")
			}
			b.WriteByte(s[i+1])
			i++
		case '\'':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, errors.New("unterminated string")
}

type patternParser struct {
	toks []patternToken
	pos  int
	out  parsedPattern
}

// parsePattern parses a STIX pattern.
func parsePattern(s string) (parsedPattern, error) {
	if len(s) > maxPatternBytes {
		return parsedPattern{}, errors.New("pattern too long")
	}
	toks, err := lexPattern(s)
	if err != nil {
		return parsedPattern{}, err
	}
	p := &patternParser{toks: toks}
	if err := p.observationExpr(0); err != nil {
		return parsedPattern{}, err
	}
	if p.pos != len(p.toks) {
		return parsedPattern{}, fmt.Errorf("unexpected %s after the pattern", p.toks[p.pos].describe())
	}
	return p.out, nil
}

func (p *patternParser) peek() (patternToken, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return patternToken{}, false
}

func (p *patternParser) next() (patternToken, error) {
	t, ok := p.peek()
	if !ok {
		return t, errors.New("pattern ends too early")
	}
	p.pos++
	return t, nil
}

func (p *patternParser) expect(text string) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.text != text || t.kind == 's' {
		return fmt.Errorf("want %q, got %s", text, t.describe())
	}
	return nil
}

func (p *patternParser) isWord(word string) bool {
	t, ok := p.peek()
	return ok && t.kind == 'w' && strings.EqualFold(t.text, word)
}

func (p *patternParser) unsupported(what string) {
	if p.out.unsupported == "" {
		p.out.unsupported = what
	}
}

// maxPatternDepth bounds nesting, so that hostile patterns cannot exhaust
// the stack.
const maxPatternDepth = 64

func (p *patternParser) observationExpr(depth int) error {
	if depth > maxPatternDepth {
		return errors.New("pattern nested too deep")
	}
	for {
		if err := p.observationTerm(depth); err != nil {
			return err
		}
		switch {
		case p.isWord("AND"):
			p.out.hasAnd = true
		case p.isWord("OR"):
		case p.isWord("FOLLOWEDBY"):
			p.unsupported("FOLLOWEDBY")
		default:
			return nil
		}
		p.pos++
	}
}

func (p *patternParser) observationTerm(depth int) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	switch {
	case t.kind == 'p' && t.text == "[":
		if err := p.comparisonExpr(depth + 1); err != nil {
			return err
		}
		if err := p.expect("]"); err != nil {
			return err
		}
	case t.kind == 'p' && t.text == "(":
		if err := p.observationExpr(depth + 1); err != nil {
			return err
		}
		if err := p.expect(")"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("want '[' or '(', got %s", t.describe())
	}
	return p.qualifiers()
}

func (p *patternParser) qualifiers() error {
	for {
		switch {
		case p.isWord("WITHIN"):
			p.pos++
			if _, err := p.next(); err != nil {
				return err
			}
			if !p.isWord("SECONDS") {
				return errors.New("WITHIN without SECONDS")
			}
			p.pos++
			p.unsupported("the WITHIN qualifier")
		case p.isWord("REPEATS"):
			p.pos++
			if _, err := p.next(); err != nil {
				return err
			}
			if !p.isWord("TIMES") {
				return errors.New("REPEATS without TIMES")
			}
			p.pos++
			p.unsupported("the REPEATS qualifier")
		case p.isWord("START"):
			p.pos++
			if _, err := p.next(); err != nil {
				return err
			}
			if !p.isWord("STOP") {
				return errors.New("START without STOP")
			}
			p.pos++
			if _, err := p.next(); err != nil {
				return err
			}
			p.unsupported("the START/STOP qualifier")
		default:
			return nil
		}
	}
}

func (p *patternParser) comparisonExpr(depth int) error {
	if depth > maxPatternDepth {
		return errors.New("pattern nested too deep")
	}
	for {
		if err := p.comparisonTerm(depth); err != nil {
			return err
		}
		switch {
		case p.isWord("AND"):
			p.out.hasAnd = true
		case p.isWord("OR"):
		default:
			return nil
		}
		p.pos++
	}
}

var patternOps = map[string]bool{
	"=": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true,
	"IN": true, "LIKE": true, "MATCHES": true, "ISSUBSET": true, "ISSUPERSET": true,
}

func (p *patternParser) comparisonTerm(depth int) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.kind == 'p' && t.text == "(" {
		if err := p.comparisonExpr(depth + 1); err != nil {
			return err
		}
		return p.expect(")")
	}
	if t.kind == 'w' && strings.EqualFold(t.text, "EXISTS") {
		p.unsupported("EXISTS")
		path, err := p.next()
		if err != nil || path.kind != 'w' || !strings.Contains(path.text, ":") {
			return errors.New("EXISTS without an object path")
		}
		return nil
	}
	if t.kind != 'w' || !strings.Contains(t.text, ":") {
		return fmt.Errorf("want an object path, got %s", t.describe())
	}
	c := comparison{path: t.text}
	if p.isWord("NOT") {
		p.pos++
		p.unsupported("NOT")
	}
	op, err := p.next()
	if err != nil {
		return err
	}
	c.op = strings.ToUpper(op.text)
	if op.kind == 's' || !patternOps[c.op] {
		return fmt.Errorf("want a comparison operator, got %s", op.describe())
	}
	if c.op == "IN" {
		// A list of values: ('a', 'b').
		if err := p.expect("("); err != nil {
			return err
		}
		for {
			if _, err := p.next(); err != nil {
				return err
			}
			t, err := p.next()
			if err != nil {
				return err
			}
			if t.text == ")" && t.kind == 'p' {
				break
			}
			if t.text != "," || t.kind != 'p' {
				return errors.New("malformed IN list")
			}
		}
	} else {
		v, err := p.next()
		if err != nil {
			return err
		}
		if v.kind == 'p' {
			return fmt.Errorf("want a value, got %s", v.describe())
		}
		c.value, c.isString = v.text, v.isStr
	}
	p.out.comparisons = append(p.out.comparisons, c)
	return nil
}
