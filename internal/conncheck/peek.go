//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package conncheck

import (
	"io"
	"syscall"
)

func check(raw syscall.RawConn) error {
	var checkErr error
	err := raw.Read(func(fd uintptr) bool {
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
		return true // never wait for readability
	})
	if err != nil {
		return err
	}
	return checkErr
}
