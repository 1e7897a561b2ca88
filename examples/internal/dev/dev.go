// Package dev holds what the router examples share to run on a
// developer's machine: a SendCode hook that prints each code to stderr
// instead of mailing it.
package dev

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"

	"github.com/simpleuser/simpleuser/hooks"
)

// SendCode is a hooks.Hooks.SendCode that delivers nothing: it prints a
// random six-digit code (crypto/rand, uniform over 000000-999999) to stderr
// and returns it. A real app mails the code instead.
func SendCode(_ context.Context, r hooks.SendCodeRequest) (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	fmt.Fprintf(os.Stderr, "[dev code sender] %s code for %s: %s\n", r.Purpose, r.Email, code)
	return code, nil
}
