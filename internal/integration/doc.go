// Package integration holds end-to-end tests of the kit on the real
// backends (PostgreSQL and Redis, see internal/testenv): several service
// instances sharing one database and one Redis, and the behaviour of the
// HTTP API while a backend is down, unreachable or silent. It has no code of
// its own; everything is in its _test.go files.
package integration
