package admin

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

	"github.com/simpleuser/simpleuser/envelope"
)

// Document returns the admin API's OpenAPI 3.1 document (indented JSON),
// generated from its route table with swaggest/openapi-go, as handlers'
// document is. server is the path the app mounts the handler at ("/admin").
// The handler serves it at GET {server}/openapi.json to an authorized caller.
func Document(server string) ([]byte, error) {
	h := &Handler{}
	return document(h.table(), server)
}

func (h *Handler) serveDocument(w http.ResponseWriter, r *http.Request) {
	if _, err := h.authenticate(r); err != nil {
		envelope.Error(w, r, h.cfg.Logger, mapErr(err))
		return
	}
	prefix := strings.TrimSuffix(r.Header.Get("X-Forwarded-Prefix"), "/")
	b, err := document(h.table(), prefix+"/")
	if err != nil {
		envelope.Error(w, r, h.cfg.Logger, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

type envelopeHead struct {
	StatusCode int    `json:"statusCode" required:"true" description:"The HTTP status."`
	Message    string `json:"message" required:"true"`
	Success    bool   `json:"success" required:"true"`
	Timestamp  string `json:"timestamp" required:"true" format:"date-time"`
}

type errorData struct {
	Code string `json:"code" required:"true" description:"The machine-readable error code."`
}

func envelopeOf(name string, data any) jsonschema.Struct {
	s := jsonschema.Struct{DefName: name}
	t := reflect.TypeOf(envelopeHead{})
	for i := range t.NumField() {
		f := t.Field(i)
		s.Fields = append(s.Fields, jsonschema.Field{Name: f.Name, Value: reflect.Zero(f.Type).Interface(), Tag: f.Tag})
	}
	if data != nil {
		s.Fields = append(s.Fields, jsonschema.Field{Name: "Data", Value: data, Tag: `json:"data" required:"true"`})
	}
	return s
}

var errorText = map[int]string{
	400: "Invalid input (data.code INVALID_INPUT).",
	401: "No credentials, or an unknown, expired or revoked session token or API key.",
	403: "The session lacks the admin permission (PERMISSION_DENIED).",
	404: "No such user, session, sign-in account or key.",
	409: "Conflict: the address is taken, the account changed concurrently, or the last sign-in method.",
	503: "A backend is unavailable (named in the message).",
}

func document(rts []route, server string) ([]byte, error) {
	r := openapi31.NewReflector()
	r.DefaultOptions = append(r.DefaultOptions, jsonschema.StripDefinitionNamePrefix("Admin"))
	r.Spec.Info.WithTitle("simpleuser admin API").WithVersion("1.0.0").WithDescription(
		"The admin API (package admin), mounted by the app where it chooses. Every request is authorized by a session " +
			"whose user holds the admin permission, or by an API key (Authorization: Bearer suadm_...). Every change is " +
			"written to the audit log (GET /audit). Answers are envelopes {statusCode, message, success, timestamp, data?}.")
	r.Spec.WithServers(openapi31.Server{URL: server, Description: ptr("Where the app mounts the admin API.")})
	r.Spec.SetHTTPBearerTokenSecurity("bearer", "opaque", "An API key (suadm_ then 43 characters) or a session token of an admin.")
	r.Spec.SetAPIKeySecurity("clientToken", "x-client-token", openapi.InHeader, "A session token of an admin.")
	r.Spec.Tags = append(r.Spec.Tags, openapi31.Tag{Name: "admin", Description: ptr("Users, their sessions, sign-in accounts and factors; tenants, memberships and roles; the audit log; API keys.")})
	for _, rt := range rts {
		oc, err := r.NewOperationContext(rt.method, rt.path)
		if err != nil {
			return nil, err
		}
		oc.SetID(rt.id)
		oc.SetSummary(rt.summary)
		oc.SetTags("admin")
		for _, req := range []any{rt.path2, rt.query} {
			if req != nil {
				oc.AddReqStructure(req)
			}
		}
		if rt.body != nil {
			oc.AddReqStructure(rt.body, openapi.WithContentType("application/json"))
		}
		name := "SuccessEnvelope"
		if rt.data != nil {
			// *UserView → UserViewEnvelope, *[]SessionView → ListSessionViewEnvelope
			name = strings.NewReplacer("[]", "List", "admin.", "").Replace(reflect.TypeOf(rt.data).Elem().String()) + "Envelope"
		}
		oc.AddRespStructure(envelopeOf(name, rt.data), openapi.WithHTTPStatus(http.StatusOK), func(cu *openapi.ContentUnit) { cu.Description = "Success." })
		for _, st := range append([]int{400, 401, 403, 503}, rt.errs...) {
			desc := errorText[st]
			oc.AddRespStructure(envelopeOf("ErrorEnvelope", new(errorData)), openapi.WithHTTPStatus(st), func(cu *openapi.ContentUnit) { cu.Description = desc })
		}
		if err := r.AddOperation(oc); err != nil {
			return nil, fmt.Errorf("%s %s: %w", rt.method, rt.path, err)
		}
	}
	for _, item := range r.Spec.Paths.MapOfPathItemValues {
		for _, op := range []*openapi31.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op != nil {
				op.Security = []map[string][]string{{"bearer": {}}, {"clientToken": {}}}
			}
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

func ptr[T any](v T) *T { return &v }
