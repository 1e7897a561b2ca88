package handlers

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

type embeddedApp struct {
	Level int `json:"level"`
}

type docUserFields struct {
	embeddedApp
	Age      int               `json:"age" description:"Age in years."`
	Tags     []string          `json:"tags,omitempty"`
	Profile  map[string]string `json:"profile"`
	Secret   string            `json:"-"`
	Untagged string
	hidden   string
	ID       string `json:"id"` // clashes with the kit's id: the kit wins
}

func fetchDoc(t *testing.T, o Options) map[string]any {
	t.Helper()
	e := newEnv(t, withOptions(func(opts *Options) { *opts = o }))
	req := httptest.NewRequest("GET", e.prefix+"/openapi.json", nil)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return doc
}

func dig(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object at %q", strings.Join(path, "."), p)
		}
		if v, ok = m[p]; !ok {
			t.Fatalf("%s: no %q", strings.Join(path, "."), p)
		}
	}
	return v
}

func TestOpenAPIDocument(t *testing.T) {
	doc := fetchDoc(t, Options{Title: "My API", Version: "9.9.9", UserFields: &docUserFields{}})
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi %v", doc["openapi"])
	}
	if dig(t, doc, "info", "title") != "My API" || dig(t, doc, "info", "version") != "9.9.9" {
		t.Fatalf("info %v", doc["info"])
	}
	schemas := dig(t, doc, "components", "schemas").(map[string]any)
	for _, rt := range routes {
		op := dig(t, doc, "paths", rt.path, strings.ToLower(rt.method)).(map[string]any)
		params := map[string]map[string]any{}
		for _, p := range op["parameters"].([]any) {
			pm := p.(map[string]any)
			params[pm["in"].(string)+":"+pm["name"].(string)] = pm
		}
		ss, ok := params["header:x-client-ssaid"]
		if !ok || (ss["required"] == true) != rt.ssaid {
			t.Errorf("%s %s: x-client-ssaid %v, want required=%v", rt.method, rt.path, ss, rt.ssaid)
		}
		if _, ok := params["header:x-client-token"]; ok {
			t.Errorf("%s %s: x-client-token is a parameter; it is the clientToken security scheme", rt.method, rt.path)
		}
		if rt.query != nil {
			for _, f := range fieldsOf(typeOf(rt.query), "query") {
				if _, ok := params["query:"+f.name]; !ok {
					t.Errorf("%s %s: query %s undocumented", rt.method, rt.path, f.name)
				}
			}
		}
		if _, ok := op["requestBody"]; ok != (rt.body != nil) {
			t.Errorf("%s %s: requestBody documented=%v", rt.method, rt.path, ok)
		}
		resps := op["responses"].(map[string]any)
		ok200 := dig(t, resps, "200", "content", "application/json", "schema", "$ref").(string)
		env := schemas[strings.TrimPrefix(ok200, "#/components/schemas/")].(map[string]any)
		_, hasData := dig(t, env, "properties").(map[string]any)["data"]
		if hasData != (rt.data != nil) {
			t.Errorf("%s %s: 200 data documented=%v", rt.method, rt.path, hasData)
		}
		for _, e := range rt.errors {
			r := dig(t, resps, itoa(e.status)).(map[string]any)
			if e.status == 429 {
				dig(t, r, "headers", "Retry-After")
				ref := dig(t, r, "content", "application/json", "schema", "$ref").(string)
				data := dig(t, schemas, strings.TrimPrefix(ref, "#/components/schemas/"), "properties", "data", "$ref").(string)
				dig(t, schemas, strings.TrimPrefix(data, "#/components/schemas/"), "properties", "waitTimeMs")
			}
		}
	}
	user := dig(t, schemas, "User", "properties").(map[string]any)
	for _, k := range []string{"id", "email", "registered", "passwordSet", "metadata", "settings", "createdAt", "age", "tags", "profile", "level", "Untagged"} {
		if _, ok := user[k]; !ok {
			t.Errorf("User schema lacks %q", k)
		}
	}
	for _, k := range []string{"Secret", "secret", "-", "hidden", "embeddedApp"} {
		if _, ok := user[k]; ok {
			t.Errorf("User schema has %q", k)
		}
	}
	if dig(t, user, "id", "type") != "integer" {
		t.Errorf("the app's id replaced the kit's: %v", user["id"])
	}
	if dig(t, user, "age", "description") != "Age in years." {
		t.Errorf("age %v", user["age"])
	}
	me := dig(t, doc, "paths", "/user-center/me", "get", "responses", "200", "content", "application/json", "schema", "$ref").(string)
	if dig(t, schemas, strings.TrimPrefix(me, "#/components/schemas/"), "properties", "data", "$ref") != "#/components/schemas/User" {
		t.Error("/me data is not the User schema")
	}
	login := dig(t, schemas, "LoginBody").(map[string]any)
	if login["additionalProperties"] != true {
		t.Errorf("LoginBody must allow extra fields: %v", login)
	}
}

func TestOpenAPIRootPrefixAndNoUserFields(t *testing.T) {
	doc := fetchDoc(t, Options{Prefix: "/"})
	dig(t, doc, "paths", "/login", "post")
	if url := dig(t, doc, "servers").([]any)[0].(map[string]any)["url"]; url != "/" {
		t.Fatalf("servers url %v", url)
	}
	user := dig(t, doc, "components", "schemas", "User", "properties").(map[string]any)
	if len(user) != 12 {
		t.Fatalf("User schema without app fields has %d properties", len(user))
	}
}

func TestNewRejectsNonStructUserFields(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	newEnv(t, withOptions(func(o *Options) { o.UserFields = 3 }))
}

func TestOperationIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := range routes {
		id := operationID(&routes[i])
		if seen[id] {
			t.Fatalf("duplicate operation id %q", id)
		}
		seen[id] = true
	}
	if got := operationID(&route{method: "POST", path: "/user-center/change-email"}); got != "postUserCenterChangeEmail" {
		t.Fatal(got)
	}
}

func TestOpenAPILicense(t *testing.T) {
	doc := fetchDoc(t, Options{})
	if _, ok := dig(t, doc, "info").(map[string]any)["license"]; ok {
		t.Fatal("a license without Options.License")
	}
	doc = fetchDoc(t, Options{License: License{Name: "MIT", Identifier: "MIT"}})
	if l := dig(t, doc, "info", "license").(map[string]any); l["name"] != "MIT" || l["identifier"] != "MIT" || l["url"] != nil {
		t.Fatalf("license %v", l)
	}
	doc = fetchDoc(t, Options{License: License{Name: "Our terms", URL: "https://app.example/terms"}})
	if l := dig(t, doc, "info", "license").(map[string]any); l["name"] != "Our terms" || l["url"] != "https://app.example/terms" || l["identifier"] != nil {
		t.Fatalf("license %v", l)
	}
	for _, bad := range []License{{Identifier: "MIT"}, {Name: "MIT", Identifier: "MIT", URL: "https://x.example/"}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "Options.License") {
					t.Errorf("License %+v: panic %v", bad, r)
				}
			}()
			newEnv(t, withOptions(func(o *Options) { o.License = bad }))
		}()
	}
}
