package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/fedmatch/fedmatch/match"
)

type mispAttribute struct {
	Type           string   `json:"type"`
	Value          string   `json:"value"`
	UUID           string   `json:"uuid"`
	ObjectRelation string   `json:"object_relation"`
	Deleted        flexBool `json:"deleted"`
}

type mispObject struct {
	Name      string          `json:"name"`
	UUID      string          `json:"uuid"`
	Deleted   flexBool        `json:"deleted"`
	Attribute []mispAttribute `json:"Attribute"`
}

// flexBool reads the booleans of MISP exports, which are JSON booleans in
// current versions and "0"/"1" strings in older ones.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(bytes.Trim(data, `"`)) {
	case "true", "1":
		*b = true
	case "false", "0", "", "null":
		*b = false
	default:
		return errors.New("not a boolean")
	}
	return nil
}

// mispConverter turns the value of one (part of a) MISP attribute type
// into an indicator.
type mispConverter func(r *Reader, v string) (match.Indicator, error)

func kindConverter(k *match.Kind) mispConverter {
	return func(r *Reader, v string) (match.Indicator, error) { return r.valueOf(k, v) }
}

func ipConverter(_ *Reader, v string) (match.Indicator, error) { return match.ParseIP(v) }

// mispTypes maps the MISP attribute types that hold indicators to
// converters. Types not here are reported as unsupported.
var mispTypes = map[string]mispConverter{
	"ip-src": ipConverter, "ip-dst": ipConverter, "ip": ipConverter, // "ip" as in domain|ip
	"domain": kindConverter(match.KindDomain), "hostname": kindConverter(match.KindDomain),
	"url":   kindConverter(match.KindURL),
	"email": kindConverter(match.KindEmail), "email-src": kindConverter(match.KindEmail),
	"email-dst": kindConverter(match.KindEmail), "email-reply-to": kindConverter(match.KindEmail),
	"target-email": kindConverter(match.KindEmail), "whois-registrant-email": kindConverter(match.KindEmail),
	"md5": kindConverter(match.KindMD5), "sha1": kindConverter(match.KindSHA1),
	"sha256": kindConverter(match.KindSHA256), "sha512": kindConverter(match.KindSHA512),
	"ssdeep": kindConverter(match.KindSSDEEP), "tlsh": kindConverter(match.KindTLSH),
	"btc":          kindConverter(match.KindBTC),
	"iban":         kindConverter(match.KindIBAN),
	"phone-number": kindConverter(match.KindPhone), "whois-registrant-phone": kindConverter(match.KindPhone),
	"passport-number": kindConverter(match.KindDocument),
}

// mispParts are the parts of composite types that are not indicators
// and are left out without a report: the attribute is imported through
// its other part.
var mispParts = []string{"filename", "port"}

// mispComposite maps the composite types whose name is not simply
// "a|b" of known parts.
var mispComposite = map[string]string{"malware-sample": "filename|md5"}

// documentCountryRelations are the object relations that give a passport
// number's issuing country in MISP objects.
var documentCountryRelations = []string{"passport-country", "issuing-country", "country-of-issue", "issuing-state"}

// mispEvent is what the reader knows of the event being read.
type mispEvent struct {
	uuid, info string
	prefix     string // prepended to Where (the event file of a feed)
}

// readMISP streams the attributes of a MISP event, a {"Event": ...}
// wrapper, or an API response {"response": [...]}.
func (r *Reader) readMISP(emit emitFunc) error {
	if r.feedFS != nil {
		return r.readMISPFeed(emit)
	}
	return r.mispDocument(json.NewDecoder(r.br), emit, "")
}

