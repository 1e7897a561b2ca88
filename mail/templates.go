package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"maps"
	"slices"
	"strings"
	texttemplate "text/template"

	"golang.org/x/text/language"

	"github.com/simpleuser/simpleuser/hooks"
)

// Message is the template source of one message: Subject and Text are
// text/template, HTML is html/template (which escapes every value for its
// place in the page). Each is executed with a Data.
type Message struct {
	// Subject is the subject line. Required. Line breaks in its output
	// become spaces.
	Subject string
	// Text is the text/plain body. Required.
	Text string
	// HTML is the text/html alternative; "" sends the text alone.
	HTML string
}

// Messages are the messages of one language, by code purpose
// (hooks.PurposeLogin, PurposeResetPassword, PurposeChangeEmail,
// PurposeUnregister).
type Messages map[string]Message

// Data is what a template is executed with.
type Data struct {
	AppName string // Config.AppName
	Code    string // the one-time code
	// Minutes is the code's lifetime in whole minutes, rounded up (10 for
	// the default 10 min); 0 when the caller gave no TTL.
	Minutes int
	Purpose string // the code purpose: "Login", "ResetPassword", "ChangeEmail", "Unregister" or "SecondFactor"
	Email   string // the recipient
	// Language is the BCP 47 tag of the message's language ("en", "de"),
	// for <html lang>.
	Language string
}

// compiled is one Message, parsed.
type compiled struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template // nil: text only
}

// locale is the messages of one language, parsed, by purpose.
type locale struct {
	tag      language.Tag
	messages map[string]compiled
}

// sample is the Data New executes every template with, so that a
// template naming a field Data lacks fails at start, not at a send.
var sample = Data{AppName: "App", Code: "123456", Minutes: 10, Purpose: hooks.PurposeLogin, Email: "a@example.com", Language: "en"}

// compileLocale parses and tries the messages of one language. field names
// them in errors ("Messages", `Translations["de"]`).
func compileLocale(tag language.Tag, field string, ms Messages) (*locale, error) {
	for p := range ms {
		if !validPurpose(p) {
			return nil, fmt.Errorf("mail: Config.%s[%q]: not a code purpose (Login, ResetPassword, ChangeEmail, Unregister)", field, p)
		}
	}
	l := &locale{tag: tag, messages: map[string]compiled{}}
	for _, p := range slices.Concat(purposes, optionalPurposes) {
		m, ok := ms[p]
		if !ok && slices.Contains(optionalPurposes, p) {
			continue // Render falls back to English
		}
		if !ok {
			return nil, fmt.Errorf("mail: Config.%s lacks the %s message", field, p)
		}
		name := fmt.Sprintf("%s[%q]", field, p)
		c, err := compileMessage(name, m)
		if err != nil {
			return nil, err
		}
		l.messages[p] = c
	}
	return l, nil
}

func compileMessage(name string, m Message) (compiled, error) {
	var c compiled
	if strings.TrimSpace(m.Subject) == "" {
		return c, fmt.Errorf("mail: Config.%s.Subject is required", name)
	}
	if strings.TrimSpace(m.Text) == "" {
		return c, fmt.Errorf("mail: Config.%s.Text is required", name)
	}
	var err error
	if c.subject, err = texttemplate.New("Subject").Option("missingkey=error").Parse(m.Subject); err != nil {
		return c, fmt.Errorf("mail: Config.%s.Subject: %w", name, err)
	}
	if c.text, err = texttemplate.New("Text").Option("missingkey=error").Parse(m.Text); err != nil {
		return c, fmt.Errorf("mail: Config.%s.Text: %w", name, err)
	}
	if m.HTML != "" {
		if c.html, err = htmltemplate.New("HTML").Option("missingkey=error").Parse(m.HTML); err != nil {
			return c, fmt.Errorf("mail: Config.%s.HTML: %w", name, err)
		}
	}
	if _, err := c.render(sample); err != nil {
		return c, fmt.Errorf("mail: Config.%s: %w", name, err)
	}
	return c, nil
}

