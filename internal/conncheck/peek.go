//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package conncheck

import (
	"io"
	"syscall"
)

// check peeks through Control, not Read: RawConn.Read takes the socket's
// read lock, which a Read outstanding in another goroutine holds until data
// comes (pgx's background reader leaves one on an idle connection), so the
// peek would wait for good. Control only keeps the descriptor open.
func check(raw syscall.RawConn) error {
	var checkErr error
	err := raw.Control(func(fd uintptr) {
		var buf [1]byte
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n == 0 && err == nil:
			checkErr = io.EOF
		case n > 0:
			checkErr = ErrPending
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK:
			checkErr = nil
		default:
			checkErr = err
		}
	})
	if err != nil {
		return err
	}
	return checkErr
}