func (r *Reader) mispDocument(dec *json.Decoder, emit emitFunc, prefix string) error {
	t, err := dec.Token()
	if err != nil {
		return jsonErr(err)
	}
	r.mispSeen = false
	switch t {
	case json.Delim('{'):
		err = r.mispEventBody(dec, emit, &mispEvent{prefix: prefix}, 0)
	case json.Delim('['): // a list of events or wrappers
		for err == nil && dec.More() {
			if t, terr := dec.Token(); terr != nil || t != json.Delim('{') {
				return errors.New("feed: MISP list element is not an object")
			}
			err = r.mispEventBody(dec, emit, &mispEvent{prefix: prefix}, 0)
		}
		if err == nil {
			_, err = dec.Token()
			err = jsonErr(err)
		}
	default:
		return errors.New("feed: MISP input is not a JSON object")
	}
	if err == nil && !r.mispSeen {
		return errors.New("feed: no MISP event (no Event, Attribute or Object member)")
	}
	return err
}

// mispEventBody reads the members of an object whose '{' was read: an
// event, or a wrapper holding "Event" or "response".
func (r *Reader) mispEventBody(dec *json.Decoder, emit emitFunc, ev *mispEvent, depth int) error {
	if depth > 8 {
		return errors.New("feed: MISP events nested too deep")
	}
	for dec.More() {
		r.in.reset()
		key, err := dec.Token()
		if err != nil {
			return jsonErr(err)
		}
		switch key {
		case "Event":
			r.mispSeen = true
			if t, err := dec.Token(); err != nil || t != json.Delim('{') {
				return errors.New("feed: MISP \"Event\" is not an object")
			}
			if err := r.mispEventBody(dec, emit, &mispEvent{prefix: ev.prefix}, depth+1); err != nil {
				return err
			}
		case "response":
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return errors.New("feed: MISP \"response\" is not an array")
			}
			for dec.More() {
				if t, err := dec.Token(); err != nil || t != json.Delim('{') {
					return errors.New("feed: MISP response element is not an object")
				}
				if err := r.mispEventBody(dec, emit, &mispEvent{prefix: ev.prefix}, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return jsonErr(err)
			}
		case "Attribute", "Object":
			r.mispSeen = true
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return fmt.Errorf("feed: MISP %q is not an array", key)
			}
			for i := 0; dec.More(); i++ {
				r.in.reset()
				if key == "Attribute" {
					var a mispAttribute
					if err := dec.Decode(&a); err != nil {
						if !r.mispDecodeErr(ev, "attribute", i, err) {
							return jsonErr(err)
						}
						continue
					}
					if !r.mispAttribute(ev, &a, nil, emit) {
						return errStopped
					}
					continue
				}
				var o mispObject
				if err := dec.Decode(&o); err != nil {
					if !r.mispDecodeErr(ev, "object", i, err) {
						return jsonErr(err)
					}
					continue
				}
				if !r.mispObject(ev, &o, emit) {
					return errStopped
				}
			}
			if _, err := dec.Token(); err != nil {
				return jsonErr(err)
			}
		case "info", "uuid":
			var s string
			if err := dec.Decode(&s); err != nil {
				return jsonErr(err)
			}
			if key == "info" {
				ev.info = s
			} else {
				ev.uuid = s
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return jsonErr(err)
			}
		}
	}
	_, err := dec.Token() // '}'
	return jsonErr(err)
}

// mispDecodeErr reports an attribute or object whose fields have the wrong
// JSON types, and returns false for errors that break the JSON itself.
func (r *Reader) mispDecodeErr(ev *mispEvent, what string, i int, err error) bool {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) || strings.Contains(err.Error(), "not a boolean") {
		r.reject(fmt.Sprintf("%s%s %d", ev.prefix, what, i), "fields of the wrong JSON type", false)
		return true
	}
	return false
}

func (r *Reader) mispObject(ev *mispEvent, o *mispObject, emit emitFunc) bool {
	for i := range o.Attribute {
		a := &o.Attribute[i]
		if o.Deleted {
			a.Deleted = true
		}
		if !r.mispAttribute(ev, a, o, emit) {
			return false
		}
	}
	return true
}

