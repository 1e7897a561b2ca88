package handlers

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser"
)

// Rules every operation of the document follows, whatever route is added
// to the table: checked here on the real table under several prefixes and
// on a table with routes shaped like future ones, and by redocly's
// recommended rules in scripts/lint-openapi.sh.

// checkDocument asserts the rules on doc, generated from rts under prefix
// with the data.code enum codes.
func checkDocument(t *testing.T, doc map[string]any, rts []route, prefix string, codes []string) {
	t.Helper()
	server := prefix
	if server == "" {
		server = "/"
	}
	if servers, _ := doc["servers"].([]any); len(servers) != 1 || dig(t, servers[0], "url") != server {
		t.Errorf("servers %v, want one with url %q", doc["servers"], server)
	}
	if dig(t, doc, "info", "description") == "" {
		t.Error("no info.description")
	}

	schemes := dig(t, doc, "components", "securitySchemes").(map[string]any)
	for name, want := range map[string]map[string]any{
		securityToken:  {"type": "apiKey", "in": "header", "name": "x-client-token"},
		securityBearer: {"type": "http", "scheme": "bearer"},
		securityCookie: {"type": "apiKey", "in": "cookie", "name": sessionCookieName},
	} {
		got, _ := schemes[name].(map[string]any)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("security scheme %s: %s = %v, want %v", name, k, got[k], v)
			}
		}
		if d, _ := got["description"].(string); d == "" {
			t.Errorf("security scheme %s has no description", name)
		}
	}

	tags := map[string]bool{}
	for _, tg := range dig(t, doc, "tags").([]any) {
		if d, _ := dig(t, tg, "description").(string); d != "" {
			tags[dig(t, tg, "name").(string)] = true
		}
	}

	schemas := dig(t, doc, "components", "schemas").(map[string]any)
	ref := func(v any, what string) map[string]any {
		t.Helper()
		r, _ := dig(t, v, "$ref").(string)
		s, ok := schemas[strings.TrimPrefix(r, "#/components/schemas/")].(map[string]any)
		if !strings.HasPrefix(r, "#/components/schemas/") || !ok {
			t.Fatalf("%s: $ref %q resolves to no schema", what, r)
		}
		return s
	}
	var enum []string
	for _, c := range dig(t, schemas, "ErrorCode", "enum").([]any) {
		enum = append(enum, c.(string))
	}
	if !slices.Equal(enum, codes) {
		t.Errorf("ErrorCode enum %v, want %v", enum, codes)
	}

	ids := map[string]bool{}
	urlSafe := regexp.MustCompile(`^[A-Za-z0-9]+$`)
	for i := range rts {
		rt := &rts[i]
		name := rt.method + " " + rt.path
		op, ok := dig(t, doc, "paths", rt.path).(map[string]any)[strings.ToLower(rt.method)].(map[string]any)
		if !ok {
			t.Errorf("%s: not documented", name)
			continue
		}
		id, _ := op["operationId"].(string)
		if !urlSafe.MatchString(id) || ids[id] {
			t.Errorf("%s: operationId %q missing, not URL-safe or not unique", name, id)
		}
		ids[id] = true
		for _, k := range []string{"summary", "description"} {
			if s, _ := op[k].(string); strings.TrimSpace(s) == "" {
				t.Errorf("%s: no %s", name, k)
			}
		}
		opTags, _ := op["tags"].([]any)
		if len(opTags) == 0 {
			t.Errorf("%s: no tag", name)
		}
		for _, tg := range opTags {
			if !tags[tg.(string)] {
				t.Errorf("%s: tag %v is not declared with a description (tagDescriptions)", name, tg)
			}
		}

		// Security: every token carrier when the route reads a token, an
		// empty requirement (anonymous) when the token is optional or unused.
		var sec []string
		for _, req := range dig(t, op, "security").([]any) {
			var keys []string
			for k := range req.(map[string]any) {
				if _, ok := schemes[k]; !ok {
					t.Errorf("%s: security names undeclared scheme %q", name, k)
				}
				keys = append(keys, k)
			}
			sec = append(sec, strings.Join(keys, "+"))
		}
		want := map[int][]string{
			tokenNone:     {""},
			tokenOptional: {securityToken, securityBearer, securityCookie, ""},
			tokenRequired: {securityToken, securityBearer, securityCookie},
		}[rt.token]
		if !slices.Equal(sec, want) {
			t.Errorf("%s: security %q, want %q", name, sec, want)
		}

		// Parameters: each path wildcard documented as a required path
		// parameter; the token is no parameter (it is the security).
		params := map[string]map[string]any{}
		for _, p := range op["parameters"].([]any) {
			pm := p.(map[string]any)
			params[pm["in"].(string)+":"+pm["name"].(string)] = pm
			if d, _ := pm["description"].(string); d == "" {
				t.Errorf("%s: parameter %s has no description", name, pm["name"])
			}
		}
		for _, w := range wildcardNames(rt.path) {
			if p, ok := params["path:"+w]; !ok || p["required"] != true {
				t.Errorf("%s: path parameter %s not documented as required", name, w)
			}
		}
		if _, ok := params["header:x-client-token"]; ok {
			t.Errorf("%s: x-client-token documented as a parameter", name)
		}

		// Request body: documented when the route takes one, required when
		// its type has a required field.
		rb, hasBody := op["requestBody"].(map[string]any)
		if hasBody != (rt.body != nil) {
			t.Errorf("%s: requestBody documented=%v, route body %T", name, hasBody, rt.body)
		}
		if hasBody {
			if (rb["required"] == true) != bodyRequired(rt.body) {
				t.Errorf("%s: requestBody required=%v, want %v", name, rb["required"], bodyRequired(rt.body))
			}
			content := dig(t, rb, "content").(map[string]any)
			for ct, mt := range content {
				if _, ok := mt.(map[string]any)["schema"]; !ok {
					t.Errorf("%s: body %s has no schema", name, ct)
				}
			}
			// Exactly the media types the route reads; a form carries the
			// JSON body's fields, so both name one schema.
			types := rt.bodyTypes
			if types == nil {
				types = defaultBodyTypes
			}
			if got := slices.Sorted(maps.Keys(content)); !slices.Equal(got, slices.Sorted(slices.Values(types))) {
				t.Errorf("%s: body media types %q, want %q", name, got, types)
			}
			if f, ok := content[formType]; ok && !reflect.DeepEqual(f, content[jsonType]) {
				t.Errorf("%s: the form body's schema %v differs from the JSON body's %v", name, f, content[jsonType])
			}
		}

		// Responses: a 200 envelope, at least one 4xx, and every error
		// answer an envelope whose data.code is the ErrorCode enum.
		resps := dig(t, op, "responses").(map[string]any)
		ref(dig(t, resps, "200", "content", "application/json", "schema"), name+" 200")
		n4xx := 0
		for status, r := range resps {
			if status[0] != '4' && status[0] != '5' {
				continue
			}
			if status[0] == '4' {
				n4xx++
			}
			what := name + " " + status
			if d, _ := dig(t, r, "description").(string); d == "" {
				t.Errorf("%s: no description", what)
			}
			env := ref(dig(t, r, "content", "application/json", "schema"), what)
			for _, f := range []string{"statusCode", "message", "success", "timestamp", "data"} {
				if !slices.Contains(toStrings(env["required"]), f) {
					t.Errorf("%s: envelope does not require %s", what, f)
				}
			}
			data := ref(dig(t, env, "properties", "data"), what+" data")
			if code := dig(t, data, "properties", "code", "$ref"); code != "#/components/schemas/ErrorCode" {
				t.Errorf("%s: data.code is %v, not the ErrorCode enum", what, code)
			}
		}
		if n4xx == 0 {
			t.Errorf("%s: no 4xx answer documented", name)
		}
	}
	// Every operation of the document comes from the table.
	n := 0
	for _, item := range dig(t, doc, "paths").(map[string]any) {
		n += len(item.(map[string]any))
	}
	if n != len(rts) {
		t.Errorf("%d operations documented, %d routes", n, len(rts))
	}
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, s := range l {
		out = append(out, fmt.Sprint(s))
	}
	return out
}

