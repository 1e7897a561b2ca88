//go:build unix

package redisconn

import (
	"io"
	"syscall"
)

// connCheck reads one byte from raw without blocking, as
// github.com/go-sql-driver/mysql's conncheck does: "would block" means the
// connection is open and quiet; end of stream, a reset or any byte means it
// is not usable.
func connCheck(raw syscall.RawConn) error {
	var checkErr error
	err := raw.Read(func(fd uintptr) bool {
		var buf [1]byte
		n, err := syscall.Read(int(fd), buf[:])
		switch {
		case n == 0 && err == nil:
			checkErr = io.EOF
		case n > 0:
			checkErr = errUnexpectedRead
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK:
			checkErr = nil
		default:
			checkErr = err
		}
		return true // never wait for readability
	})
	if err != nil {
		return err
	}
	return checkErr
}
