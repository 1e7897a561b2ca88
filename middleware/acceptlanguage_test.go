package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/simpleuser/simpleuser"
)

// Identity carries the Accept-Language header in the client, for the
// SendCode hook's choice of language; a request without one gives "".
func TestIdentityCarriesAcceptLanguage(t *testing.T) {
	e := newService(t)
	var got []string
	h := Identity(e.svc, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := simpleuser.ClientFrom(r.Context())
		got = append(got, c.AcceptLanguage)
	}))
	for _, v := range []string{"de-CH, de;q=0.9, en;q=0.5", ""} {
		r := httptest.NewRequest("GET", "/", nil)
		if v != "" {
			r.Header.Set("Accept-Language", v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	if len(got) != 2 || got[0] != "de-CH, de;q=0.9, en;q=0.5" || got[1] != "" {
		t.Fatalf("Client.AcceptLanguage = %q, want the header, then empty", got)
	}
}
