package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/simpleuser/simpleuser"
	browsercfg "github.com/simpleuser/simpleuser/browser"
	"github.com/swaggest/jsonschema-go"
	"github.com/swaggest/openapi-go"
	"github.com/swaggest/openapi-go/openapi31"
)

// Security scheme names of the OpenAPI document: the three ways a request
// carries the session token (SPEC §1), in the order the middleware reads
// them.
const (
	securityToken  = "clientToken"
	securityBearer = "bearer"
	securityCookie = "sessionCookie"
)

// tagDescriptions describe the tags of the route table, in the order the
// document lists them. A route tagged otherwise fails the OpenAPI tests.
var tagDescriptions = []struct{ name, description string }{
	{"send-code", "One-time codes sent by email for a purpose (Login, ResetPassword, ChangeEmail, Unregister): send one, check one."},
	{"login", "Log in with a code or a password, reset a password or unregister with a code, and whether an address has an account."},
	{"user-center", "The current user (an account or the device's anonymous user): profile, password, address, settings, linked sign-in accounts, sessions, logout."},
	{"sign-in", "Sign-in with OAuth 2.0 / OpenID Connect providers (authorization code with PKCE)."},
	{"passkeys", "Passkeys (WebAuthn): sign in with one without typing an address; register, list, rename and remove the user's passkeys."},
	{"mfa", "Second factors (TOTP authenticators, recovery codes, a code by email), the challenge that completes a sign-in into an account with MFA on, and trusted devices."},
}

// openAPI builds the OpenAPI 3.1 document of the route table (indented JSON).
//
// Every rule of the document comes from the route table, so a new route is
// documented by its entry alone: its security from route.token, its
// request body (required when the body type has a required field) from
// route.body, its answers from route.data and route.errors, each error
// answer carrying the envelope whose data.code is the enum of every code
// (simpleuser.Codes plus Options.ErrorCodes).
func (s *server) openAPI() ([]byte, error) { return s.document(routes) }

