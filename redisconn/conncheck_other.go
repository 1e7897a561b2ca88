//go:build !unix

package redisconn

import "syscall"

// connCheck is not available here: every connection passes, and a dead one
// is found by its first command (which Do and Eval may then resend).
func connCheck(syscall.RawConn) error { return nil }
