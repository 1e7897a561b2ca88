package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/user"
)

// problem is an error as the page shows it: a sentence for a person and
// the HTTP status of the answer.
type problem struct {
	Status int
	Text   string
	Wait   time.Duration // for 429: Retry-After
}

// explain turns a service error into words. Known codes get a sentence
// of the page's own (the waits of 429 in seconds or minutes); any other
// error shows the service's client-safe message.
func explain(err error) problem {
	e := simpleuser.AsError(err)
	p := problem{Status: e.Status, Wait: e.Wait}
	switch e.Code {
	case simpleuser.CodeCooldown:
		p.Text = "A code was sent a moment ago. Use it, or ask for a new one in " + waitText(e.Wait) + "."
	case simpleuser.CodeCodeBlocked:
		p.Text = "Too many wrong codes. Try again in " + waitText(e.Wait) + "."
	case simpleuser.CodePasswordBlocked:
		p.Text = "Too many wrong passwords. Try again in " + waitText(e.Wait) + "."
	case simpleuser.CodeAnonymousBudget:
		p.Text = "Too many new visitors from your network. Try again in " + waitText(e.Wait) + "."
	case simpleuser.CodeInvalidCode:
		p.Text = "That code is wrong or has expired. Check the latest email, or ask for a new code."
	case simpleuser.CodeInvalidPassword:
		p.Text = "Wrong email address or password."
		if e.Message == simpleuser.ErrWrongCurrentPassword.Message {
			p.Text = "Your current password is wrong."
		}
	case simpleuser.CodeUserNotFound:
		p.Text = "No account uses this address yet. Sign up with an email code."
	case simpleuser.CodeEmailTaken:
		p.Text = "Another account already uses this address."
	case simpleuser.CodeAccountDisabled:
		p.Text = "This account is disabled."
	case simpleuser.CodeAccountSuspended:
		p.Text = "This account is suspended."
	case simpleuser.CodeEmailRequired:
		p.Text = "Add an email address before setting a password."
	case simpleuser.CodeIdentityTaken:
		p.Text = "That account is already linked to another user."
	case simpleuser.CodeIdentityNotFound:
		p.Text = "That sign-in account is not linked to you (any more)."
	case simpleuser.CodeLastSignInMethod:
		p.Text = "This is your only way to sign in. Add an email address or link another account first."
	case simpleuser.CodeSessionNotFound:
		p.Text = "That session has already ended."
	case simpleuser.CodeOAuthDenied:
		p.Text = "The sign-in was cancelled at the provider."
	case simpleuser.CodeOAuthState:
		p.Text = "The sign-in took too long, or was started in another browser. Please try again."
	case simpleuser.CodeOAuthExchange, simpleuser.CodeOAuthUnavailable, simpleuser.CodeOAuthFailed:
		p.Text = "The provider could not confirm the sign-in. Please try again later."
	case simpleuser.CodeUnknownProvider:
		p.Text = "That sign-in provider is not available."
	case simpleuser.CodeSendFailed:
		p.Text = "The email could not be sent. Please try again later."
	case simpleuser.CodeSSAIDRequired:
		p.Text = "Your browser sent no device cookie. Please allow cookies for this site and reload the page."
	case simpleuser.CodeAnonymous, simpleuser.CodeAuthRequired, simpleuser.CodeInvalidToken:
		p.Text = "Please sign in first."
	case simpleuser.CodeUnavailable, simpleuser.CodeBusy:
		p.Text = "The service is busy or unavailable. Please try again in a moment."
	case mfa.CodeInvalidFactor:
		p.Text = "That code is wrong, or was used already. Check it, or wait for the next code of your authenticator app."
	case mfa.CodeFactorBlocked:
		p.Text = "Too many wrong codes. Try again in " + waitText(e.Wait) + "."
	case mfa.CodeFactorUnavailable:
		p.Text = "That way of confirming it is you is not available for this account."
	case mfa.CodeFactorNotFound:
		p.Text = "That authenticator app or device is not on your account (any more)."
	case mfa.CodeFactorNameTaken:
		p.Text = "You already have an authenticator app of that name: choose another."
	case mfa.CodeLastFactor:
		p.Text = "This is your last second step: turn two-step verification off instead."
	case mfa.CodeTooManyFactors:
		p.Text = "You have the most authenticator apps allowed: remove one first."
	case mfa.CodeNotInChallenge:
		p.Text = "This sign-in is complete already."
	case mfa.CodeMFARequired:
		p.Text = "Finish signing in with your second step first."
	case mfa.CodeReauthRequired:
		p.Text = "For your security, confirm it is you first. Then do it again."
	case simpleuser.CodePasskeysDisabled:
		p.Text = "Passkeys are not turned on for this site."
	case simpleuser.CodePasskeyChallenge:
		p.Text = "The passkey prompt took too long, or was started elsewhere. Please try again."
	case simpleuser.CodePasskeyRefused:
		p.Text = "The passkey could not be verified. Please try again."
	case simpleuser.CodePasskeyUnknown:
		p.Text = "This passkey is not registered here (it may have been removed). Sign in another way."
	case simpleuser.CodePasskeyExists:
		p.Text = "This passkey is registered already."
	case simpleuser.CodePasskeyNotFound:
		p.Text = "That passkey is not on your account (any more)."
	case simpleuser.CodeTooManyPasskeys:
		p.Text = "You have the most passkeys allowed: remove one first."
	case simpleuser.CodeInvalidInput, simpleuser.CodeInvalidSettings:
		p.Text = "Please check the form: " + e.Message
	default:
		p.Text = e.Message
		if e.Status >= 500 {
			p.Text = "Something went wrong on our side. Please try again later."
		}
	}
	return p
}

