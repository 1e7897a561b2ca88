package session

import (
	"reflect"
	"testing"
	"time"
)

// A session in a tenant is written as version 4 and round-trips its
// tenant, roles and permissions; every truncation is refused; a session
// without them stays version 3.
func TestCodecVersion4Tenant(t *testing.T) {
	d := sample()
	d.AMR = []string{"pwd"}
	if b := Encode(&d); b[0] != codecV3 {
		t.Fatalf("a session in no tenant is version %d, want 3", b[0])
	}
	d.TenantID, d.Roles, d.Permissions = 1<<40, []string{"editor", "viewer"}, []string{"post.read", "post.write"}
	b := Encode(&d)
	if b[0] != codecV4 {
		t.Fatalf("a session in a tenant is version %d, want 4", b[0])
	}
	var got Data
	if err := Decode(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Fatalf("round trip\n got %+v\nwant %+v", got, d)
	}
	for i := 1; i < len(b)-len(d.UserData); i++ {
		var cut Data
		if err := Decode(b[:i], &cut); err == nil {
			t.Fatalf("a body cut at %d decoded: %+v", i, cut)
		}
	}
	// A tenant alone (no factor state) still needs version 4.
	e := Data{UserID: 7, CreatedAt: time.UnixMilli(1_700_000_000_000).UTC(), ExpiresAt: time.UnixMilli(1_700_000_100_000).UTC(), TenantID: 3}
	var back Data
	if err := Decode(Encode(&e), &back); err != nil || back.TenantID != 3 {
		t.Fatalf("tenant-only body: %+v, %v", back, err)
	}
}