// mispAttribute imports one attribute; obj is the object holding it, if
// any.
func (r *Reader) mispAttribute(ev *mispEvent, a *mispAttribute, obj *mispObject, emit emitFunc) bool {
	where := ev.prefix + "attribute " + a.UUID
	if a.UUID == "" {
		where = ev.prefix + "attribute without uuid in event " + ev.uuid
	}
	if a.Deleted {
		r.reject(where, "deleted attribute", true)
		return true
	}
	typ := a.Type
	if c, ok := mispComposite[typ]; ok {
		typ = c
	}
	types := strings.Split(typ, "|")
	values := []string{a.Value}
	if len(types) > 1 {
		values = strings.Split(a.Value, "|")
		if len(values) != len(types) {
			r.reject(where, fmt.Sprintf("composite type %s with %d value parts", truncateName(a.Type), len(values)), false)
			return true
		}
	}
	src := Source{Format: MISP, Where: where, ID: a.UUID, Name: ev.info}
	imported, unsupportedParts, invalid := 0, 0, false
	for i, t := range types {
		conv := mispTypes[t]
		if conv == nil {
			if len(types) > 1 && slices.Contains(mispParts, t) {
				continue
			}
			if len(types) == 1 {
				r.reject(where, "attribute type "+truncateName(t)+" is not supported", true)
				return true
			}
			unsupportedParts++
			continue
		}
		v := values[i]
		if t == "passport-number" && !strings.ContainsAny(strings.TrimSpace(v), ": ") {
			country := ""
			if obj != nil {
				for _, oa := range obj.Attribute {
					if slices.Contains(documentCountryRelations, oa.ObjectRelation) {
						country = oa.Value
					}
				}
			}
			if country == "" {
				r.reject(where, "passport number without an issuing country (in the value, or a passport-country attribute of its object)", false)
				return true
			}
			v = country + ":" + v
		}
		ind, err := conv(r, v)
		if err != nil {
			w := where
			if len(types) > 1 {
				w = fmt.Sprintf("%s part %d", where, i+1)
			}
			r.rejectErr(w, err)
			invalid = true
			continue
		}
		imported++
		if !emit(src, ind, "") {
			return false
		}
	}
	if imported == 0 && unsupportedParts > 0 && !invalid {
		r.reject(where, "composite type "+truncateName(a.Type)+" has no supported part", true)
	}
	return true
}

// NewMISPFeedReader returns a Reader of every event of a MISP feed: the
// directory holding manifest.json and one <uuid>.json file per event
// listed in it. Rejects are located as "<uuid>.json: attribute <uuid>"; an
// event file that is missing or unreadable is one rejected record.
func NewMISPFeedReader(fsys fs.FS, opts *Options) *Reader {
	r := NewReader(bytes.NewReader(nil), opts)
	r.opts.Format = MISP
	r.feedFS = fsys
	return r
}

func (r *Reader) readMISPFeed(emit emitFunc) error {
	f, err := r.feedFS.Open("manifest.json")
	if err != nil {
		return fmt.Errorf("feed: MISP feed: %w", err)
	}
	defer f.Close()
	in := &budgetReader{r: f}
	in.reset()
	dec := json.NewDecoder(in)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("feed: MISP feed manifest is not a JSON object")
	}
	var uuids []string
	for dec.More() {
		in.reset()
		key, err := dec.Token()
		if err != nil {
			return jsonErr(err)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return jsonErr(err)
		}
		uuids = append(uuids, key.(string))
	}
	for _, id := range uuids {
		name := id + ".json"
		if !fs.ValidPath(name) || strings.ContainsAny(id, `/\`) {
			r.reject("manifest.json", "event id "+truncateName(id)+" is not a file name", false)
			continue
		}
		ef, err := r.feedFS.Open(name)
		if err != nil {
			r.reject(name, "event file cannot be opened", false)
			continue
		}
		r.in = &budgetReader{r: ef}
		r.in.reset()
		r.br.Reset(r.in)
		err = r.mispDocument(json.NewDecoder(r.br), emit, name+": ")
		ef.Close()
		if errors.Is(err, errStopped) {
			return err
		}
		if err != nil {
			r.reject(name, "unreadable event: "+err.Error(), false)
		}
	}
	return nil
}
