package redisconn

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/gomodule/redigo/redis"
)

// resend reports whether a command that failed with err may be sent again
// on a new connection. A command whose write failed never reached the
// server in full, so Redis did not run it: any command may be resent. A
// connection lost while waiting for the reply (EOF, reset) may have run it:
// only an idempotent command may be resent. Timeouts are never resent (the
// server is slow or gone, and a second wait would double the delay), nor are
// Redis error replies or context errors.
func resend(err error, idempotent bool) bool {
	var op *net.OpError
	if errors.As(err, &op) {
		switch {
		case op.Timeout():
			return false
		case op.Op == "write":
			return true
		case op.Op == "read":
			return idempotent
		}
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return idempotent
	}
	return false
}

// runFresh runs f on a new connection dialled for it alone and closed after:
// the pool's idle connections may be as stale as the one that just failed.
// It holds no pool slot, so it may briefly exceed MaxActive by one per
// caller; it happens only after a lost connection. A Client other than a
// *redis.Pool or *Cluster gets one from GetContext.
func runFresh(c Client, keys []string, o *op) (any, error) {
	ctx := o.ctx
	var conn redis.Conn
	var err error
	switch p := c.(type) {
	case *Cluster:
		conn, err = p.conn(ctx, true, keys...)
	case *redis.Pool:
		switch {
		case p.DialContext != nil:
			conn, err = p.DialContext(ctx)
		case p.Dial != nil:
			conn, err = p.Dial()
		default:
			return nil, errors.New("redisconn: the pool has no dial function")
		}
	default:
		conn, err = c.GetContext(ctx)
	}
	if err != nil {
		return nil, err
	}
	return o.sendOn(conn)
}

// idempotentCommand reports whether running cmd twice in a row has the
// effect of running it once, as far as its callers can tell:
//
//   - reads (GET, MGET, EXISTS, TTL, PTTL, ZRANGE, ZCARD, ZSCORE, SCAN, PING);
//   - DEL, UNLINK, ZREM: the second run finds nothing left to remove (its
//     count of removed members may be lower; the kit ignores those counts);
//   - SET without NX or GET: the same value again (a PX / EX expiry is
//     counted from the second run, later by the retry's delay; PXAT is
//     absolute); with XX, a key deleted between the two runs makes the
//     second answer "not set", which is then the truth;
//   - PEXPIRE, PEXPIREAT: the same expiry (PEXPIRE: later by the delay).
//
// SET NX is not: the second run answers "exists" after the first set it.
// INCR, ZADD INCR, LPUSH and the like are not.
func idempotentCommand(cmd string, args []any) bool {
	switch strings.ToUpper(cmd) {
	case "GET", "MGET", "EXISTS", "TTL", "PTTL", "ZRANGE", "ZCARD", "ZSCORE", "SCAN", "PING",
		"DEL", "UNLINK", "ZREM", "PEXPIRE", "PEXPIREAT":
		return true
	case "SET":
		for _, a := range args[min(2, len(args)):] { // key, value, then options
			if s, ok := a.(string); ok && (strings.EqualFold(s, "NX") || strings.EqualFold(s, "GET")) {
				return false
			}
		}
		return true
	}
	return false
}

// idempotentScripts holds the scripts registered with Idempotent.
var idempotentScripts sync.Map // *redis.Script → struct{}

// Idempotent registers s as safe to run twice with the same keys and
// arguments and returns it, for use in a var declaration:
//
//	var release = redisconn.Idempotent(redis.NewScript(-1, `...`))
//
// Eval then runs s once more on a new connection when the connection is lost
// before its reply arrives (see Do). Register a script only when a second run
// right after the first leaves the same data and gives an answer the caller
// accepts as the first one's: a script that sets, adds the same member with
// the same score, removes or reads qualifies; one that deletes and returns
// what it deleted (a pop), or compares and deletes and reports whether it
// did, does not (the second run would answer "nothing there" after the first
// took it).
func Idempotent(s *redis.Script) *redis.Script {
	idempotentScripts.Store(s, struct{}{})
	return s
}

func idempotentScript(s *redis.Script) bool {
	_, ok := idempotentScripts.Load(s)
	return ok
}
