package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/internal/textcheck"
)

// readBody reads the request body under the size cap and returns it with
// its media type. An empty (or all-white-space) body gives nil. A
// non-empty body must be declared with one of types (default
// application/json or application/x-www-form-urlencoded; parameters
// allowed): 415 otherwise; over the cap: 413. A JSON body must pass the
// edge check here (textcheck.JSON); a form body's names and values are
// checked once decoded (decodeForm), as its percent-encoding hides them.
func (s *server) readBody(w http.ResponseWriter, r *http.Request, types []string) ([]byte, string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, "", nil
	}
	body := io.Reader(r.Body)
	if s.maxBody >= 0 {
		if r.ContentLength > s.maxBody {
			return nil, "", s.tooLarge()
		}
		body = http.MaxBytesReader(w, r.Body, s.maxBody)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", s.tooLarge()
		}
		return nil, "", simpleuser.InvalidInput("Could not read the request body")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, "", nil
	}
	if len(types) == 0 {
		types = defaultBodyTypes
	}
	mt, ok := mediaType(r.Header.Get("Content-Type"), types)
	if !ok {
		return nil, "", &simpleuser.Error{
			Status:  http.StatusUnsupportedMediaType,
			Code:    simpleuser.CodeUnsupportedMedia,
			Message: "Content-Type must be " + strings.Join(types, " or "),
		}
	}
	// encoding/json would turn invalid UTF-8 and unpaired surrogates into
	// U+FFFD and keep \u0000, which PostgreSQL refuses: every backend must
	// answer the same 400, before anything is written or spent.
	if mt != formType && !textcheck.JSON(b) {
		return nil, "", simpleuser.InvalidInput("The request body must be valid UTF-8 JSON without NUL characters (\\u0000) or unpaired surrogates")
	}
	return b, mt, nil
}

func (s *server) tooLarge() error {
	return &simpleuser.Error{
		Status:  http.StatusRequestEntityTooLarge,
		Code:    simpleuser.CodeBodyTooLarge,
		Message: fmt.Sprintf("Request body too large (at most %d bytes)", s.maxBody),
	}
}

// Body media types.
const (
	jsonType       = "application/json"
	mergePatchType = "application/merge-patch+json"
	// formType is the body of a plain HTML form (WHATWG HTML §4.10.21.7,
	// the URL standard's application/x-www-form-urlencoded serializer).
	formType = "application/x-www-form-urlencoded"
)

// defaultBodyTypes are the media types of a route body unless the route
// says otherwise: JSON, and the body of a plain HTML form.
var defaultBodyTypes = []string{jsonType, formType}

// isJSON reports whether a Content-Type header names application/json.
func isJSON(ct string) bool {
	_, ok := mediaType(ct, []string{jsonType})
	return ok
}

// mediaType returns the media type a Content-Type header names (lower
// case, without parameters) when it is one of types.
func mediaType(ct string, types []string) (string, bool) {
	if ct == "" {
		return "", false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(types, mt) {
		return "", false
	}
	return mt, true
}

// field is one decodable field of an input struct.
type field struct {
	index  int
	name   string // JSON property / query parameter name
	msg    string // message override for any validation failure ("" = by rule)
	ptr    bool   // *string: absent is nil
	isText bool   // string or *string
}

var fieldCache sync.Map // reflect.Type -> []field

// fieldsOf lists the fields of struct type t named by tag ("json" or "query").
func fieldsOf(t reflect.Type, tag string) []field {
	key := t.String() + "\x00" + tag
	if v, ok := fieldCache.Load(key); ok {
		return v.([]field)
	}
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get(tag), ",")
		if name == "" || name == "-" {
			continue
		}
		f := field{index: i, name: name, msg: sf.Tag.Get("msg")}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			f.ptr = true
			ft = ft.Elem()
		}
		f.isText = ft.Kind() == reflect.String
		out = append(out, f)
	}
	fieldCache.Store(key, out)
	return out
}

// inputErrors collects one message per field, reported in field order.
type inputErrors map[string]string

func (e inputErrors) add(name, msg string) {
	if _, ok := e[name]; !ok {
		e[name] = msg
	}
}

// decodeJSON decodes a JSON object body into dst (a pointer to a struct of
// string and *string fields named by json tags) and returns the object's
// other members. Property names match exactly (unlike encoding/json's
// case-insensitive matching). A string field also accepts a JSON number,
// kept as written (nicot converts implicitly: {"code":123456}); null counts
// as absent; any other type is a 400 "<field> must be a string".
func decodeJSON(body []byte, dst any) (extra map[string]json.RawMessage, errs inputErrors, err error) {
	m := map[string]json.RawMessage{}
	if len(body) > 0 {
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 || trimmed[0] != '{' {
			return nil, nil, simpleuser.InvalidInput("Malformed JSON body: expected a JSON object")
		}
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		if err := dec.Decode(&m); err != nil {
			return nil, nil, simpleuser.InvalidInput("Malformed JSON body: " + jsonErrorText(err))
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, nil, simpleuser.InvalidInput("Malformed JSON body: unexpected data after the JSON object")
		}
	}
	v := reflect.ValueOf(dst).Elem()
	errs = inputErrors{}
	for _, f := range fieldsOf(v.Type(), "json") {
		raw, ok := m[f.name]
		if !ok {
			continue
		}
		delete(m, f.name)
		fv := v.Field(f.index)
		if !f.isText {
			if err := json.Unmarshal(raw, fv.Addr().Interface()); err != nil {
				errs.add(f.name, f.name+" has an invalid type")
			}
			continue
		}
		s, null, ok := jsonText(raw)
		switch {
		case !ok:
			errs.add(f.name, f.name+" must be a string")
		case null:
		case f.ptr:
			fv.Set(reflect.ValueOf(&s))
		default:
			fv.SetString(s)
		}
	}
	return m, errs, nil
}

