package feed

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// stixObject holds the members of a STIX object that the importer reads.
type stixObject struct {
	Type, ID, Name, Pattern, PatternType string
	Revoked                              bool
}

// stixHashKinds maps the hash names of STIX file and artifact objects, in
// every spelling seen in feeds (upper case, without '-' and '_'), to kinds.
var stixHashKinds = map[string]*indicator.Kind{
	"MD5": indicator.MD5, "SHA1": indicator.SHA1, "SHA256": indicator.SHA256,
	"SHA512": indicator.SHA512, "SSDEEP": indicator.SSDEEP, "TLSH": indicator.TLSH,
}

// An unsupportedError marks a record or part of one of a type or pattern
// this package does not import.
type unsupportedError struct{ reason string }

func (e *unsupportedError) Error() string { return e.reason }

func unsupported(format string, args ...any) error {
	return &unsupportedError{fmt.Sprintf(format, args...)}
}

// stixValue canonicalizes the value of a comparison on path. A path this
// package does not import is an *unsupportedError.
func stixValue(path, value string) (indicator.Indicator, error) {
	obj, prop, found := strings.Cut(path, ":")
	if !found {
		return indicator.Indicator{}, errors.New("malformed object path")
	}
	obj = strings.ToLower(obj)
	switch p := strings.ToLower(prop); {
	case p == "value" && (obj == "ipv4-addr" || obj == "ipv6-addr"):
		ind, err := indicator.ParseIP(value)
		if err != nil {
			return ind, err
		}
		fam := ind.Kind().Name()
		if obj == "ipv4-addr" && fam != "ipv4" && fam != "ipv4-cidr" || obj == "ipv6-addr" && fam != "ipv6" && fam != "ipv6-cidr" {
			return indicator.Indicator{}, fmt.Errorf("an %s value of the other IP family", obj)
		}
		return ind, nil
	case p == "value" && obj == "domain-name":
		return indicator.New(indicator.Domain, value)
	case p == "value" && obj == "url":
		return indicator.New(indicator.URL, value)
	case p == "value" && obj == "email-addr",
		obj == "email-message" && (p == "from_ref.value" || p == "sender_ref.value"):
		return indicator.New(indicator.Email, value)
	case (obj == "file" || obj == "artifact") && strings.HasPrefix(p, "hashes."):
		name := strings.Trim(prop[len("hashes."):], "'")
		name = strings.NewReplacer("-", "", "_", "").Replace(strings.ToUpper(name))
		if k := stixHashKinds[name]; k != nil {
			return indicator.New(k, value)
		}
		return indicator.Indicator{}, unsupported("hash algorithm %s is not supported", truncateName(name))
	}
	return indicator.Indicator{}, unsupported("object path %s is not supported", truncateName(path))
}

// readSTIX streams a bundle ({"objects": [...]}), an array of objects, or
// one object.
func (r *Reader) readSTIX(emit emitFunc) error {
	r.in.unlimited()
	j := newJSONReader(r.br)
	c, err := j.peek()
	if err != nil {
		return err
	}
	switch c {
	case '[':
		err = j.array(func(i int) error { return r.stixElement(j, i, emit) })
	case '{':
		var o stixObject // the members of a single object
		sawObjects := false
		err = j.object(func(key string) error {
			if key == "objects" {
				sawObjects = true
				return j.array(func(i int) error { return r.stixElement(j, i, emit) })
			}
			j.markRecord()
			_, err := stixField(j, &o, key)
			return err
		})
		if err == nil && !sawObjects {
			if o.Type == "" {
				return errors.New("feed: STIX input is neither a bundle nor an object with a type")
			}
			if !r.stixObject(&o, emit) {
				return errStopped
			}
		}
	default:
		return errors.New("feed: STIX input is not a JSON object or array")
	}
	if err != nil {
		return err
	}
	return trailing(j)
}

// trailing checks that nothing but white space follows the document.
func trailing(j *jsonReader) error {
	end, err := j.atEOF()
	if err != nil {
		return err
	}
	if !end {
		return j.syntax("data after the JSON document")
	}
	return nil
}

