package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/swaggest/jsonschema-go"
	"github.com/swaggest/openapi-go"
	"github.com/swaggest/openapi-go/openapi31"
)

// openAPI builds the OpenAPI 3.1 document of the route table (indented JSON).
func (s *server) openAPI() ([]byte, error) {
	r := openapi31.NewReflector()
	r.DefaultOptions = append(r.DefaultOptions, jsonschema.StripDefinitionNamePrefix("Handlers"))
	title, version := s.opts.Title, s.opts.Version
	if title == "" {
		title = "simpleuser"
	}
	if version == "" {
		version = "1.0.0"
	}
	r.Spec.Info.WithTitle(title).WithVersion(version).WithDescription(
		"Email code and password login, anonymous users and server-side sessions; wire-compatible with nicot-simple-user. " +
			"Every answer is an envelope {statusCode, message, success, timestamp, data?} whose statusCode equals the HTTP status.")

	user, err := s.userSchema()
	if err != nil {
		return nil, err
	}
	for i := range routes {
		rt := &routes[i]
		if err := s.addOperation(r, rt, user); err != nil {
			return nil, fmt.Errorf("%s %s: %w", rt.method, rt.path, err)
		}
	}
	b, err := r.Spec.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func (s *server) addOperation(r *openapi31.Reflector, rt *route, user jsonschema.Struct) error {
	oc, err := r.NewOperationContext(rt.method, s.prefix+rt.path)
	if err != nil {
		return err
	}
	oc.SetID(operationID(rt))
	oc.SetSummary(rt.summary)
	oc.SetDescription(rt.description)
	oc.SetTags(rt.tags...)

	switch {
	case rt.ssaidDoc != nil:
		oc.AddReqStructure(rt.ssaidDoc)
	case rt.ssaid:
		oc.AddReqStructure(new(ssaidHeader))
	default:
		oc.AddReqStructure(new(optionalSSAIDHeader))
	}
	switch rt.token {
	case tokenOptional:
		oc.AddReqStructure(new(tokenHeader))
	case tokenRequired:
		oc.AddReqStructure(new(requiredTokenHeader))
	}
	if rt.query != nil {
		oc.AddReqStructure(rt.query)
	}
	types := rt.bodyTypes
	if len(types) == 0 {
		types = []string{jsonType}
	}
	free, isFree := rt.body.(freeFormBody)
	if rt.body != nil && !isFree {
		for _, ct := range types {
			oc.AddReqStructure(rt.body, openapi.WithContentType(ct))
		}
	}

	var data any
	name := "SuccessEnvelope"
	if rt.data != nil {
		data = rt.data
		if _, ok := rt.data.(*meUser); ok {
			data = user
		}
		name = typeName(rt.data) + "Envelope"
	}
	oc.AddRespStructure(envelopeSchema(name, data), openapi.WithHTTPStatus(http.StatusOK),
		func(cu *openapi.ContentUnit) { cu.Description = "Success." })
	if rt.found {
		desc := "Redirect to data.url (the Location header); the envelope carries the same URL."
		oc.AddRespStructure(envelopeSchema(name, data), openapi.WithHTTPStatus(http.StatusFound),
			func(cu *openapi.ContentUnit) { cu.Description = desc })
		oc.AddRespStructure(new(locationHeader), openapi.WithHTTPStatus(http.StatusFound),
			func(cu *openapi.ContentUnit) { cu.Description = desc })
	}
	for _, e := range s.routeErrors(rt) {
		desc := e.description
		if e.status == http.StatusTooManyRequests {
			oc.AddRespStructure(envelopeSchema("WaitEnvelope", new(waitData)), openapi.WithHTTPStatus(e.status),
				func(cu *openapi.ContentUnit) { cu.Description = desc })
			oc.AddRespStructure(new(retryAfter), openapi.WithHTTPStatus(e.status),
				func(cu *openapi.ContentUnit) { cu.Description = desc })
			continue
		}
		oc.AddRespStructure(envelopeSchema("ErrorEnvelope", new(errorData)), openapi.WithHTTPStatus(e.status),
			func(cu *openapi.ContentUnit) { cu.Description = desc })
	}
	if err := r.AddOperation(oc); err != nil {
		return err
	}
	if isFree {
		return setRequestBody(r, s.prefix+rt.path, rt.method, types, free.bodySchema())
	}
	return nil
}

// freeFormBody is a body type documented by a hand-written JSON schema
// (a merge patch, say, which has no fixed fields to reflect).
type freeFormBody interface {
	bodySchema() map[string]any
}

// setRequestBody documents the required request body of an operation
// already added: schema, under each media type.
func setRequestBody(r *openapi31.Reflector, path, method string, types []string, schema map[string]any) error {
	item, ok := r.Spec.Paths.MapOfPathItemValues[path]
	if !ok {
		return fmt.Errorf("no path item %s", path)
	}
	var op *openapi31.Operation
	switch method {
	case http.MethodPatch:
		op = item.Patch
	case http.MethodPost:
		op = item.Post
	case http.MethodPut:
		op = item.Put
	}
	if op == nil {
		return fmt.Errorf("no %s operation on %s", method, path)
	}
	rb := (&openapi31.RequestBody{Content: map[string]openapi31.MediaType{}}).WithRequired(true)
	for _, ct := range types {
		rb.Content[ct] = openapi31.MediaType{Schema: schema}
	}
	op.RequestBody = &openapi31.RequestBodyOrReference{RequestBody: rb}
	return nil
}

// operationID names an operation after its method and path:
// "POST /user-center/change-email" → "postUserCenterChangeEmail".
func operationID(rt *route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	upper := true
	for _, c := range rt.path {
		switch {
		case c == '}':
		case c == '/' || c == '-' || c == '.' || c == '{':
			upper = true
		case upper:
			b.WriteString(strings.ToUpper(string(c)))
			upper = false
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// typeName is the exported-style name of a data type ("loginData" → "LoginData").
func typeName(v any) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if _, ok := v.(*meUser); ok {
		return "User"
	}
	n := t.Name()
	return strings.ToUpper(n[:1]) + n[1:]
}

// envelopeSchema describes the envelope carrying data (nil: no data field).
func envelopeSchema(name string, data any) jsonschema.Struct {
	s := jsonschema.Struct{DefName: name}
	s.Fields = structFields(reflect.TypeOf(envelopeHead{}))
	if data != nil {
		s.Fields = append(s.Fields, jsonschema.Field{Name: "Data", Value: data, Tag: `json:"data" required:"true"`})
	}
	return s
}

// structFields lists the fields of struct type t as virtual fields.
func structFields(t reflect.Type) []jsonschema.Field {
	var out []jsonschema.Field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		out = append(out, jsonschema.Field{Name: sf.Name, Value: reflect.Zero(sf.Type).Interface(), Tag: sf.Tag})
	}
	return out
}

// userSchema is the User schema of GET /user-center/me: the kit's fields
// followed by the exported JSON fields of Options.UserFields (the kit's
// win on a name clash).
func (s *server) userSchema() (jsonschema.Struct, error) {
	u := jsonschema.Struct{DefName: "User"}
	u.SetDescription("The current user: the kit's fields plus the app's own.")
	u.Fields = structFields(reflect.TypeOf(meUser{}))
	if s.opts.UserFields == nil {
		return u, nil
	}
	t := reflect.TypeOf(s.opts.UserFields)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return u, fmt.Errorf("Options.UserFields must be a struct, not %s", t)
	}
	taken := map[string]bool{}
	for _, f := range u.Fields {
		taken[jsonName(f.Tag, f.Name)] = true
	}
	for _, f := range appFields(t, map[reflect.Type]bool{}) {
		name := jsonName(f.Tag, f.Name)
		if taken[name] {
			continue
		}
		taken[name] = true
		u.Fields = append(u.Fields, f)
	}
	return u, nil
}

// appFields lists the JSON fields of an app struct as encoding/json sees
// them: exported fields, json:"-" dropped, untagged embedded structs
// flattened, untagged fields named after the Go field.
func appFields(t reflect.Type, seen map[reflect.Type]bool) []jsonschema.Field {
	if seen[t] {
		return nil
	}
	seen[t] = true
	var out []jsonschema.Field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, hasTag := sf.Tag.Lookup("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" {
			continue
		}
		if sf.Anonymous && name == "" {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				out = append(out, appFields(et, seen)...)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		ftag := sf.Tag
		if !hasTag || name == "" {
			opts := ""
			if _, o, ok := strings.Cut(tag, ","); ok {
				opts = "," + o
			}
			ftag = reflect.StructTag(fmt.Sprintf(`json:%q %s`, sf.Name+opts, stripTag(string(sf.Tag), "json")))
		}
		out = append(out, jsonschema.Field{Name: sf.Name, Value: reflect.Zero(sf.Type).Interface(), Tag: ftag})
	}
	return out
}

// jsonName is the JSON property name of a field.
func jsonName(tag reflect.StructTag, goName string) string {
	if name, _, _ := strings.Cut(tag.Get("json"), ","); name != "" {
		return name
	}
	return goName
}

// stripTag removes key:"..." from a struct tag string.
func stripTag(tag, key string) string {
	i := strings.Index(tag, key+`:"`)
	if i < 0 {
		return tag
	}
	j := i + len(key) + 2
	for j < len(tag) && tag[j] != '"' {
		if tag[j] == '\\' {
			j++
		}
		j++
	}
	return strings.TrimSpace(tag[:i] + tag[min(j+1, len(tag)):])
}