func TestOpenAPIRulesEveryRoute(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"default", Options{}},
		{"root", Options{Prefix: "/"}},
		{"nested with app codes", Options{Prefix: "/auth/v1", ErrorCodes: []string{"NICKNAME_TAKEN", simpleuser.CodeConflict, ""}, UserFields: &docUserFields{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &server{prefix: normalizePrefix(tc.opts.Prefix), opts: tc.opts}
			b, err := s.document(routes)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			codes := simpleuser.Codes()
			if tc.opts.ErrorCodes != nil {
				codes = append(codes, "NICKNAME_TAKEN") // CONFLICT is the kit's; "" is dropped
			}
			checkDocument(t, doc, routes, s.prefix, codes)
		})
	}
}

// Routes shaped like ones still to come (a list, a DELETE with a path
// parameter, a POST whose body is optional): the generator documents
// them from their table entries alone.
type (
	futureItemPath struct {
		ID string `path:"id" required:"true" minLength:"1" description:"The item's opaque id."`
	}
	futureOptionalBody struct {
		All bool `json:"all,omitempty" description:"Also the caller's own."`
	}
	futureList struct {
		Items []sessionInfo `json:"items" required:"true" description:"The items."`
	}
)

func TestOpenAPIRulesNewRoutes(t *testing.T) {
	future := []route{
		{method: http.MethodGet, path: "/user-center/items", summary: "List items", description: "The caller's items.",
			tags: []string{"user-center"}, ssaid: true, token: tokenRequired, data: new(futureList), errors: []routeError{errInput, errSession, errBackend}},
		{method: http.MethodDelete, path: "/user-center/items/{id}", summary: "End an item", description: "Ends one.",
			tags: []string{"user-center"}, ssaid: true, token: tokenRequired, query: new(futureItemPath),
			errors: []routeError{errInput, errSession, {http.StatusNotFound, "Not the caller's (NOT_FOUND)."}, errBackend}},
		{method: http.MethodPost, path: "/user-center/items-end-all", summary: "End all items", description: "Ends every other one.",
			tags: []string{"user-center"}, ssaid: true, token: tokenRequired, body: new(futureOptionalBody),
			errors: []routeError{errInput, errSession, errTooLarge, errMedia, errBackend}},
	}
	rts := slices.Concat(routes, future)
	s := &server{prefix: "/api"}
	b, err := s.document(rts)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	checkDocument(t, doc, rts, "/api", simpleuser.Codes())
	if rb := dig(t, doc, "paths", "/user-center/items-end-all", "post", "requestBody").(map[string]any); rb["required"] == true {
		t.Error("a body without required fields is documented as required")
	}
}

