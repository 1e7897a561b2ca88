package handlers

// Request and response types of the sign-in provider, identity and
// settings routes (see routes_signin.go).

// providerPath is the path of routes naming a provider.
type providerPath struct {
	Provider string `path:"provider" required:"true" pattern:"^[a-z0-9_-]+$" description:"Provider name: google, github, facebook, x, tiktok, linkedin, or the name of a configured OpenID Connect provider."`
}

// oauthStartQuery is the query of GET /oauth/{provider}/start.
type oauthStartQuery struct {
	Provider    string `path:"provider" required:"true" pattern:"^[a-z0-9_-]+$" description:"Provider name: google, github, facebook, x, tiktok, linkedin, or the name of a configured OpenID Connect provider."`
	RedirectURI string `query:"redirectUri" validate:"required" required:"true" format:"uri" description:"Where the provider sends the browser back with code and state: one of the redirect URIs the app allows for this provider, exactly (400 REDIRECT_NOT_ALLOWED otherwise, also for another provider's)."`
	Mode        string `query:"mode" validate:"omitempty,oneof=json redirect" enum:"json,redirect" default:"json" description:"json (default): answer 200 with data.url, for SPA and mobile clients. redirect: answer 302 to the provider and set the simpleuser_oauth_ssaid cookie, for a plain browser link whose callback comes back without headers; in cookie mode that callback ends with 303 to returnTo."`
	SSAID       string `query:"ssaid" maxLength:"128" description:"The device id, in redirect mode only, for a plain link from a browser with no other device id: x-client-ssaid and, in cookie mode, the device cookie win over it."`
	ReturnTo    string `query:"returnTo" maxLength:"2048" description:"In redirect mode with cookie mode on: the page the callback sends the browser to (303) once the session cookie is set, or with error=<data.code> added to its query when the sign-in failed. A path on this site (/account) or a URL of a trusted origin (400 REDIRECT_NOT_ALLOWED otherwise); default: the app's configured page (Options.OAuthReturnTo, else /)."`
}

// oauthStartSSAID documents how GET /oauth/{provider}/start takes the ssaid.
type oauthStartSSAID struct {
	SSAID string `header:"x-client-ssaid" minLength:"1" maxLength:"128" pattern:"^[\\x21-\\x7e]+$" description:"The device starting the flow; the flow's state is bound to it. Required (400 SSAID_REQUIRED), except in redirect mode with the ssaid query parameter."`
}

// oauthCallbackQuery is the query of GET /oauth/{provider}/callback: the
// parameters the provider redirects back with (others are ignored).
type oauthCallbackQuery struct {
	Provider string `path:"provider" required:"true" pattern:"^[a-z0-9_-]+$" description:"The provider the flow was started with."`
	Code     string `query:"code" description:"The authorization code."`
	State    string `query:"state" description:"The state the start endpoint put in the authorization URL: single-use, bound to the device, valid for 10 minutes by default."`
	Error    string `query:"error" description:"Set by the provider instead of code when the user refused (access_denied...): answered 403 OAUTH_DENIED."`
}

// oauthCallbackSSAID documents how GET /oauth/{provider}/callback takes the ssaid.
type oauthCallbackSSAID struct {
	SSAID  string `header:"x-client-ssaid" minLength:"1" maxLength:"128" pattern:"^[\\x21-\\x7e]+$" description:"The device that started the flow (a SPA or mobile client forwarding code and state). Without it, the simpleuser_oauth_ssaid cookie is used; without either, 400 SSAID_REQUIRED."`
	Cookie string `cookie:"simpleuser_oauth_ssaid" pattern:"^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]*)?$" description:"Set by the start endpoint in redirect mode (HttpOnly, SameSite=Lax): the ssaid, then a dot and the page to return to (returnTo), each base64url-encoded without padding (RFC 4648 §5), so that a browser following the provider's redirect is recognised; cleared by the callback. A value whose ssaid does not decode to a valid ssaid is ignored; a page to return to that is no longer allowed gives way to the configured one."`
}

// identityPath is the path of DELETE /user-center/identities/{provider}/{subject}.
type identityPath struct {
	Provider string `path:"provider" required:"true" pattern:"^[a-z0-9_-]+$" description:"Provider name."`
	Subject  string `path:"subject" required:"true" description:"The provider's id of the account, as listed by GET /user-center/identities (percent-encode it)."`
}

// linkBody is the body of POST /user-center/identities/{provider}/link.
type linkBody struct {
	Code  string `json:"code,omitempty" description:"The authorization code the provider redirected back with."`
	State string `json:"state,omitempty" description:"The state of the flow, started from the same device with GET /oauth/{provider}/start."`
	Error string `json:"error,omitempty" description:"The provider's error parameter, when it redirected back with one instead of a code: answered 403 OAUTH_DENIED."`
}

// settingsPatch stands for the body of PATCH /user-center/settings, a
// JSON merge patch (read raw by the handler, documented by bodySchema).
type settingsPatch struct{}

func (*settingsPatch) bodySchema() map[string]any {
	return map[string]any{
		"type":                 "object",
		"additionalProperties": true,
		"description": "A JSON merge patch (RFC 7386) of the settings object: a member replaces the setting, null removes it, " +
			"an object merges into an object member. The result must be an object of at most 16 KiB of JSON.",
		"examples": []any{map[string]any{"theme": "dark", "notifications": map[string]any{"email": false}, "oldKey": nil}},
	}
}

// Response data.

// oauthURLData is the data of GET /oauth/{provider}/start.
type oauthURLData struct {
	URL string `json:"url" required:"true" format:"uri" description:"The provider's authorization URL: send the browser there."`
}

// identityData is one linked sign-in account.
type identityData struct {
	Provider      string  `json:"provider" required:"true" description:"Provider name."`
	Subject       string  `json:"subject" required:"true" description:"The provider's id of the account."`
	Email         *string `json:"email" required:"true" description:"The address the provider gave at the last sign-in; null for none."`
	EmailVerified bool    `json:"emailVerified" required:"true" description:"Whether the provider vouched for the address."`
	CreatedAt     string  `json:"createdAt" required:"true" format:"date-time" description:"When it was linked."`
	LastUsedAt    string  `json:"lastUsedAt" required:"true" format:"date-time" description:"When it was last used to sign in."`
}

// identitiesData is the data of GET /user-center/identities.
type identitiesData struct {
	Identities []identityData `json:"identities" required:"true" description:"The user's linked sign-in accounts, oldest first."`
}

// settingsData is the data of PATCH /user-center/settings.
type settingsData struct {
	Settings map[string]any `json:"settings" required:"true" description:"The settings after the patch."`
}
