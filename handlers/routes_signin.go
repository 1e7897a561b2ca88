package handlers

import "net/http"

// Error documentation of the sign-in provider routes.
var (
	errProvider     = routeError{http.StatusNotFound, "No provider of that name is configured (UNKNOWN_PROVIDER)."}
	errFlow         = routeError{http.StatusForbidden, "The flow was refused: the user declined at the provider (OAUTH_DENIED); the state is missing, unknown, already used, expired or from another device (OAUTH_STATE); the provider rejected the code, or its ID token or nonce did not check (OAUTH_EXCHANGE); or the account is disabled (ACCOUNT_DISABLED)."}
	errProviderDown = routeError{http.StatusBadGateway, "The provider answered with an error or an unreadable response (OAUTH_PROVIDER_UNAVAILABLE)."}
	errUnreachable  = routeError{http.StatusServiceUnavailable, "The provider could not be reached or asked to slow down (OAUTH_PROVIDER_UNAVAILABLE), or a backend is unreachable (BACKEND_UNAVAILABLE); retry later."}
	errSession      = routeError{http.StatusUnauthorized, "No token (AUTH_REQUIRED), or a token unknown, expired or revoked (INVALID_TOKEN)."}
)

// signInRoutes are the sign-in provider (OAuth 2.0 / OpenID Connect),
// identity and settings endpoints.
var signInRoutes = []route{
	{
		method: http.MethodGet, path: "/oauth/{provider}/start",
		summary: "Start a sign-in with a provider",
		description: "Starts an authorization-code flow with PKCE: a single-use state, bound to the device's ssaid, is stored server-side for a short time, and the provider's authorization URL is returned (mode=json, for SPA and mobile clients) or redirected to (mode=redirect, for a plain browser link; a simpleuser_oauth_ssaid cookie then carries the ssaid to the callback). " +
			"The same flow serves a sign-in (the provider redirects to the callback endpoint, or to the client, which forwards code and state to it) or a link (the client posts code and state to POST /user-center/identities/{provider}/link).",
		tags: []string{"sign-in"}, ssaidDoc: new(oauthStartSSAID), query: new(oauthStartQuery), data: new(oauthURLData), found: true,
		errors: []routeError{
			{http.StatusBadRequest, "No ssaid (SSAID_REQUIRED), a malformed one, a redirectUri that is not allowed (REDIRECT_NOT_ALLOWED) or another invalid parameter (INVALID_INPUT)."},
			errProvider, errBackend},
		handle: oauthStart,
	},
	{
		method: http.MethodGet, path: "/oauth/{provider}/callback",
		summary: "Finish a sign-in with a provider",
		description: "Checks and consumes the state, exchanges the code at the provider and signs the user in exactly as POST /login does, with the same answer: the provider account's user; else, when the app enabled it, the account of the address the provider verified; else a new account made from the device's anonymous user (same id). " +
			"A token sent in x-client-token is revoked; a fresh one is returned.",
		tags: []string{"sign-in"}, ssaidDoc: new(oauthCallbackSSAID), token: tokenOptional, query: new(oauthCallbackQuery), data: new(loginData),
		seeOther: "A flow started in redirect mode (its simpleuser_oauth_ssaid cookie came back), in cookie mode: the browser goes on to the page to return to (the start's returnTo, else the app's configured page) with the session cookie set, or, when the sign-in failed, to that page with error=<data.code> added to its query. The token is never in the answer.",
		errors: []routeError{errQuery, errFlow, errProvider,
			{http.StatusConflict, "The account changed concurrently (CONFLICT); retry."},
			errProviderDown, errUnreachable},
		handle: oauthCallback,
	},
	{
		method: http.MethodGet, path: "/user-center/identities",
		summary:     "The user's sign-in accounts",
		description: "The provider accounts linked to the user (the email address, when set, is the other way to sign in: GET /user-center/me).",
		tags:        []string{"user-center"}, ssaid: true, token: tokenRequired, data: new(identitiesData),
		errors: []routeError{errInput, errSession, errDisabled, errBackend},
		handle: listIdentities,
	},
	{
		method: http.MethodPost, path: "/user-center/identities/{provider}/link",
		summary: "Link a provider account to the user",
		description: "Finishes a flow started from the same device with GET /oauth/{provider}/start: the provider account signed in at the provider is linked to the user. Linking one the user already has changes nothing. " +
			"A provider account linked to another user is refused (409), never moved. No session is revoked.",
		tags: []string{"user-center"}, ssaid: true, token: tokenRequired, query: new(providerPath), body: new(linkBody), data: new(identityData),
		errors: []routeError{errInput, errSession,
			{http.StatusPaymentRequired, "Anonymous users cannot link a provider account (ANONYMOUS_USER)."},
			errFlow, errProvider,
			{http.StatusConflict, "The provider account is linked to another user (IDENTITY_TAKEN)."},
			errTooLarge, errMedia, errProviderDown, errUnreachable},
		handle: linkIdentity,
	},
	{
		method: http.MethodDelete, path: "/user-center/identities/{provider}/{subject}",
		summary: "Unlink a provider account from the user",
		description: "Refused (409) when it would leave the user no way to sign in: no email address and no other provider account. " +
			"No session is revoked, not even one opened with that provider.",
		tags: []string{"user-center"}, ssaid: true, token: tokenRequired, query: new(identityPath),
		errors: []routeError{errInput, errSession, errStepUp,
			{http.StatusNotFound, "The user has no such provider account (IDENTITY_NOT_FOUND)."},
			{http.StatusConflict, "It is the user's only way to sign in (LAST_SIGN_IN_METHOD)."},
			errBackend},
		handle: unlinkIdentity,
	},
	{
		method: http.MethodPatch, path: "/user-center/settings",
		summary: "Change the user's settings",
		description: "Applies a JSON merge patch (RFC 7386) to the current user's settings object (read it in GET /user-center/me) and returns the result. " +
			"The result must be a JSON object of at most 16 KiB. metadata is not writable here (the app writes it).",
		tags: []string{"user-center"}, ssaid: true, token: tokenOptional, body: new(settingsPatch),
		bodyTypes: []string{mergePatchType, jsonType}, data: new(settingsData),
		errors: []routeError{
			{http.StatusBadRequest, "The body is not a JSON object, or the result is not an object of at most 16 KiB (INVALID_INPUT); or a missing/malformed x-client-ssaid."},
			errToken, errDisabled, errTooLarge,
			{http.StatusUnsupportedMediaType, "Request body not declared as application/merge-patch+json or application/json (UNSUPPORTED_MEDIA_TYPE)."},
			errBackend},
		handle: patchSettings,
	},
}
