package feed

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/fedmatch/fedmatch/match"
)

// stixObject holds the fields of a STIX object that the importer reads.
type stixObject struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	Pattern     string `json:"pattern"`
	PatternType string `json:"pattern_type"`
	Revoked     bool   `json:"revoked"`
}

// stixHashKinds maps the hash names of STIX file and artifact objects, in
// every spelling seen in feeds (upper case, without '-' and '_'), to kinds.
var stixHashKinds = map[string]*match.Kind{
	"MD5": match.KindMD5, "SHA1": match.KindSHA1, "SHA256": match.KindSHA256,
	"SHA512": match.KindSHA512, "SSDEEP": match.KindSSDEEP, "TLSH": match.KindTLSH,
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
func stixValue(path, value string) (match.Indicator, error) {
	obj, prop, found := strings.Cut(path, ":")
	if !found {
		return match.Indicator{}, errors.New("malformed object path")
	}
	obj = strings.ToLower(obj)
	switch p := strings.ToLower(prop); {
	case p == "value" && (obj == "ipv4-addr" || obj == "ipv6-addr"):
		ind, err := match.ParseIP(value)
		if err != nil {
			return ind, err
		}
		fam := ind.Kind().Name()
		if obj == "ipv4-addr" && fam != "ipv4" && fam != "ipv4-cidr" || obj == "ipv6-addr" && fam != "ipv6" && fam != "ipv6-cidr" {
			return match.Indicator{}, fmt.Errorf("an %s value of the other IP family", obj)
		}
		return ind, nil
	case p == "value" && obj == "domain-name":
		return match.NewIndicator(match.KindDomain, value)
	case p == "value" && obj == "url":
		return match.NewIndicator(match.KindURL, value)
	case p == "value" && obj == "email-addr",
		obj == "email-message" && (p == "from_ref.value" || p == "sender_ref.value"):
		return match.NewIndicator(match.KindEmail, value)
	case (obj == "file" || obj == "artifact") && strings.HasPrefix(p, "hashes."):
		name := strings.Trim(prop[len("hashes."):], "'")
		name = strings.NewReplacer("-", "", "_", "").Replace(strings.ToUpper(name))
		if k := stixHashKinds[name]; k != nil {
			return match.NewIndicator(k, value)
		}
		return match.Indicator{}, unsupported("hash algorithm %s is not supported", truncateName(name))
	}
	return match.Indicator{}, unsupported("object path %s is not supported", truncateName(path))
}

// readSTIX streams a bundle ({"objects": [...]}), an array of objects, or
// one object.
func (r *Reader) readSTIX(emit emitFunc) error {
	dec := json.NewDecoder(r.br)
	t, err := dec.Token()
	if err != nil {
		return jsonErr(err)
	}
	switch t {
	case json.Delim('['):
		return r.stixObjects(dec, emit)
	case json.Delim('{'):
	default:
		return errors.New("feed: STIX input is not a JSON object or array")
	}
	top := map[string]json.RawMessage{}
	sawObjects := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return jsonErr(err)
		}
		k, _ := key.(string)
		if k == "objects" {
			sawObjects = true
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return errors.New("feed: STIX bundle \"objects\" is not an array")
			}
			if err := r.stixObjects(dec, emit); err != nil {
				return err
			}
			continue
		}
		r.in.reset()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return jsonErr(err)
		}
		if !sawObjects {
			top[k] = v
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return jsonErr(err)
	}
	if sawObjects {
		return nil
	}
	// A single object.
	b, _ := json.Marshal(top)
	var o stixObject
	if err := json.Unmarshal(b, &o); err != nil {
		return jsonErr(err)
	}
	if o.Type == "" {
		return errors.New("feed: STIX input is neither a bundle nor an object with a type")
	}
	if !r.stixObject(&o, emit) {
		return errStopped
	}
	return nil
}

// stixObjects streams the elements of an array whose '[' was read.
func (r *Reader) stixObjects(dec *json.Decoder, emit emitFunc) error {
	for i := 0; dec.More(); i++ {
		r.in.reset()
		var o stixObject
		if err := dec.Decode(&o); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				r.reject(fmt.Sprintf("object %d", i), "fields of the wrong JSON type", false)
				continue
			}
			return jsonErr(err)
		}
		if !r.stixObject(&o, emit) {
			return errStopped
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return jsonErr(err)
	}
	return nil
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
	var inds []match.Indicator
	var problems []Reject // comparisons that cannot be imported
	for i, c := range pp.comparisons {
		var ind match.Indicator
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
	var ie *match.IndicatorError
	if errors.As(err, &ie) {
		reason = "invalid " + ie.Kind + ": " + ie.Reason
	}
	return Reject{Where: fmt.Sprintf("%s comparison %d", where, i+1), Reason: reason}
}

func jsonErr(err error) error {
	if err == nil || errors.Is(err, ErrRecordTooLarge) {
		return err
	}
	return fmt.Errorf("feed: JSON: %w", err)
}
