package handlers

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/simpleuser/simpleuser"
)

func itoa(i int) string { return strconv.Itoa(i) }

func typeOf(v any) reflect.Type { return reflect.TypeOf(v).Elem() }

func TestDecodeLoginBody(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		want  loginBody
		extra []string
		msg   string // "" = valid
	}{
		{name: "known fields", body: `{"email":"a@example.com","code":"123","password":"p","setPassword":"s"}`,
			want: loginBody{Email: "a@example.com", Code: ptr("123"), Password: "p", SetPassword: "s"}},
		{name: "extra fields", body: `{"email":"a@example.com","password":"p","nickname":"n","inviter":{"id":1},"EMAIL":"x"}`,
			want: loginBody{Email: "a@example.com", Password: "p"}, extra: []string{"EMAIL", "inviter", "nickname"}},
		{name: "numeric code", body: `{"email":"a@example.com","code":123456}`, want: loginBody{Email: "a@example.com", Code: ptr("123456")}},
		{name: "null fields", body: `{"email":"a@example.com","code":null,"password":null}`, want: loginBody{Email: "a@example.com"}},
		{name: "padded email", body: ` {"email":"  a@example.com\t"} `, want: loginBody{Email: "a@example.com"}},
		{name: "empty code", body: `{"email":"a@example.com","code":""}`, msg: "code should not be empty"},
		{name: "code object", body: `{"email":"a@example.com","code":{}}`, msg: "code must be a string"},
		{name: "setPassword bool", body: `{"email":"a@example.com","setPassword":false}`, msg: "setPassword must be a string"},
		{name: "no email", body: `{}`, msg: "email must be an email"},
		{name: "empty body", body: ``, msg: "email must be an email"},
		{name: "array", body: `[]`, msg: "Malformed JSON body: expected a JSON object"},
		{name: "string", body: `"x"`, msg: "Malformed JSON body: expected a JSON object"},
		{name: "two objects", body: `{}{}`, msg: "Malformed JSON body: unexpected data after the JSON object"},
		{name: "truncated", body: `{"email":`, msg: "Malformed JSON body: unexpected end of JSON input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got loginBody
			extra, errs, err := decodeJSON([]byte(tc.body), &got)
			if err == nil {
				err = check(&got, errs)
			}
			if tc.msg != "" {
				var e *simpleuser.Error
				if !errors.As(err, &e) || e.Status != 400 || e.Code != "INVALID_INPUT" || e.Message != tc.msg {
					t.Fatalf("error %v, want 400 %q", err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			var keys []string
			for k := range extra {
				keys = append(keys, k)
			}
			if len(keys) != len(tc.extra) {
				t.Fatalf("extra %v, want %v", keys, tc.extra)
			}
			for _, k := range tc.extra {
				if _, ok := extra[k]; !ok || !json.Valid(extra[k]) {
					t.Fatalf("extra lacks %q: %v", k, keys)
				}
			}
		})
	}
}

func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json":                 true,
		"application/json; charset=utf-8":  true,
		"APPLICATION/JSON;charset=UTF-8":   true,
		"application/json ; foo=bar":       true,
		"":                                 false,
		"text/plain":                       false,
		"application/jsonx":                false,
		"application/problem+json":         false,
		"application/json; charset=\"utf8": false,
	} {
		if got := isJSON(ct); got != want {
			t.Errorf("isJSON(%q) = %v", ct, got)
		}
	}
}

func TestRouteTableConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, rt := range routes {
		k := rt.method + " " + rt.path
		if seen[k] {
			t.Fatalf("duplicate route %s", k)
		}
		seen[k] = true
		if rt.handle == nil || rt.summary == "" || len(rt.tags) == 0 || len(rt.errors) == 0 {
			t.Fatalf("%s: incomplete route", k)
		}
		if rt.method == "GET" && rt.body != nil {
			t.Fatalf("%s: GET with a body", k)
		}
	}
}
