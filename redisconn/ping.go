package redisconn

import (
	"context"

	"github.com/simpleuser/simpleuser/backend"
)

// Ping sends PING on a connection of c, within ctx's deadline, and
// returns nil when the server answers. On a *Cluster it returns nil when
// the cluster can serve every slot: CLUSTER INFO says cluster_state:ok and
// every master answers PING (a master down and not yet replaced by its
// replica fails it). Every failure (refused, lost,
// timed out, the pool exhausted, ctx ended, an error reply such as
// LOADING) is a *backend.Error for "redis": a readiness check must name
// the backend whatever went wrong. The Redis stores' Ping methods
// (backend.Pinger) call it.
func Ping(ctx context.Context, c Client) error {
	if cl, ok := c.(*Cluster); ok {
		if err := cl.ping(ctx); err != nil {
			return backend.Unavailable(Name, err)
		}
		return nil
	}
	if _, err := Do(ctx, c, "PING"); err != nil {
		return backend.Unavailable(Name, err)
	}
	return nil
}
