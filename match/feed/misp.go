package feed

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/fedmatch/fedmatch/match/indicator"
)

type mispAttribute struct {
	Type, Value, UUID, ObjectRelation string
	Deleted                           bool
}

type mispObject struct {
	Name, UUID string
	Deleted    bool
	Attribute  []mispAttribute
}

// mispConverter turns the value of one (part of a) MISP attribute type
// into an indicator.
type mispConverter func(r *Reader, v string) (indicator.Indicator, error)

func kindConverter(k *indicator.Kind) mispConverter {
	return func(r *Reader, v string) (indicator.Indicator, error) { return r.valueOf(k, v) }
}

func ipConverter(_ *Reader, v string) (indicator.Indicator, error) { return indicator.ParseIP(v) }

// mispTypes maps the MISP attribute types that hold indicators to
// converters. Types not here are reported as unsupported.
var mispTypes = map[string]mispConverter{
	"ip-src": ipConverter, "ip-dst": ipConverter, "ip": ipConverter, // "ip" as in domain|ip
	"domain": kindConverter(indicator.Domain), "hostname": kindConverter(indicator.Domain),
	"url":   kindConverter(indicator.URL),
	"email": kindConverter(indicator.Email), "email-src": kindConverter(indicator.Email),
	"email-dst": kindConverter(indicator.Email), "email-reply-to": kindConverter(indicator.Email),
	"target-email": kindConverter(indicator.Email), "whois-registrant-email": kindConverter(indicator.Email),
	"md5": kindConverter(indicator.MD5), "sha1": kindConverter(indicator.SHA1),
	"sha256": kindConverter(indicator.SHA256), "sha512": kindConverter(indicator.SHA512),
	"ssdeep": kindConverter(indicator.SSDEEP), "tlsh": kindConverter(indicator.TLSH),
	"btc":          kindConverter(indicator.BTC),
	"iban":         kindConverter(indicator.IBAN),
	"phone-number": kindConverter(indicator.Phone), "whois-registrant-phone": kindConverter(indicator.Phone),
	"passport-number": kindConverter(indicator.Document),
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
	r.in.unlimited()
	return r.mispDocument(newJSONReader(r.br), emit, "")
}

func (r *Reader) mispDocument(j *jsonReader, emit emitFunc, prefix string) error {
	c, err := j.peek()
	if err != nil {
		return err
	}
	r.mispSeen = false
	switch c {
	case '{':
		err = r.mispEventBody(j, emit, &mispEvent{prefix: prefix}, 0)
	case '[': // a list of events or wrappers
		err = j.array(func(int) error { return r.mispEventBody(j, emit, &mispEvent{prefix: prefix}, 0) })
	default:
		return errors.New("feed: MISP input is not a JSON object")
	}
	if err != nil {
		return err
	}
	if !r.mispSeen {
		return errors.New("feed: no MISP event (no Event, Attribute or Object member)")
	}
	return trailing(j)
}

// mispEventBody reads an object: an event, or a wrapper holding "Event"
// or "response".
func (r *Reader) mispEventBody(j *jsonReader, emit emitFunc, ev *mispEvent, depth int) error {
	if depth > 8 {
		return errors.New("feed: MISP events nested too deep")
	}
	if c, err := j.peek(); err != nil {
		return err
	} else if c != '{' {
		return errors.New("feed: MISP event is not a JSON object")
	}
	return j.object(func(key string) error {
		j.markRecord()
		switch key {
		case "Event":
			r.mispSeen = true
			return r.mispEventBody(j, emit, &mispEvent{prefix: ev.prefix}, depth+1)
		case "response":
			if c, err := j.peek(); err != nil || c != '[' {
				return errors.New("feed: MISP \"response\" is not an array")
			}
			return j.array(func(int) error {
				return r.mispEventBody(j, emit, &mispEvent{prefix: ev.prefix}, depth+1)
			})
		case "Attribute", "Object":
			r.mispSeen = true
			if c, err := j.peek(); err != nil || c != '[' {
				return fmt.Errorf("feed: MISP %q is not an array", key)
			}
			return j.array(func(i int) error {
				j.markRecord()
				if key == "Attribute" {
					a, ok, err := mispReadAttribute(j)
					switch {
					case err != nil:
						return err
					case !ok:
						r.reject(fmt.Sprintf("%sattribute %d", ev.prefix, i), "fields of the wrong JSON type", false)
					case !r.mispAttribute(ev, &a, nil, emit):
						return errStopped
					}
					return nil
				}
				o, ok, err := mispReadObject(j)
				switch {
				case err != nil:
					return err
				case !ok:
					r.reject(fmt.Sprintf("%sobject %d", ev.prefix, i), "fields of the wrong JSON type", false)
				case !r.mispObject(ev, &o, emit):
					return errStopped
				}
				return nil
			})
		case "info":
			s, _, err := j.stringOrSkip()
			ev.info = s
			return err
		case "uuid":
			s, _, err := j.stringOrSkip()
			ev.uuid = s
			return err
		}
		return j.skip()
	})
}

// mispReadAttribute reads an attribute object; ok is false if it is not an
// object or a member has the wrong JSON type.
func mispReadAttribute(j *jsonReader) (a mispAttribute, ok bool, err error) {
	if c, err := j.peek(); err != nil {
		return a, false, err
	} else if c != '{' {
		return a, false, j.skip()
	}
	ok = true
	err = j.object(func(key string) error {
		var good bool
		var err error
		switch key {
		case "type":
			a.Type, good, err = j.stringOrSkip()
		case "value":
			a.Value, good, err = j.stringOrSkip()
		case "uuid":
			a.UUID, good, err = j.stringOrSkip()
		case "object_relation":
			// null in attributes outside objects: any type will do.
			a.ObjectRelation, _, err = j.stringOrSkip()
			good = true
		case "deleted":
			a.Deleted, good, err = j.boolOrSkip()
		default:
			return j.skip()
		}
		ok = ok && good
		return err
	})
	return a, ok, err
}

// mispReadObject reads a MISP object with its attributes.
func mispReadObject(j *jsonReader) (o mispObject, ok bool, err error) {
	if c, err := j.peek(); err != nil {
		return o, false, err
	} else if c != '{' {
		return o, false, j.skip()
	}
	ok = true
	err = j.object(func(key string) error {
		var good bool
		var err error
		switch key {
		case "name":
			o.Name, good, err = j.stringOrSkip()
		case "uuid":
			o.UUID, good, err = j.stringOrSkip()
		case "deleted":
			o.Deleted, good, err = j.boolOrSkip()
		case "Attribute":
			if c, err := j.peek(); err != nil || c != '[' {
				ok = false
				return j.skip()
			}
			return j.array(func(int) error {
				a, good, err := mispReadAttribute(j)
				ok = ok && good
				o.Attribute = append(o.Attribute, a)
				return err
			})
		default:
			return j.skip()
		}
		ok = ok && good
		return err
	})
	return o, ok, err
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
	j := newJSONReader(f)
	if c, err := j.peek(); err != nil {
		return err
	} else if c != '{' {
		return errors.New("feed: MISP feed manifest is not a JSON object")
	}
	var ids []string
	err = j.object(func(key string) error {
		j.markRecord()
		ids = append(ids, key)
		return j.skip()
	})
	if err == nil {
		err = trailing(j)
	}
	if err != nil {
		return fmt.Errorf("feed: MISP feed manifest: %w", err)
	}
	for _, id := range ids {
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
		err = r.mispDocument(newJSONReader(ef), emit, name+": ")
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