// decodeForm decodes an application/x-www-form-urlencoded body into dst
// (the struct decodeJSON fills) and returns the other fields, each as a
// JSON string. Every value is a string: a string field takes it as sent,
// any other field (a boolean) takes it as a JSON literal ("true"). A
// field given more than once is a 400 "<field> must be a string", as
// nicot answers the array Express makes of it. A name or value that is
// not valid UTF-8 or holds a NUL (textcheck.String) is a 400 before
// anything else, so nothing is written or spent; so is a body
// url.ParseQuery refuses (a bad %-escape, a ';').
func decodeForm(body []byte, dst any) (extra map[string]json.RawMessage, errs inputErrors, err error) {
	vals, perr := url.ParseQuery(string(body))
	if perr != nil {
		return nil, nil, simpleuser.InvalidInput("Malformed form body: " + formErrorText(perr))
	}
	for k, vs := range vals {
		if !textcheck.String(k) {
			return nil, nil, simpleuser.InvalidInput("Form field names must be valid UTF-8 text without NUL characters")
		}
		for _, v := range vs {
			if !textcheck.String(v) {
				return nil, nil, simpleuser.InvalidInput(k + " must be valid UTF-8 text without NUL characters")
			}
		}
	}
	v := reflect.ValueOf(dst).Elem()
	errs = inputErrors{}
	for _, f := range fieldsOf(v.Type(), "json") {
		vs, ok := vals[f.name]
		if !ok {
			continue
		}
		delete(vals, f.name)
		fv := v.Field(f.index)
		switch {
		case len(vs) != 1:
			errs.add(f.name, f.name+" must be a string")
		case !f.isText:
			if err := json.Unmarshal([]byte(vs[0]), fv.Addr().Interface()); err != nil {
				errs.add(f.name, f.name+" has an invalid type")
			}
		case f.ptr:
			s := vs[0]
			fv.Set(reflect.ValueOf(&s))
		default:
			fv.SetString(vs[0])
		}
	}
	extra = make(map[string]json.RawMessage, len(vals))
	for k, vs := range vals {
		if len(vs) != 1 {
			errs.add(k, k+" must be a string")
			continue
		}
		b, err := json.Marshal(vs[0])
		if err != nil {
			return nil, nil, simpleuser.InvalidInput(k + " must be valid UTF-8 text")
		}
		extra[k] = b
	}
	return extra, errs, nil
}

// formErrorText is a client-safe description of a url.ParseQuery error.
func formErrorText(err error) string {
	var ee url.EscapeError
	if errors.As(err, &ee) {
		return "invalid %-escape " + strconv.Quote(string(ee))
	}
	if strings.Contains(err.Error(), "semicolon") {
		return "';' is not a separator (use '&')"
	}
	return "cannot be parsed"
}

// jsonText reads a JSON string or number as text; null reports null.
func jsonText(raw json.RawMessage) (s string, null, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false, false
	}
	switch c := raw[0]; {
	case c == '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, false
		}
		return s, false, true
	case c == 'n':
		return "", true, string(raw) == "null"
	case c == '-' || c >= '0' && c <= '9':
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", false, false
		}
		return n.String(), false, true
	}
	return "", false, false
}

// jsonErrorText is a client-safe description of a decoding error.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of JSON input"
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "expected a JSON object"
	}
	return "invalid JSON"
}

// decodePath fills the fields of dst (a pointer to a struct) tagged path
// from r's path wildcards.
func decodePath(r *http.Request, dst any) {
	v := reflect.ValueOf(dst).Elem()
	for _, f := range fieldsOf(v.Type(), "path") {
		if f.isText && !f.ptr {
			v.Field(f.index).SetString(r.PathValue(f.name))
		}
	}
}

// decodeQuery fills dst (a pointer to a struct of string fields named by
// query tags) from q. A parameter given more than once is a 400.
func decodeQuery(q url.Values, dst any) inputErrors {
	v := reflect.ValueOf(dst).Elem()
	errs := inputErrors{}
	for _, f := range fieldsOf(v.Type(), "query") {
		vals, ok := q[f.name]
		if !ok || len(vals) == 0 {
			continue
		}
		if len(vals) > 1 || !f.isText {
			errs.add(f.name, f.name+" must be a string")
			continue
		}
		fv := v.Field(f.index)
		if f.ptr {
			s := vals[0]
			fv.Set(reflect.ValueOf(&s))
		} else {
			fv.SetString(vals[0])
		}
	}
	return errs
}
