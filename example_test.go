package simpleuser_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/user"
)

// The service without HTTP: send a code, log in with it (the device's
// anonymous user becomes the account), then resolve the session.
func Example() {
	var lastCode string
	svc, err := simpleuser.New(simpleuser.Config{
		Hooks: hooks.Hooks{SendCode: func(_ context.Context, r hooks.SendCodeRequest) (string, error) {
			lastCode = "424242" // a real app mails a random code to r.Email
			return lastCode, nil
		}},
		Argon2: password.Params{Memory: 64, Time: 1},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	dev := simpleuser.Client{SSAID: "device-1", IP: netip.MustParseAddr("192.0.2.1")}

	anon, _ := svc.ResolveUser(ctx, dev)
	_ = svc.SendCode(ctx, dev, "ada@example.com", hooks.PurposeLogin)
	res, err := svc.Login(ctx, dev, simpleuser.LoginInput{Email: "ada@example.com", Code: lastCode})
	if err != nil {
		panic(err)
	}
	fmt.Println("same id as the anonymous user:", res.UserID == anon.ID, "token length:", len(res.Token))

	dev.Token = res.Token
	u, _ := svc.ResolveUser(ctx, dev)
	fmt.Println(u.Email, u.Registered())
	// Output:
	// same id as the anonymous user: true token length: 64
	// ada@example.com true
}

// Hooks extend every flow: AfterCreate runs inside the registration
// transaction with the signup payload (its error rolls the account back),
// and events arrive after commit.
func Example_hooks() {
	appUsers := map[int64]string{} // the app's own table, keyed by auth user id
	svc, _ := simpleuser.New(simpleuser.Config{
		Argon2: password.Params{Memory: 64, Time: 1},
		Hooks: hooks.Hooks{
			SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) { return "111111", nil },
			AfterCreate: func(_ context.Context, u *user.User, p hooks.Payload) error {
				if p.String("nickname") == "" {
					return hooks.Reject(400, "nickname is required")
				}
				appUsers[u.ID] = p.String("nickname")
				return nil
			},
			GetSessionUserData: func(_ context.Context, u *user.User) (map[string]any, error) {
				return map[string]any{"nickname": appUsers[u.ID]}, nil
			},
			OnEvent: func(_ context.Context, e hooks.Event) error {
				fmt.Println("event:", e.Type)
				return nil
			},
		},
	})
	ctx := context.Background()
	dev := simpleuser.Client{SSAID: "device-2"}
	_ = svc.SendCode(ctx, dev, "bob@example.com", hooks.PurposeLogin)
	res, _ := svc.Login(ctx, dev, simpleuser.LoginInput{Email: "bob@example.com", Code: "111111",
		Extra: hooks.Payload{"nickname": []byte(`"bobby"`)}})
	d, _ := svc.Sessions().Get(ctx, res.Token)
	fmt.Println(string(d.UserData))
	// Output:
	// event: UserRegistered
	// event: LoggedIn
	// {"nickname":"bobby"}
}
