package handlers

// Request and response types of the second-factor routes (see routes_mfa.go).

// mfaStatusData is the data of GET /user-center/mfa.
type mfaStatusData struct {
	Enabled           bool                `json:"enabled" required:"true" description:"Whether a sign-in needs a second factor."`
	EmailFactor       bool                `json:"emailFactor" required:"true" description:"Whether a code sent to the account's address is one of its factors."`
	Authenticators    []authenticatorData `json:"authenticators" required:"true" nullable:"false" description:"The TOTP authenticators, oldest first."`
	RecoveryCodesLeft int                 `json:"recoveryCodesLeft" required:"true" minimum:"0" description:"Unused recovery codes."`
	TrustedDevices    []trustedDeviceData `json:"trustedDevices" required:"true" nullable:"false" description:"Devices that skip the second factor until they expire or are revoked, oldest first."`
}

// authenticatorData is one TOTP authenticator (never its secret).
type authenticatorData struct {
	ID         string  `json:"id" required:"true" minLength:"16" maxLength:"16" description:"The authenticator's id."`
	Name       string  `json:"name" required:"true" description:"The user's name for it."`
	Confirmed  bool    `json:"confirmed" required:"true" description:"Whether a first code proved it; an unconfirmed one cannot sign in."`
	CreatedAt  string  `json:"createdAt" required:"true" format:"date-time" description:"Enrolment time."`
	LastUsedAt *string `json:"lastUsedAt" required:"true" format:"date-time" description:"When it last accepted a code; null if never."`
}

// trustedDeviceData is one trusted device.
type trustedDeviceData struct {
	ID        string `json:"id" required:"true" minLength:"16" maxLength:"16" description:"The device's id, for DELETE /user-center/mfa/devices/{id}."`
	Label     string `json:"label" required:"true" description:"A label of the browser or app that asked to be trusted (\"Firefox on Linux\"); empty when unknown."`
	CreatedAt string `json:"createdAt" required:"true" format:"date-time" description:"When it was trusted."`
	ExpiresAt string `json:"expiresAt" required:"true" format:"date-time" description:"When the trust ends."`
}

// enrolBody is the body of POST /user-center/mfa/totp.
type enrolBody struct {
	Name string `json:"name,omitempty" validate:"max=64" maxLength:"64" description:"A name for the authenticator (\"Phone\"), unique among the user's; default \"Authenticator\"."`
}

// enrolData is the data of POST /user-center/mfa/totp: shown once.
type enrolData struct {
	ID     string `json:"id" required:"true" description:"The new (unconfirmed) authenticator's id, for its confirm endpoint."`
	Name   string `json:"name" required:"true" description:"Its name."`
	Secret string `json:"secret" required:"true" description:"The TOTP secret in base32 (RFC 4648, no padding), for typing into an authenticator app. Shown only now."`
	URI    string `json:"uri" required:"true" format:"uri" description:"The otpauth:// key URI (SHA1, 6 digits, 30 s), for a link on a phone."`
	QR     string `json:"qr" required:"true" description:"A QR code of the URI: a PNG image as a data: URL (data:image/png;base64,...), for an img element."`
}

// idPath is the path of the routes that name an authenticator or device.
type idPath struct {
	ID string `path:"id" required:"true" description:"The authenticator's or device's id."`
}

// codeBody is the body of POST /user-center/mfa/totp/{id}/confirm.
type codeBody struct {
	Code string `json:"code" validate:"required,max=64" required:"true" minLength:"1" maxLength:"64" description:"The code the authenticator app shows now."`
}

// factorChangeData is the data of the routes that add a factor.
type factorChangeData struct {
	MFAEnabled    bool     `json:"mfaEnabled" required:"true" description:"Whether MFA is now on (the first factor turns it on)."`
	RecoveryCodes []string `json:"recoveryCodes,omitempty" description:"Fresh recovery codes, when this change generated them (the first factor of an account without codes left). Shown only now: 10 single-use codes, each a sign-in without another factor."`
}

// recoveryCodesData is the data of POST /user-center/mfa/recovery-codes.
type recoveryCodesData struct {
	RecoveryCodes []string `json:"recoveryCodes" required:"true" minItems:"10" maxItems:"10" description:"The new recovery codes, shown only now; every older code is void."`
}

// emailFactorBody is the body of POST /user-center/mfa/email.
type emailFactorBody struct {
	Enabled bool `json:"enabled" description:"true: a code sent to the account's address becomes a factor; false: it stops being one."`
}

// factorBody is the body of the routes that check a factor.
type factorBody struct {
	Factor string `json:"factor" validate:"required,oneof=totp recovery email" required:"true" enum:"totp,recovery,email" description:"The kind of factor: a TOTP code, a recovery code, or a code sent by POST /user-center/mfa/send-code."`
	Code   string `json:"code" validate:"required,max=64" required:"true" minLength:"1" maxLength:"64" description:"The code."`
}

// challengeBody is the body of POST /user-center/mfa/challenge.
type challengeBody struct {
	Factor      string `json:"factor" validate:"required,oneof=totp recovery email" required:"true" enum:"totp,recovery,email" description:"The kind of factor (one of the login answer's factors)."`
	Code        string `json:"code" validate:"required,max=64" required:"true" minLength:"1" maxLength:"64" description:"The code."`
	TrustDevice bool   `json:"trustDevice,omitempty" description:"Trust this device: later sign-ins from it skip the second factor for the service's TrustDeviceFor (default 30 days), unless revoked."`
}

// reauthBody is the body of POST /user-center/reauth.
type reauthBody struct {
	Factor string `json:"factor" validate:"required,oneof=password totp recovery email" required:"true" enum:"password,totp,recovery,email" description:"What to re-authenticate with: the password, or a factor (a REAUTH_REQUIRED answer lists those usable)."`
	Code   string `json:"code" validate:"required,max=1024" required:"true" minLength:"1" maxLength:"1024" description:"The password or the code."`
}

// reauthData is the data of POST /user-center/reauth.
type reauthData struct {
	AuthAt string `json:"authAt" required:"true" format:"date-time" description:"The session's new authentication time: sensitive actions are open for the step-up window (default 10 minutes) from it."`
}

// revokedData is the data of DELETE /user-center/mfa/devices.
type revokedData struct {
	Revoked int `json:"revoked" required:"true" minimum:"0" description:"How many devices stopped being trusted."`
}
