package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/simpleuser/simpleuser"
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
	case "deleted":
		days := int(math.Ceil(h.svc.Config().UnregisterGrace.Hours() / 24))
		return fmt.Sprintf("Your account is deleted. Signing in again within %d days restores it.", days)
	}
	return ""
}
