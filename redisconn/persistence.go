package redisconn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
)

// Persistence is what a Redis server writes to disk, as CONFIG GET reports
// it (https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/).
type Persistence struct {
	// AOF is appendonly: every write is appended to a log that the server
	// replays when it starts.
	AOF bool
	// AppendFsync is appendfsync, how often the log reaches the disk:
	// "always", "everysec" (a crash loses up to about one second of writes)
	// or "no" (the operating system decides, typically within 30 s).
	AppendFsync string
	// Save is the RDB snapshot rule: pairs of "seconds changes" (a snapshot
	// is written when at least changes writes happened within seconds), e.g.
	// "3600 1 300 100 60 10000"; "" for no snapshots. A restart loses every
	// write since the last snapshot.
	Save string
}

// None reports whether the server keeps nothing on disk: neither the log
// nor snapshots, so a restart empties it.
func (p Persistence) None() bool { return !p.AOF && strings.TrimSpace(p.Save) == "" }

// ErrPersistenceUnknown is returned by ReadPersistence when the server
// refuses CONFIG GET (managed services often do; so does a server started
// with rename-command CONFIG "" or an ACL without +config|get): whether it
// keeps data on disk cannot be told from the client.
var ErrPersistenceUnknown = errors.New("redisconn: the server does not report its persistence (CONFIG GET refused)")

// ReadPersistence asks the server of c what it keeps on disk (three
// CONFIG GET commands; on a cluster, one master's answer, the nodes being
// expected to share one configuration). Errors: ErrPersistenceUnknown (wrapping the server's
// reply) when CONFIG GET is refused, a *backend.Error when the server cannot
// be reached.
func ReadPersistence(ctx context.Context, c Client) (Persistence, error) {
	var v [3]string
	for i, name := range []string{"appendonly", "appendfsync", "save"} {
		kv, err := redis.Strings(Do(ctx, c, "CONFIG", "GET", name))
		var reply redis.Error
		switch {
		case backend.Name(err) != "": // unreachable, or LOADING...
			return Persistence{}, err
		case errors.As(err, &reply):
			return Persistence{}, fmt.Errorf("%w: %v", ErrPersistenceUnknown, reply)
		case err != nil:
			return Persistence{}, err
		case len(kv) != 2 || kv[0] != name:
			return Persistence{}, fmt.Errorf("%w: CONFIG GET %s answered %q", ErrPersistenceUnknown, name, kv)
		}
		v[i] = kv[1]
	}
	return Persistence{AOF: v[0] == "yes", AppendFsync: v[1], Save: v[2]}, nil
}
