package handlers

import (
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/oauth"
	"github.com/simpleuser/simpleuser/user"
)

// oauthSSAIDCookie carries the device id from the start endpoint (redirect
// mode) to the callback, which a browser reaches without custom headers.
// Its value is the ssaid encoded by cookieSSAID.
const oauthSSAIDCookie = "simpleuser_oauth_ssaid"

// cookieSSAID encodes ssaid for the cookie: base64url without padding
// (RFC 4648 §5). A valid ssaid may hold bytes a cookie value cannot (RFC
// 6265 §4.1.1 cookie-octet excludes '"', ',', ';' and '\'), which
// net/http's SetCookie would drop or quote: the callback would then run as
// another device. The encoding uses cookie-octets only, so the value
// comes back unchanged.
func cookieSSAID(ssaid string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(ssaid))
}

// ssaidFromCookie decodes a cookieSSAID value; ok is false when v does not
// decode (strictly) to a valid ssaid, and the cookie is then ignored.
func ssaidFromCookie(v string) (ssaid string, ok bool) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(v)
	if err != nil || !simpleuser.ValidSSAID(string(b)) {
		return "", false
	}
	return string(b), true
}

// oauthCookiePath is the Path of the ssaid cookie: the kit's oauth routes.
// The prefix holds cookie-path bytes only (normalizePrefix), so net/http
// sets it unchanged.
func (s *server) oauthCookiePath() string { return s.prefix + "/oauth/" }