// stixElement reads element i of an array of objects.
func (r *Reader) stixElement(j *jsonReader, i int, emit emitFunc) error {
	j.markRecord()
	if c, err := j.peek(); err != nil {
		return err
	} else if c != '{' {
		r.reject(fmt.Sprintf("object %d", i), "not a JSON object", false)
		return j.skip()
	}
	var o stixObject
	wrongType := false
	err := j.object(func(key string) error {
		ok, err := stixField(j, &o, key)
		wrongType = wrongType || !ok
		return err
	})
	if err != nil {
		return err
	}
	if wrongType {
		where := o.ID
		if where == "" {
			where = fmt.Sprintf("object %d", i)
		}
		r.reject(where, "fields of the wrong JSON type", false)
		return nil
	}
	if !r.stixObject(&o, emit) {
		return errStopped
	}
	return nil
}

// stixField reads the member key of an object into o; ok is false for a
// member of the wrong JSON type.
func stixField(j *jsonReader, o *stixObject, key string) (ok bool, err error) {
	switch key {
	case "type":
		o.Type, ok, err = j.stringOrSkip()
	case "id":
		o.ID, ok, err = j.stringOrSkip()
	case "name":
		o.Name, ok, err = j.stringOrSkip()
	case "pattern":
		o.Pattern, ok, err = j.stringOrSkip()
	case "pattern_type":
		o.PatternType, ok, err = j.stringOrSkip()
	case "revoked":
		o.Revoked, ok, err = j.boolOrSkip()
	default:
		return true, j.skip()
	}
	return ok, err
}

// stixObject imports an indicator; other objects are counted as skipped.
func (r *Reader) stixObject(o *stixObject, emit emitFunc) bool {
	if o.Type != "indicator" {
		r.sum.Skipped++
		return true
	}
	where := o.ID
	if where == "" {
		where = "indicator without id"
	}
	switch {
	case o.Revoked:
		r.reject(where, "revoked indicator", true)
		return true
	case o.PatternType != "stix":
		r.reject(where, "pattern_type "+truncateName(o.PatternType)+" is not supported (only stix)", true)
		return true
	case o.Pattern == "":
		r.reject(where, "no pattern", false)
		return true
	}
	pp, err := parsePattern(o.Pattern)
	if err != nil {
		r.reject(where, "malformed pattern: "+err.Error(), false)
		return true
	}
	if pp.unsupported != "" {
		r.reject(where, "pattern uses "+pp.unsupported, true)
		return true
	}
	var inds []indicator.Indicator
	var problems []Reject // comparisons that cannot be imported
	for i, c := range pp.comparisons {
		var ind indicator.Indicator
		var err error
		switch {
		case c.op != "=":
			err = unsupported("comparison %d uses the operator %s", i+1, c.op)
		case !c.isString:
			err = unsupported("comparison %d compares with a value that is not a string", i+1)
		default:
			ind, err = stixValue(c.path, c.value)
		}
		if err != nil {
			problems = append(problems, comparisonReject(where, i, err))
			continue
		}
		inds = append(inds, ind)
	}
	if pp.hasAnd && len(problems) > 0 {
		// Every side of an AND must be importable, or the indicator would
		// be widened to what it does not say.
		p := problems[0]
		r.reject(where, "AND with a comparison that cannot be imported: "+p.Reason, p.Unsupported)
		return true
	}
	for _, p := range problems {
		r.reject(p.Where, p.Reason, p.Unsupported)
	}
	for _, ind := range inds {
		src := Source{Format: STIX, Where: where, ID: o.ID, Name: o.Name}
		if !emit(src, ind, "") {
			return false
		}
	}
	return true
}

// comparisonReject describes why comparison i of an indicator is not
// imported.
func comparisonReject(where string, i int, err error) Reject {
	var ue *unsupportedError
	if errors.As(err, &ue) {
		return Reject{Where: where, Reason: ue.reason, Unsupported: true}
	}
	reason := err.Error()
	var ie *indicator.Error
	if errors.As(err, &ie) {
		reason = "invalid " + ie.Kind + ": " + ie.Reason
	}
	return Reject{Where: fmt.Sprintf("%s comparison %d", where, i+1), Reason: reason}
}
