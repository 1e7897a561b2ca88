package main

import (
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
)

// homeTemplate is the exampleapp's page: a "Sign in with ..." link per
// configured provider. Each link starts the flow in redirect mode; the
// device id (ssaid) comes from localStorage when the browser runs the
// script, else from a random one made for this page view.
var homeTemplate = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>simpleuser example</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
a.signin { display: block; margin: .5rem 0; padding: .6rem 1rem; border: 1px solid #999; border-radius: .4rem; text-decoration: none; color: inherit; }
a.signin:hover { background: #f3f3f3; }
code { background: #f3f3f3; padding: 0 .2rem; }
</style>
</head>
<body>
<h1>simpleuser example</h1>
{{if .Links}}
<p>Sign in with a provider. The provider sends you back to the API's callback, which answers the login envelope with your session token.</p>
<nav id="providers">
{{range .Links}}<a class="signin" data-provider="{{.Name}}" href="{{.Href}}">Sign in with {{.Label}}</a>
{{end}}</nav>
{{else}}
<p>No sign-in provider is configured: start the app with, say, <code>-google-client-id</code> and <code>-google-client-secret</code>.</p>
{{end}}
<p>Email codes: <code>POST /api/send-code/send</code>, then <code>POST /api/login</code> (the API is described at <a href="/api/docs">/api/docs</a>, Swagger UI for <a href="/api/openapi.json">/api/openapi.json</a>).</p>
<script>
(function () {
  var key = "simpleuser_ssaid", id = localStorage.getItem(key);
  if (!id) { id = crypto.randomUUID(); localStorage.setItem(key, id); }
  document.querySelectorAll("a.signin").forEach(function (a) {
    var u = new URL(a.href); u.searchParams.set("ssaid", id); a.href = u.toString();
  });
})();
</script>
</body>
</html>
`))

// homeLink is a rendered link of the page.
type homeLink struct {
	Name, Label, Href string
}

// home serves GET /: the sign-in page listing links.
func home(links []signInLink) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		ssaid := pageSSAID()
		data := struct{ Links []homeLink }{}
		for _, l := range links {
			q := url.Values{"mode": {"redirect"}, "redirectUri": {l.RedirectURI}, "ssaid": {ssaid}}
			data.Links = append(data.Links, homeLink{Name: l.Name, Label: l.Label, Href: "/api/oauth/" + url.PathEscape(l.Name) + "/start?" + q.Encode()})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := homeTemplate.Execute(w, data); err != nil {
			http.Error(w, "template error", http.StatusInternalServerError)
		}
	}
}

// pageSSAID is a random device id for a page view whose browser runs no script.
func pageSSAID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "page-" + hex.EncodeToString(b)
}