// document builds the OpenAPI document of the routes rts.
func (s *server) document(rts []route) ([]byte, error) {
	r := openapi31.NewReflector()
	codes := s.errorCodes()
	r.DefaultOptions = append(r.DefaultOptions,
		jsonschema.StripDefinitionNamePrefix("Handlers"),
		jsonschema.InterceptSchema(func(p jsonschema.InterceptSchemaParams) (bool, error) {
			if p.Processed && p.Value.Type() == reflect.TypeFor[errorCode]() {
				p.Schema.WithDescription("The machine-readable error code of an error answer (data.code): the kit's, then the app's own.")
				p.Schema.Enum = nil
				for _, c := range codes {
					p.Schema.Enum = append(p.Schema.Enum, c)
				}
			}
			return false, nil
		}))
	version := s.opts.Version
	if version == "" {
		version = "1.0.0"
	}
	r.Spec.Info.WithTitle(s.title()).WithVersion(version).WithDescription(
		"Email code and password login, anonymous users and server-side sessions; wire-compatible with nicot-simple-user. " +
			"Every answer is an envelope {statusCode, message, success, timestamp, data?} whose statusCode equals the HTTP status; " +
			"an error's data.code is one of the ErrorCode values. Swagger UI for this document is served at " + s.prefix + "/docs.")
	if err := s.checkDocOptions(); err != nil {
		return nil, err
	}
	if l := s.opts.License; l != (License{}) {
		lic := openapi31.License{Name: l.Name}
		if l.Identifier != "" {
			lic.Identifier = &l.Identifier
		}
		if l.URL != "" {
			lic.URL = &l.URL
		}
		r.Spec.Info.WithLicense(lic)
	}
	server := s.prefix
	if server == "" {
		server = "/"
	}
	r.Spec.WithServers(openapi31.Server{URL: server, Description: ptr("This server: the API's path prefix, relative to the host serving this document.")})
	s.securitySchemes(r.Spec)
	for _, t := range tagDescriptions {
		r.Spec.Tags = append(r.Spec.Tags, openapi31.Tag{Name: t.name, Description: ptr(t.description)})
	}

	user, err := s.userSchema()
	if err != nil {
		return nil, err
	}
	for i := range rts {
		rt := &rts[i]
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

// title is the document's title: Options.Title, default "simpleuser".
func (s *server) title() string {
	if s.opts.Title == "" {
		return "simpleuser"
	}
	return s.opts.Title
}

// errorCodes lists the data.code values: the kit's, then the app's
// Options.ErrorCodes not already listed.
func (s *server) errorCodes() []string {
	codes := simpleuser.Codes()
	for _, c := range s.opts.ErrorCodes {
		if c != "" && !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	return codes
}

// securitySchemes declares the three carriers of the session token.
func (s *server) securitySchemes(spec *openapi31.Spec) {
	spec.SetAPIKeySecurity(securityToken, "x-client-token", openapi.InHeader,
		"The session token returned by POST "+s.prefix+"/login (64 characters). Read first.")
	spec.SetHTTPBearerTokenSecurity(securityBearer, "opaque",
		"The same token as Authorization: Bearer <token>; read when x-client-token is absent.")
	spec.SetAPIKeySecurity(securityCookie, s.sessionCookieName(), openapi.InCookie,
		"The same token in the HttpOnly session cookie that every login sets when the app turned cookie mode on; read last. "+
			"A state-changing request it authenticates must come from the same origin (or a trusted one): else 403.")
}

// sessionCookieName is the name of the session cookie of cookie mode, as
// configured (Config.Browser.SessionCookie).
func (s *server) sessionCookieName() string {
	if s.browser.SessionCookie == "" { // a document built without a service (tests)
		return "__Host-" + browsercfg.DefaultSessionCookie
	}
	return s.browser.SessionCookie
}

// security is the security requirement of a route: any one of the token
// carriers, or (token optional or unused) none.
func security(rt *route) []map[string][]string {
	if rt.token == tokenNone {
		return []map[string][]string{{}}
	}
	req := []map[string][]string{{securityToken: {}}, {securityBearer: {}}, {securityCookie: {}}}
	if rt.token == tokenOptional {
		req = append(req, map[string][]string{})
	}
	return req
}

func (s *server) addOperation(r *openapi31.Reflector, rt *route, user jsonschema.Struct) error {
	oc, err := r.NewOperationContext(rt.method, rt.path)
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
	if rt.query != nil {
		oc.AddReqStructure(rt.query)
	}
	types := rt.bodyTypes
	if len(types) == 0 {
		types = defaultBodyTypes
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
	if rt.seeOther != "" {
		desc := rt.seeOther
		oc.AddRespStructure(envelopeSchema("SuccessEnvelope", nil), openapi.WithHTTPStatus(http.StatusSeeOther),
			func(cu *openapi.ContentUnit) { cu.Description = desc })
		oc.AddRespStructure(new(pageLocation), openapi.WithHTTPStatus(http.StatusSeeOther),
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
	op, err := operation(r.Spec, rt.path, rt.method)
	if err != nil {
		return err
	}
	op.Security = security(rt)
	switch {
	case isFree:
		setRequestBody(op, types, free.bodySchema())
	case rt.body != nil && op.RequestBody != nil && op.RequestBody.RequestBody != nil:
		rb := op.RequestBody.RequestBody
		if bodyRequired(rt.body) {
			rb.WithRequired(true)
		}
		// The reflector fills a form media type from formData tags, which
		// the body types do not have: a form carries the JSON body's
		// fields (OpenAPI 3.1 §4.8.14.4: each property one form field,
		// style form), so it gets the same schema.
		if js, ok := rb.Content[jsonType]; ok {
			for _, ct := range types {
				if _, has := rb.Content[ct]; !has {
					rb.Content[ct] = js
				}
			}
		}
	}
	return nil
}

// bodyRequired reports whether a request body must be sent: its type has
// a field tagged required:"true" (an empty body fails validation), or it
// is a freeFormBody. A body whose fields are all optional may be left out.
func bodyRequired(body any) bool {
	if _, ok := body.(freeFormBody); ok {
		return true
	}
	t := reflect.TypeOf(body)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("required") == "true" {
			return true
		}
	}
	return false
}

// operation finds the operation of method on path in spec.
func operation(spec *openapi31.Spec, path, method string) (*openapi31.Operation, error) {
	item, ok := spec.Paths.MapOfPathItemValues[path]
	if !ok {
		return nil, fmt.Errorf("no path item %s", path)
	}
	var op *openapi31.Operation
	switch method {
	case http.MethodGet:
		op = item.Get
	case http.MethodPost:
		op = item.Post
	case http.MethodPut:
		op = item.Put
	case http.MethodPatch:
		op = item.Patch
	case http.MethodDelete:
		op = item.Delete
	}
	if op == nil {
		return nil, fmt.Errorf("no %s operation on %s", method, path)
	}
	return op, nil
}

func ptr[T any](v T) *T { return &v }

// freeFormBody is a body type documented by a hand-written JSON schema
// (a merge patch, say, which has no fixed fields to reflect).
type freeFormBody interface {
	bodySchema() map[string]any
}

// setRequestBody documents the required request body of op: schema,
// under each media type.
func setRequestBody(op *openapi31.Operation, types []string, schema map[string]any) {
	rb := (&openapi31.RequestBody{Content: map[string]openapi31.MediaType{}}).WithRequired(true)
	for _, ct := range types {
		rb.Content[ct] = openapi31.MediaType{Schema: schema}
	}
	op.RequestBody = &openapi31.RequestBodyOrReference{RequestBody: rb}
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