// GET /oauth/{provider}/start
func oauthStart(c *call) (any, error) {
	var in oauthStartQuery
	if err := c.decodeQuery(&in); err != nil {
		return nil, err
	}
	redirect := in.Mode == "redirect"
	client := c.client
	// The ssaid parameter is for a plain link from a browser that has no
	// other device id. A device cookie (cookie mode) wins over it: a
	// cross-site page could otherwise bind the victim's flow to a device
	// of its choosing, then complete its own flow of that device in the
	// victim's browser, which would sign the victim in to the attacker's
	// account (login CSRF).
	if client.SSAID == "" && redirect && in.SSAID != "" {
		if !simpleuser.ValidSSAID(in.SSAID) {
			return nil, simpleuser.InvalidInput("ssaid must be at most 128 printable ASCII characters")
		}
		client.SSAID = in.SSAID
	}
	if client.SSAID == "" {
		return nil, simpleuser.ErrSSAIDRequired
	}
	if in.ReturnTo != "" {
		if !redirect || !c.s.browser.CookieMode {
			return nil, simpleuser.InvalidInput("returnTo is for mode=redirect in cookie mode only: otherwise the callback answers the token in JSON")
		}
		if err := checkReturnTo(in.ReturnTo, c.s.browser.TrustedOrigins); err != nil {
			return nil, err
		}
	}
	url, err := c.s.svc.OAuthStart(c.r.Context(), client, in.Provider, in.RedirectURI)
	if err != nil {
		return nil, err
	}
	if redirect {
		ttl := c.s.svc.Config().OAuth.StateTTL
		if ttl <= 0 {
			ttl = oauth.DefaultStateTTL
		}
		http.SetCookie(c.w, &http.Cookie{
			Name: oauthSSAIDCookie, Value: flowCookieValue(client.SSAID, in.ReturnTo), Path: c.s.oauthCookiePath(),
			MaxAge: int(ttl / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
			Secure: c.r.TLS != nil || strings.HasPrefix(in.RedirectURI, "https://"),
		})
		c.w.Header().Set("Location", url)
		c.status = http.StatusFound
	}
	return &oauthURLData{URL: url}, nil
}

// GET /oauth/{provider}/callback. A flow started in redirect mode (its
// cookie came back) in cookie mode ends with 303 See Other to the page to
// return to, the session cookie set, or that page with error=<data.code>;
// any other answers the login envelope (the token in data).
func oauthCallback(c *call) (any, error) {
	client := c.client
	page := ""
	if ck, err := c.r.Cookie(oauthSSAIDCookie); err == nil {
		// The flow is over either way: the state is single-use. (A request
		// cookie carries no attributes: Secure is the connection's.)
		http.SetCookie(c.w, &http.Cookie{Name: oauthSSAIDCookie, Path: c.s.oauthCookiePath(), MaxAge: -1,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.r.TLS != nil})
		// Its ssaid serves a browser with no other device id. The device
		// cookie (cookie mode, __Host- prefixed when Secure) wins over it,
		// as at start: the flow cookie has no prefix (its Path is not /), so
		// a sibling subdomain could plant one naming another device.
		ssaid, returnTo, ok := parseFlowCookie(ck.Value)
		if client.SSAID == "" && ok {
			client.SSAID = ssaid
		}
		if ok && c.s.browser.CookieMode {
			page = c.s.returnPage(returnTo)
		}
	}
	res, err := c.oauthSignIn(client)
	switch {
	case page == "" && err != nil:
		return nil, err
	case page == "":
		c.setSessionCookie(res)
		return loginDataOf(res), nil
	case err != nil:
		return c.seeOtherError(page, err)
	}
	c.setSessionCookie(res)
	return c.seeOther(page)
}

// oauthSignIn finishes the callback's sign-in for client.
func (c *call) oauthSignIn(client simpleuser.Client) (*simpleuser.LoginResult, error) {
	var in oauthCallbackQuery
	if err := c.decodeQuery(&in); err != nil {
		return nil, err
	}
	if client.SSAID == "" {
		return nil, simpleuser.ErrSSAIDRequired
	}
	return c.s.svc.OAuthSignIn(c.r.Context(), client, in.Provider, in.State, in.Code, in.Error)
}

// GET /user-center/identities
func listIdentities(c *call) (any, error) {
	u, err := c.sessionUser()
	if err != nil {
		return nil, err
	}
	ids, err := c.s.svc.Identities(c.r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	out := &identitiesData{Identities: make([]identityData, len(ids))}
	for i := range ids {
		out.Identities[i] = *identityOf(&ids[i])
	}
	return out, nil
}

// POST /user-center/identities/{provider}/link
func linkIdentity(c *call) (any, error) {
	u, err := c.sessionUser()
	if err != nil {
		return nil, err
	}
	var path providerPath
	if err := c.decodeQuery(&path); err != nil {
		return nil, err
	}
	var in linkBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	idn, err := c.s.svc.OAuthLink(c.r.Context(), c.client, u, path.Provider, in.State, in.Code, in.Error)
	if err != nil {
		return nil, err
	}
	return identityOf(idn), nil
}

// DELETE /user-center/identities/{provider}/{subject}
func unlinkIdentity(c *call) (any, error) {
	u, err := c.sessionUser()
	if err != nil {
		return nil, err
	}
	var path identityPath
	if err := c.decodeQuery(&path); err != nil {
		return nil, err
	}
	return nil, c.s.svc.Unlink(c.r.Context(), u, path.Provider, path.Subject)
}

// PATCH /user-center/settings
func patchSettings(c *call) (any, error) {
	ctx := c.r.Context()
	u, err := simpleuser.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	if c.raw == nil {
		return nil, simpleuser.InvalidInput("The body must be a JSON merge patch object")
	}
	out, err := c.s.svc.PatchSettings(ctx, u.ID, c.raw)
	if err != nil {
		return nil, err
	}
	return &settingsData{Settings: out.Settings}, nil
}

// sessionUser is the user of the request's session token: 401
// AUTH_REQUIRED without a token (no anonymous user here).
func (c *call) sessionUser() (*user.User, error) {
	if c.client.Token == "" {
		return nil, simpleuser.ErrAuthRequired
	}
	return simpleuser.CurrentUser(c.r.Context())
}

// identityOf renders a linked identity.
func identityOf(idn *user.Identity) *identityData {
	d := &identityData{
		Provider: idn.Provider, Subject: idn.Subject, EmailVerified: idn.EmailVerified,
		CreatedAt: formatTime(idn.CreatedAt), LastUsedAt: formatTime(idn.LastUsedAt),
	}
	if idn.Email != "" {
		e := idn.Email
		d.Email = &e
	}
	return d
}