// Rendered is a message ready to send.
type Rendered struct {
	Language string // BCP 47 tag of the language chosen
	Subject  string
	Text     string
	HTML     string // "" when the message has no HTML part
}

func (c compiled) render(d Data) (Rendered, error) {
	r := Rendered{Language: d.Language}
	var b bytes.Buffer
	if err := c.subject.Execute(&b, d); err != nil {
		return r, fmt.Errorf("Subject: %w", err)
	}
	r.Subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := c.text.Execute(&b, d); err != nil {
		return r, fmt.Errorf("Text: %w", err)
	}
	r.Text = b.String()
	if c.html != nil {
		b.Reset()
		if err := c.html.Execute(&b, d); err != nil {
			return r, fmt.Errorf("HTML: %w", err)
		}
		r.HTML = b.String()
	}
	return r, nil
}

func validPurpose(p string) bool {
	return slices.Contains(purposes, p) || slices.Contains(optionalPurposes, p)
}

// DefaultMessages returns the built-in English messages, a copy the caller
// may change and pass back in Config.Messages, or translate for
// Config.Translations.
func DefaultMessages() Messages { return maps.Clone(english) }

// english is built from one layout and a few phrases per purpose.
var english = func() Messages {
	type phrases struct{ subject, lead, ignore string }
	const ignore = "If you did not ask for this code, ignore this message: nothing happens without it."
	by := map[string]phrases{
		hooks.PurposeLogin: {
			subject: "{{.Code}} is your {{.AppName}} sign-in code",
			lead:    "Use this code to sign in to {{.AppName}}:",
			ignore:  ignore,
		},
		hooks.PurposeResetPassword: {
			subject: "Your {{.AppName}} password reset code",
			lead:    "Use this code to choose a new password for your {{.AppName}} account:",
			ignore:  "If you did not ask to reset your password, ignore this message: your password stays as it is.",
		},
		hooks.PurposeChangeEmail: {
			subject: "Confirm your new email address for {{.AppName}}",
			lead:    "Use this code to make {{.Email}} the email address of your {{.AppName}} account:",
			ignore:  ignore,
		},
		hooks.PurposeUnregister: {
			subject: "Confirm deleting your {{.AppName}} account",
			lead:    "Use this code to confirm that you want to delete your {{.AppName}} account:",
			ignore:  "If you did not ask to delete your account, ignore this message: your account stays as it is.",
		},
		hooks.PurposeSecondFactor: {
			subject: "{{.Code}} is your {{.AppName}} verification code",
			lead:    "Use this code to confirm it is you signing in to {{.AppName}}:",
			ignore:  "If you did not just sign in, someone knows your password or holds your session: change your password now.",
		},
	}
	const expires = "{{if .Minutes}}It expires in {{.Minutes}} minute{{if ne .Minutes 1}}s{{end}}. {{end}}"
	const never = "Never share it: {{.AppName}} will never ask you for it."
	ms := Messages{}
	for p, ph := range by {
		ms[p] = Message{
			Subject: ph.subject,
			Text: ph.lead + "\n\n    {{.Code}}\n\n" + expires + never + "\n\n" + ph.ignore + "\n\n" +
				"-- \n{{.AppName}}\n",
			HTML: `<!DOCTYPE html>
<html lang="{{.Language}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>` + ph.subject + `</title></head>
<body style="margin:0;padding:24px;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1f2328;background:#ffffff">
<p>` + ph.lead + `</p>
<p style="margin:24px 0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:32px;font-weight:bold;letter-spacing:6px">{{.Code}}</p>
<p>` + expires + never + `</p>
<p style="color:#59636e;font-size:14px">` + ph.ignore + `</p>
<p style="color:#59636e;font-size:14px">{{.AppName}}</p>
</body></html>
`,
		}
	}
	return ms
}()