// explainCode is explain for a data.code alone (the ?error= a provider
// callback returns with).
func explainCode(code string) string {
	if code == "" {
		return ""
	}
	p := explain(simpleuser.NewError(http.StatusBadRequest, code, "The sign-in did not complete."))
	return p.Text
}

// waitText writes a wait for people: whole seconds up to a minute and a
// half, then whole minutes, rounded up.
func waitText(d time.Duration) string {
	s := int(math.Ceil(d.Seconds()))
	switch {
	case s <= 1:
		return "a second"
	case s < 90:
		return strconv.Itoa(s) + " seconds"
	}
	return strconv.Itoa(int(math.Ceil(d.Minutes()))) + " minutes"
}

// noticeText is the sentence of a flash key; "" for an unknown key. An
// address is shown only when it is one (the cookie comes back from the
// browser).
func (h *handler) noticeText(f flashData) string {
	if !user.ValidEmail(f.Email) {
		f.Email = "your address"
	}
	switch f.Key {
	case "code-sent":
		return "We sent a code to " + f.Email + ". It is valid for 10 minutes."
	case "signed-in":
		return "You are signed in."
	case "signed-out":
		return "You are signed out."
	case "session-ended":
		return "Your session has ended (it was signed out from another device, or expired). Please sign in again."
	case "signin-first":
		return "Please sign in first."
	case "session-ended-one":
		return "The session was ended: that device is signed out."
	case "sessions-ended":
		if f.N == 1 {
			return "1 other session was ended."
		}
		return fmt.Sprintf("%d other sessions were ended.", f.N)
	case "settings-saved":
		return "Your settings are saved."
	case "password-changed":
		return "Your password is changed. Your other sessions were signed out."
	case "email-code-sent":
		return "We sent a code to " + f.Email + ". Enter it below to confirm the new address."
	case "email-changed":
		return "Your email address is changed."
	case "linked":
		return "The account is linked: you can sign in with it."
	case "unlinked":
		return "The account is unlinked."
	case "second-step":
		return "Your first step is done. Now confirm it is you with your second step."
	case "challenge-ended":
		return "The sign-in took too long (or ended elsewhere). Please sign in again."
	case "factor-code-sent":
		return "We sent a code to your email address. It is valid for 10 minutes."
	case "reauthed":
		return fmt.Sprintf("Thank you. For the next %s you can change your sign-in settings: please do again what you were doing.", h.stepUpText())
	case "mfa-on":
		return "Two-step verification is on. Save these recovery codes now: each one signs you in once if you lose your second step, and they are shown only this once."
	case "codes-renewed":
		return "These are your new recovery codes: the old ones no longer work. Save them now: they are shown only this once."
	case "totp-added":
		return "The authenticator app is added."
	case "totp-removed":
		return "The authenticator app is removed."
	case "email-factor-on":
		return "A code sent to your email address is now a second step."
	case "email-factor-off":
		return "A code sent to your email address is no longer a second step."
	case "disable-code-sent":
		return "We sent a code to your email address: enter it below to turn two-step verification off."
	case "mfa-off":
		return "Two-step verification is off. Your authenticator apps, recovery codes and trusted devices are removed."
	case "devices-revoked":
		if f.N == 1 {
			return "1 device is no longer trusted: it will ask for the second step again."
		}
		return fmt.Sprintf("%d devices are no longer trusted: they will ask for the second step again.", f.N)
	case "passkey-added":
		return "The passkey is added: you can sign in with it."
	case "passkey-renamed":
		return "The passkey is renamed."
	case "passkey-removed":
		return "The passkey is removed: it no longer signs in."
	case "deleted":
		days := int(math.Ceil(h.svc.Config().UnregisterGrace.Hours() / 24))
		return fmt.Sprintf("Your account is deleted. Signing in again within %d days restores it.", days)
	}
	return ""
}

// stepUpText is the step-up window for people ("10 minutes").
func (h *handler) stepUpText() string {
	return waitText(h.svc.MFA().Config().StepUpWindow)
}
