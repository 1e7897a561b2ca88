package memory_test

import (
	"testing"

	"github.com/simpleuser/simpleuser/admin"
	"github.com/simpleuser/simpleuser/admin/admintest"
	"github.com/simpleuser/simpleuser/admin/memory"
)

func TestConformance(t *testing.T) {
	admintest.Run(t, func(t *testing.T) admin.Store { return memory.New() })
}
