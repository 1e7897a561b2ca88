package oauthtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func (s *Server) isOIDC() bool { return s.Kind == Google || s.Kind == LinkedIn || s.Kind == OIDC }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := s.paths()
	switch path := r.URL.Path; {
	case path == p.token:
		s.token(w, r)
	case s.isOIDC() && path == strings.TrimPrefix(s.Issuer(), s.URL)+"/.well-known/openid-configuration":
		s.discovery(w)
	case s.isOIDC() && path == p.jwks:
		s.jwks(w)
	case path == p.userinfo, s.Kind == GitHub && path == "/user/emails":
		s.userinfo(w, r)
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// token serves the token endpoint in the provider's format.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	forced := s.tokenStatus
	s.mu.Unlock()
	if forced != 0 {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(forced)
		w.Write([]byte("<html><body>Error " + http.StatusText(forced) + "</body></html>"))
		return
	}
	var form url.Values
	if s.Kind == Facebook && r.Method == http.MethodGet {
		form = r.URL.Query()
	} else {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if r.Method != http.MethodPost || ct != "application/x-www-form-urlencoded" {
			s.tokenError(w, r, http.StatusBadRequest, "invalid_request", "POST a form")
			return
		}
		if err := r.ParseForm(); err != nil {
			s.tokenError(w, r, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		form = r.PostForm
	}
	if err := s.checkClient(r, form); err != nil {
		s.tokenError(w, r, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	if gt := form.Get("grant_type"); gt != "authorization_code" && !(s.Kind == GitHub && gt == "") {
		s.tokenError(w, r, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code")
		return
	}
	tok, g, err := s.redeem(form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier"))
	if err != nil {
		code := "invalid_grant"
		if s.Kind == X || (s.Kind == TikTok && errors.Is(err, errPKCE)) {
			code = "invalid_request"
		}
		s.tokenError(w, r, http.StatusBadRequest, code, err.Error())
		return
	}
	s.tokenOK(w, r, tok, g)
}

// checkClient checks the client credentials where this provider wants
// them.
func (s *Server) checkClient(r *http.Request, form url.Values) error {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	switch s.Kind {
	case X, OIDC: // client_secret_basic only
		if !basic || form.Has("client_secret") {
			return errors.New("use HTTP Basic client authentication")
		}
	case TikTok:
		if basic || form.Has("client_id") {
			return errors.New("send client_key and client_secret in the body")
		}
		id, secret = form.Get("client_key"), form.Get("client_secret")
	case Google: // either, not both
		if basic == form.Has("client_secret") {
			return errors.New("use exactly one client authentication method")
		}
		if !basic {
			id, secret = form.Get("client_id"), form.Get("client_secret")
		}
	default: // GitHub, Facebook, LinkedIn: client_secret_post
		if basic {
			return errors.New("send client_id and client_secret in the body")
		}
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id != s.ClientID || secret != s.ClientSecret {
		return errors.New("bad client credentials")
	}
	return nil
}

// tokenError answers a token request error the way the provider does.
func (s *Server) tokenError(w http.ResponseWriter, r *http.Request, status int, code, desc string) {
	switch s.Kind {
	case GitHub: // HTTP 200 with an error body
		if code == "invalid_grant" {
			code = "bad_verification_code"
		} else if code == "invalid_client" {
			code = "incorrect_client_credentials"
		}
		v := url.Values{"error": {code}, "error_description": {desc},
			"error_uri": {"https://docs.github.com/apps/oauth"}}
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			writeJSON(w, http.StatusOK, map[string]string{"error": code, "error_description": desc})
			return
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		w.Write([]byte(v.Encode()))
	case Facebook: // Graph error object
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
			"message": desc, "type": "OAuthException", "code": 100, "fbtrace_id": "AbCdEf"}})
	case TikTok:
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc, "log_id": "20240101000000ABCDEF"})
	default:
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
}

// tokenOK answers a successful token request.
func (s *Server) tokenOK(w http.ResponseWriter, r *http.Request, tok string, g grant) {
	switch s.Kind {
	case GitHub:
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			writeJSON(w, http.StatusOK, map[string]string{"access_token": tok, "scope": g.scope, "token_type": "bearer"})
			return
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		w.Write([]byte(url.Values{"access_token": {tok}, "scope": {g.scope}, "token_type": {"bearer"}}.Encode()))
	case Facebook:
		writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": 5183944})
	case X:
		writeJSON(w, http.StatusOK, map[string]any{"token_type": "bearer", "expires_in": 7200, "access_token": tok, "scope": g.scope})
	case TikTok:
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": tok, "expires_in": 86400, "open_id": g.user.Subject,
			"refresh_expires_in": 31536000, "refresh_token": "rft." + tok, "scope": g.scope, "token_type": "Bearer"})
	default: // Google, LinkedIn, OIDC
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": tok, "expires_in": 3599, "token_type": "Bearer", "scope": g.scope,
			"id_token": s.idToken(g)})
	}
}

