package handlers

// Request and response types of the passkey routes (see routes_passkeys.go).

import (
	"encoding/json"

	"github.com/google/uuid"
	"github.com/swaggest/jsonschema-go"

	"github.com/simpleuser/simpleuser/passkey"
)

// passkeyChallengeData is the data of the begin routes.
type passkeyChallengeData struct {
	ChallengeID string `json:"challengeId" required:"true" minLength:"43" maxLength:"43" description:"Names this ceremony: send it back with the authenticator's response to the matching finish endpoint. Single-use."`
	// Options is raw JSON, described by PrepareJSONSchema.
	Options   json.RawMessage `json:"options" required:"true" description:"What the browser needs, as WebAuthn Level 3 defines it: options.publicKey is a PublicKeyCredentialCreationOptionsJSON (registration) or PublicKeyCredentialRequestOptionsJSON (sign-in). Pass it to PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON, then to navigator.credentials.create / get({publicKey})."`
	ExpiresAt string          `json:"expiresAt" required:"true" format:"date-time" description:"When the challenge stops being accepted (5 minutes after it was made, by default)."`
}

// PrepareJSONSchema types options as an object holding publicKey.
func (passkeyChallengeData) PrepareJSONSchema(s *jsonschema.Schema) error {
	objectProperty(s, "options", member{"publicKey", jsonschema.Object, "The options for navigator.credentials.create or .get, in their JSON form."})
	return nil
}

// member is a required member of an open object property.
type member struct {
	name        string
	typ         jsonschema.SimpleType
	description string
}

// credentialMembers are the members of a PublicKeyCredential's JSON the
// documents require.
var credentialMembers = []member{
	{"id", jsonschema.String, "The credential id, base64url."},
	{"type", jsonschema.String, "\"public-key\"."},
	{"response", jsonschema.Object, "The authenticator's response (AuthenticatorAttestationResponseJSON or AuthenticatorAssertionResponseJSON)."},
}

// objectProperty types the raw JSON property name of s as an open object
// with the required members (the reflector leaves a json.RawMessage
// untyped). A schema without the property is left alone: the reflector
// also prepares the type for parameter locations, where it has none.
func objectProperty(s *jsonschema.Schema, name string, members ...member) {
	p, ok := s.Properties[name]
	if !ok || p.TypeObject == nil {
		return
	}
	o := p.TypeObject.WithType(jsonschema.Object.Type()).
		WithAdditionalProperties(jsonschema.SchemaOrBool{TypeBoolean: ptr(true)})
	for _, m := range members {
		o.WithPropertiesItem(m.name, (&jsonschema.Schema{}).WithType(m.typ.Type()).WithDescription(m.description).ToSchemaOrBool())
		o.Required = append(o.Required, m.name)
	}
}

// passkeySignInBody is the body of POST /login/passkey/finish.
type passkeySignInBody struct {
	ChallengeID string          `json:"challengeId" validate:"required,max=128" required:"true" maxLength:"128" description:"The challengeId that POST /login/passkey/begin returned."`
	Credential  json.RawMessage `json:"credential" validate:"required" required:"true" description:"The PublicKeyCredential navigator.credentials.get returned, as its toJSON() writes it (WebAuthn L3 §5.1: id, rawId, type, response with clientDataJSON, authenticatorData, signature and userHandle, base64url)."`
}

// PrepareJSONSchema types credential as an object.
func (passkeySignInBody) PrepareJSONSchema(s *jsonschema.Schema) error {
	objectProperty(s, "credential", credentialMembers...)
	return nil
}

// passkeyRegisterBody is the body of POST /user-center/passkeys/register/finish.
type passkeyRegisterBody struct {
	ChallengeID string          `json:"challengeId" validate:"required,max=128" required:"true" maxLength:"128" description:"The challengeId that POST /user-center/passkeys/register/begin returned."`
	Credential  json.RawMessage `json:"credential" validate:"required" required:"true" description:"The PublicKeyCredential navigator.credentials.create returned, as its toJSON() writes it (WebAuthn L3 §5.1: id, rawId, type, response with clientDataJSON, attestationObject and transports, base64url)."`
	Name        string          `json:"name,omitempty" maxLength:"64" description:"A name for the passkey, shown in the list (\"MacBook\", \"YubiKey\"); default \"Passkey\". At most 64 bytes, no control characters."`
}

// PrepareJSONSchema types credential as an object.
func (passkeyRegisterBody) PrepareJSONSchema(s *jsonschema.Schema) error {
	objectProperty(s, "credential", credentialMembers...)
	return nil
}

// passkeyRenameBody is the body of PATCH /user-center/passkeys/{id}.
type passkeyRenameBody struct {
	Name string `json:"name" validate:"required" required:"true" minLength:"1" maxLength:"64" description:"The new name: at most 64 bytes, no control characters."`
}

// passkeyPath is the path of the routes naming one passkey.
type passkeyPath struct {
	ID string `path:"id" required:"true" pattern:"^[A-Za-z0-9_-]+$" description:"The passkey's id (its credential id, base64url), as GET /user-center/passkeys lists it."`
}

// passkeyItem is one passkey of the user.
type passkeyItem struct {
	ID             string   `json:"id" required:"true" description:"The credential id (base64url without padding): the id of PATCH and DELETE /user-center/passkeys/{id}, and the id a browser reports for it."`
	Name           string   `json:"name" required:"true" description:"The user's name for it."`
	CreatedAt      string   `json:"createdAt" required:"true" format:"date-time" description:"When it was registered."`
	LastUsedAt     *string  `json:"lastUsedAt" required:"true" format:"date-time" description:"When it last signed in; null if never."`
	AAGUID         string   `json:"aaguid" required:"true" format:"uuid" description:"The authenticator model (WebAuthn L3 §6.1.1), as a UUID; all zeros when the authenticator gives none. Lists maintained by the community map it to a model name and icon."`
	Transports     []string `json:"transports" required:"true" description:"How a browser reaches the authenticator (internal, hybrid, usb, nfc, ble), as reported at registration."`
	BackupEligible bool     `json:"backupEligible" required:"true" description:"A synced passkey (WebAuthn BE flag): it may be copied to the user's other devices by their password manager."`
	BackedUp       bool     `json:"backedUp" required:"true" description:"It is backed up (synced) now, as of its last use (the BS flag)."`
}

// passkeyList is the data of GET /user-center/passkeys.
type passkeyList []passkeyItem

// PrepareJSONSchema describes the list in the OpenAPI document.
func (passkeyList) PrepareJSONSchema(s *jsonschema.Schema) error {
	s.WithDescription("The user's passkeys, oldest first (an empty array when none).")
	return nil
}

// passkeyOf renders a passkey.
func passkeyOf(c *passkey.Credential) passkeyItem {
	it := passkeyItem{
		ID: passkey.EncodeID(c.ID), Name: c.Name, CreatedAt: formatTime(c.CreatedAt),
		AAGUID: uuid.Nil.String(), Transports: c.Transports,
		BackupEligible: c.BackupEligible, BackedUp: c.BackupState,
	}
	if id, err := uuid.FromBytes(c.AAGUID); err == nil {
		it.AAGUID = id.String()
	}
	if it.Transports == nil {
		it.Transports = []string{}
	}
	if !c.LastUsedAt.IsZero() {
		t := formatTime(c.LastUsedAt)
		it.LastUsedAt = &t
	}
	return it
}
