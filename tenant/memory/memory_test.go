package memory_test

import (
	"sync/atomic"
	"testing"

	"github.com/simpleuser/simpleuser/tenant/memory"
	"github.com/simpleuser/simpleuser/tenant/tenanttest"
)

func TestConformance(t *testing.T) {
	var ids atomic.Int64
	tenanttest.Run(t, func(t *testing.T) tenanttest.Harness {
		s := memory.New()
		return tenanttest.Harness{
			Store:      s,
			NewUser:    func(*testing.T) int64 { return ids.Add(1) },
			DeleteUser: func(_ *testing.T, id int64) { s.DeleteUser(id) },
		}
	})
}