// TestBodyRequiredMatchesValidation: a body field is required in the
// document exactly when the validator requires it, so a required body is
// one an empty request fails; and every route whose body the document
// requires answers an empty body with 400 INVALID_INPUT.
func TestBodyRequiredMatchesValidation(t *testing.T) {
	for _, rt := range routes {
		for _, v := range []any{rt.body, rt.query} {
			if v == nil {
				continue
			}
			ty := typeOf(v)
			for i := 0; i < ty.NumField(); i++ {
				f := ty.Field(i)
				if f.Tag.Get("json") == "" && f.Tag.Get("query") == "" {
					continue // path parameters are required by the route itself; headers by the middleware
				}
				validated := slices.Contains(strings.Split(f.Tag.Get("validate"), ","), "required")
				if documented := f.Tag.Get("required") == "true"; documented != validated {
					t.Errorf("%s %s: %s.%s required:%v in the document, validate required:%v", rt.method, rt.path, ty.Name(), f.Name, documented, validated)
				}
			}
		}
	}

	e := newEnv(t)
	dev := e.ssaid("dev")
	tok, _ := e.register(dev, e.email("a"), "")
	n := 0
	for _, rt := range routes {
		if rt.body == nil || !bodyRequired(rt.body) {
			continue
		}
		n++
		path := rt.path
		for _, w := range wildcardNames(path) {
			path = strings.Replace(path, "{"+w+"}", "x", 1)
		}
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			e.do(rq{method: rt.method, path: path, ssaid: dev, token: tok}).want(t, 400, simpleuser.CodeInvalidInput)
		})
	}
	if n < 5 {
		t.Fatalf("only %d routes with a required body", n)
	}
}