// idToken signs an RS256 ID token for g.
func (s *Server) idToken(g grant) string {
	s.mu.Lock()
	nonce, noEmail := g.nonce, s.noIDEmail
	if s.idNonce != nil {
		nonce = *s.idNonce
	}
	s.mu.Unlock()
	now := time.Now()
	claims := map[string]any{
		"iss": s.Issuer(), "sub": g.user.Subject, "aud": s.ClientID,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"name": g.user.Name, "picture": g.user.AvatarURL,
	}
	if s.Kind == Google {
		claims["azp"] = s.ClientID
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if !noEmail && g.user.Email != "" {
		claims["email"], claims["email_verified"] = g.user.Email, g.user.EmailVerified
	}
	s.mu.Lock()
	for k, v := range s.idClaims {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	s.mu.Unlock()
	payload, _ := json.Marshal(claims)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256,
		Key: jose.JSONWebKey{Key: s.key, KeyID: s.kid, Algorithm: string(jose.RS256)}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

func (s *Server) jwks(w http.ResponseWriter) {
	s.mu.Lock()
	forced := s.userInfoStatus
	s.mu.Unlock()
	if forced != 0 {
		w.WriteHeader(forced)
		return
	}
	pub := jose.JSONWebKey{Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: string(jose.RS256), Use: "sig"}
	writeJSON(w, http.StatusOK, map[string]any{"keys": []jose.JSONWebKey{pub}})
}

func (s *Server) discovery(w http.ResponseWriter) {
	p := s.paths()
	auth := []string{"client_secret_basic"}
	switch s.Kind {
	case Google:
		auth = []string{"client_secret_post", "client_secret_basic"}
	case LinkedIn:
		auth = []string{"client_secret_post"}
	}
	d := map[string]any{
		"issuer":                                s.Issuer(),
		"authorization_endpoint":                s.URL + p.authorize,
		"token_endpoint":                        s.URL + p.token,
		"userinfo_endpoint":                     s.URL + p.userinfo,
		"jwks_uri":                              s.URL + p.jwks,
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"token_endpoint_auth_methods_supported": auth,
		"claims_supported":                      []string{"iss", "aud", "sub", "email", "email_verified", "name", "picture"},
	}
	if s.Kind != LinkedIn {
		d["code_challenge_methods_supported"] = []string{"plain", "S256"}
	}
	writeJSON(w, http.StatusOK, d)
}

// userinfo serves the profile endpoints.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	forced := s.userInfoStatus
	s.mu.Unlock()
	if forced != 0 {
		writeJSON(w, forced, map[string]string{"error": http.StatusText(forced)})
		return
	}
	g, ok := s.grantFor(r)
	if !ok {
		s.unauthorized(w)
		return
	}
	u := g.user
	switch s.Kind {
	case GitHub:
		if r.URL.Path == "/user/emails" {
			if !slices.Contains(strings.Fields(g.scope), "user:email") && !slices.Contains(strings.Fields(g.scope), "user") {
				writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
				return
			}
			emails := u.GitHubEmails
			if emails == nil && u.Email != "" {
				emails = []GitHubEmail{{Email: u.Email, Primary: true, Verified: u.EmailVerified}}
			}
			if emails == nil {
				emails = []GitHubEmail{}
			}
			writeJSON(w, http.StatusOK, emails)
			return
		}
		var public any // GitHub's public email, null when hidden
		if u.Email != "" {
			public = u.Email
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"login": "someone", "id": json.Number(u.Subject), "name": u.Name,
			"email": public, "avatar_url": u.AvatarURL, "type": "User"})
	case Facebook:
		tok := r.URL.Query().Get("access_token")
		if tok == "" {
			tok = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		mac := hmac.New(sha256.New, []byte(s.ClientSecret))
		mac.Write([]byte(tok))
		if !hmac.Equal([]byte(r.URL.Query().Get("appsecret_proof")), []byte(hex.EncodeToString(mac.Sum(nil)))) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
				"message": "Invalid appsecret_proof provided in the API argument", "type": "GraphMethodException", "code": 100}})
			return
		}
		me := map[string]any{"id": u.Subject}
		for _, f := range strings.Split(r.URL.Query().Get("fields"), ",") {
			switch f {
			case "name":
				me["name"] = u.Name
			case "email": // Graph returns only a confirmed email
				if u.Email != "" && u.EmailVerified {
					me["email"] = u.Email
				}
			case "picture":
				me["picture"] = map[string]any{"data": map[string]any{
					"height": 50, "width": 50, "is_silhouette": false, "url": u.AvatarURL}}
			}
		}
		writeJSON(w, http.StatusOK, me)
	case X:
		data := map[string]any{"id": u.Subject, "name": u.Name, "username": "someone"}
		if strings.Contains(r.URL.Query().Get("user.fields"), "profile_image_url") {
			data["profile_image_url"] = u.AvatarURL
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": data})
	case TikTok:
		fields := r.URL.Query().Get("fields")
		if fields == "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"data": map[string]any{},
				"error": map[string]string{"code": "invalid_params", "message": "fields is required", "log_id": "x"}})
			return
		}
		user := map[string]any{}
		for _, f := range strings.Split(fields, ",") {
			switch f {
			case "open_id":
				user["open_id"] = u.Subject
			case "union_id":
				user["union_id"] = "union-" + u.Subject
			case "avatar_url":
				user["avatar_url"] = u.AvatarURL
			case "display_name":
				user["display_name"] = u.Name
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"user": user},
			"error": map[string]string{"code": "ok", "message": "", "log_id": "20240101000000ABCDEF"}})
	default: // OIDC userinfo
		ui := map[string]any{"sub": u.Subject, "name": u.Name, "picture": u.AvatarURL}
		if u.Email != "" {
			ui["email"], ui["email_verified"] = u.Email, u.EmailVerified
		}
		writeJSON(w, http.StatusOK, ui)
	}
}

// unauthorized answers a request without a valid access token.
func (s *Server) unauthorized(w http.ResponseWriter) {
	switch s.Kind {
	case GitHub:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "status": "401"})
	case Facebook:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
			"message": "Invalid OAuth access token data.", "type": "OAuthException", "code": 190}})
	case X:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
	case TikTok:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"data": map[string]any{},
			"error": map[string]string{"code": "access_token_invalid", "message": "The access token is invalid or not found in the request.", "log_id": "x"}})
	default:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
}
