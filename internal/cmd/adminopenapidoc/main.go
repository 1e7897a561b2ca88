// Command adminopenapidoc writes the admin API's OpenAPI document
// (admin.Document) for linting (scripts/lint-openapi.sh).
//
//	go run ./internal/cmd/adminopenapidoc [-server /admin] [-o admin.json]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/simpleuser/simpleuser/admin"
)

func main() {
	server := flag.String("server", "/admin", "where the app mounts the admin API")
	out := flag.String("o", "-", "output file (- for standard output)")
	flag.Parse()
	b, err := admin.Document(*server)
	if err == nil {
		if *out == "-" {
			_, err = os.Stdout.Write(b)
		} else {
			err = os.WriteFile(*out, b, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "adminopenapidoc:", err)
		os.Exit(1)
	}
}
