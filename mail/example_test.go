package mail_test

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/handlers"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/mail"
	"github.com/simpleuser/simpleuser/middleware"
)

// The kit's SendCode hook over SMTP: STARTTLS on port 587 with the
// credentials of the URL.
func Example() {
	cfg, err := mail.ParseURL("smtp://postmaster%40example.com:app-password@smtp.example.com:587")
	if err != nil {
		log.Fatal(err)
	}
	cfg.From = "Example <no-reply@example.com>"
	cfg.AppName = "Example"
	sender, err := mail.New(cfg)
	if err != nil {
		log.Fatal(err) // errors name the Config field
	}
	svc, err := simpleuser.New(simpleuser.Config{Hooks: hooks.Hooks{SendCode: sender.SendCode}})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", handlers.New(svc, handlers.Options{Prefix: "/api"}))
	_ = middleware.Identity(svc, middleware.Options{})(mux)
	fmt.Println(cfg.Host, cfg.Port, cfg.Security, cfg.Username)
	// Output: smtp.example.com 587 starttls postmaster@example.com
}

// Messages in German for readers whose Accept-Language prefers it, and
// the English sign-in message replaced; Render shows what would be sent.
func ExampleSender_Render() {
	de := mail.Messages{
		hooks.PurposeLogin:         {Subject: "Ihr Anmeldecode für {{.AppName}}", Text: "{{.Code}} ist {{.Minutes}} Minuten gültig."},
		hooks.PurposeResetPassword: {Subject: "Passwort zurücksetzen", Text: "Code: {{.Code}}"},
		hooks.PurposeChangeEmail:   {Subject: "Neue Adresse bestätigen", Text: "Code: {{.Code}}"},
		hooks.PurposeUnregister:    {Subject: "Konto löschen", Text: "Code: {{.Code}}"},
	}
	sender, err := mail.New(mail.Config{
		Host: "smtp.example.com", From: "no-reply@example.com", AppName: "Example",
		Messages: mail.Messages{hooks.PurposeLogin: {
			Subject: "Your {{.AppName}} code",
			Text:    "{{.Code}}, valid for {{.Minutes}} minutes.",
		}},
		Translations: map[string]mail.Messages{"de": de},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, lang := range []string{"de-CH, en;q=0.5", "fr, en;q=0.8"} {
		r, _ := sender.Render(hooks.SendCodeRequest{Purpose: hooks.PurposeLogin, AcceptLanguage: lang, TTL: 10 * time.Minute}, "042917")
		fmt.Printf("%s | %s | %s\n", r.Language, r.Subject, r.Text)
	}
	// Output:
	// de | Ihr Anmeldecode für Example | 042917 ist 10 Minuten gültig.
	// en | Your Example code | 042917, valid for 10 minutes.
}
