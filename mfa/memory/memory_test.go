package memory_test

import (
	"sync/atomic"
	"testing"

	"github.com/simpleuser/simpleuser/mfa/memory"
	"github.com/simpleuser/simpleuser/mfa/mfatest"
)

func TestConformance(t *testing.T) {
	var next atomic.Int64
	mfatest.Run(t, func(t *testing.T) mfatest.Harness {
		return mfatest.Harness{Store: memory.New(), NewUser: func(*testing.T) int64 { return next.Add(1) }}
	})
}
