package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/internal/conncheck"
)

// pingIdle is pgxpool's own rule: ping a connection idle for longer.
const pingIdle = time.Second

// shouldPing is the ShouldPing hook Open installs: ping a connection idle
// for more than a second (pgxpool's default), or whose socket shows that
// the server closed it or sent something unasked (a restart or failover
// sends a shutdown notice and closes every connection). The peek costs one
// system call and no round trip; a failed ping makes pgxpool drop the
// connection and hand out another, so no statement is sent on a connection
// already known to be dead, even when the server came back within a second.
func shouldPing(_ context.Context, p pgxpool.ShouldPingParams) bool {
	if p.IdleDuration > pingIdle {
		return true
	}
	raw, ok := conncheck.Raw(p.Conn.PgConn().Conn())
	return ok && conncheck.Check(raw) != nil
}
