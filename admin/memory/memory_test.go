package memory_test

import (
	"testing"

	"github.com/simpleuser/simpleuser/admin"
	"github.com/simpleuser/simpleuser/admin/admintest"
	"github.com/simpleuser/simpleuser/admin/memory"
	tenantmemory "github.com/simpleuser/simpleuser/tenant/memory"
	usermemory "github.com/simpleuser/simpleuser/user/memory"
)

func TestConformance(t *testing.T) {
	admintest.Run(t, func(t *testing.T) admin.Store { return memory.New() })
}

func TestSearch(t *testing.T) {
	users := usermemory.New()
	tenants := tenantmemory.New()
	admintest.RunSearch(t, admintest.SearchHarness{Searcher: memory.Searcher{Users: users, Tenants: tenants}, Users: users, Tenants: tenants})
}
