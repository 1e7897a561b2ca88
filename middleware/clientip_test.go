package middleware

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func mustPrefixes(t testing.TB, s string) []netip.Prefix {
	t.Helper()
	p, err := ParseTrustedProxies(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClientIP(t *testing.T) {
	proxies := "10.0.0.0/8, 172.16.0.0/12, ::1, fd00::/8"
	for _, tc := range []struct {
		name    string
		trusted string
		remote  string
		xff     []string
		realIP  string
		want    string
	}{
		{name: "peer only", remote: "203.0.113.5:1234", want: "203.0.113.5"},
		{name: "no trust: XFF ignored", remote: "203.0.113.5:1234", xff: []string{"1.2.3.4"}, want: "203.0.113.5"},
		{name: "no trust: X-Real-IP ignored", remote: "203.0.113.5:1234", realIP: "1.2.3.4", want: "203.0.113.5"},
		{name: "untrusted peer: XFF ignored", trusted: proxies, remote: "203.0.113.5:1234", xff: []string{"1.2.3.4"}, want: "203.0.113.5"},
		{name: "trusted peer: XFF client", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{"198.51.100.7"}, want: "198.51.100.7"},
		{name: "right-most untrusted", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{"6.6.6.6, 198.51.100.7, 10.0.0.9"}, want: "198.51.100.7"},
		{name: "spoofed left part ignored", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{"10.1.1.1, 198.51.100.7"}, want: "198.51.100.7"},
		{name: "several XFF headers", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{"6.6.6.6, 198.51.100.7", "172.16.0.1"}, want: "198.51.100.7"},
		{name: "all trusted: left-most", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{"10.0.0.3, 172.16.5.5"}, want: "10.0.0.3"},
		{name: "malformed right-most: peer", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{"198.51.100.7, garbage"}, want: "10.0.0.2"},
		{name: "malformed after trusted hop: that hop", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{"198.51.100.7, bad, 10.0.0.9"}, want: "10.0.0.9"},
		{name: "malformed XFF: peer, not X-Real-IP", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{"nope"}, realIP: "198.51.100.8", want: "10.0.0.2"},
		{name: "empty XFF: X-Real-IP", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{" , "}, realIP: "198.51.100.8", want: "198.51.100.8"},
		{name: "empty elements skipped", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{"198.51.100.7,, ,"}, want: "198.51.100.7"},
		{name: "hop with port", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{"198.51.100.7:5555"}, want: "198.51.100.7"},
		{name: "IPv6 hop with port", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{"[2001:db8::7]:5555"}, want: "2001:db8::7"},
		{name: "X-Real-IP", trusted: proxies, remote: "10.0.0.2:1234", realIP: "198.51.100.9", want: "198.51.100.9"},
		{name: "bad X-Real-IP: peer", trusted: proxies, remote: "10.0.0.2:1234", realIP: "x", want: "10.0.0.2"},
		{name: "mapped peer", remote: "[::ffff:203.0.113.5]:1234", want: "203.0.113.5"},
		{name: "mapped trusted peer", trusted: "10.0.0.0/8", remote: "[::ffff:10.0.0.2]:1234", xff: []string{"198.51.100.7"}, want: "198.51.100.7"},
		{name: "mapped XFF hop", trusted: proxies, remote: "10.0.0.2:1234", xff: []string{"::ffff:198.51.100.7"}, want: "198.51.100.7"},
		{name: "mapped trusted prefix", trusted: "::ffff:10.0.0.0/104", remote: "10.0.0.2:1234", xff: []string{"198.51.100.7"}, want: "198.51.100.7"},
		{name: "IPv6 peer", remote: "[2001:db8::1]:443", want: "2001:db8::1"},
		{name: "IPv6 peer with zone", remote: "[fe80::1%eth0]:443", want: "fe80::1"},
		{name: "IPv6 trusted peer", trusted: proxies, remote: "[::1]:443", xff: []string{"2001:db8::5"}, want: "2001:db8::5"},
		{name: "bare address", remote: "203.0.113.5", want: "203.0.113.5"},
		{name: "unix socket", trusted: proxies, remote: "@", xff: []string{"1.2.3.4"}, want: "invalid IP"},
		{name: "empty remote", remote: "", want: "invalid IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.realIP != "" {
				r.Header.Set("X-Real-IP", tc.realIP)
			}
			got := ClientIP(r, mustPrefixes(t, tc.trusted))
			if got.String() != tc.want {
				t.Fatalf("ClientIP = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{in: "", want: nil},
		{in: " , ", want: nil},
		{in: "10.0.0.0/8", want: []string{"10.0.0.0/8"}},
		{in: "10.1.2.3/8", want: []string{"10.0.0.0/8"}},
		{in: "127.0.0.1,::1", want: []string{"127.0.0.1/32", "::1/128"}},
		{in: "172.16.0.0/12 fd00::/8\t192.168.1.1", want: []string{"172.16.0.0/12", "fd00::/8", "192.168.1.1/32"}},
		{in: "::ffff:10.0.0.0/104, ::ffff:1.2.3.4", want: []string{"10.0.0.0/8", "1.2.3.4/32"}},
		{in: "10.0.0.0/33", err: true},
		{in: "nope", err: true},
		{in: "10.0.0.0/8, bad", err: true},
		{in: "fe80::1%eth0", err: true},
	} {
		got, err := ParseTrustedProxies(tc.in)
		if (err != nil) != tc.err {
			t.Fatalf("%q: err %v", tc.in, err)
		}
		if tc.err {
			continue
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%q: %v, want %v", tc.in, got, tc.want)
		}
		for i := range got {
			if got[i].String() != tc.want[i] {
				t.Fatalf("%q: %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.0/8,::1", "10.0.0.2:1234", "1.2.3.4, 10.0.0.9", "5.6.7.8")
	f.Add("", "[::ffff:1.2.3.4]:1", "", "")
	f.Add("::ffff:0.0.0.0/96", "[::ffff:10.0.0.1]:80", "::ffff:9.9.9.9,,x", "::ffff:8.8.8.8")
	f.Add("0.0.0.0/0,::/0", "1.1.1.1:1", "[fe80::1%eth0]:80, ::ffff:1.2.3.4:5", "")
	f.Add("0.0.0.0/0", "@", "1.2.3.4", "")
	f.Fuzz(func(t *testing.T, trusted, remote, xff, realIP string) {
		prefixes, err := ParseTrustedProxies(trusted)
		if err != nil {
			prefixes = nil
		}
		for _, p := range prefixes {
			if !p.IsValid() || p.Addr().Is4In6() && p.Bits() >= 96 {
				t.Fatalf("ParseTrustedProxies(%q) gave %v", trusted, p)
			}
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header["X-Forwarded-For"] = []string{xff, xff}
		r.Header["X-Real-Ip"] = []string{realIP}
		for _, p := range [][]netip.Prefix{nil, prefixes, mustPrefixes(t, "0.0.0.0/0,::/0")} {
			ip := ClientIP(r, p)
			if ip.IsValid() && (ip.Is4In6() || ip.Zone() != "") {
				t.Fatalf("ClientIP gave %v (mapped or zoned)", ip)
			}
		}
	})
}

func FuzzParseTrustedProxies(f *testing.F) {
	for _, s := range []string{"", "10.0.0.0/8", "::1, 127.0.0.1", "::ffff:10.0.0.0/100", "1.2.3.4/0", "fe80::1%lo", ",,, ,", "::ffff:1.2.3.4/128", "1.2.3.4/-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseTrustedProxies(s)
		if err != nil {
			if ps != nil {
				t.Fatalf("prefixes with an error: %v", ps)
			}
			return
		}
		for _, p := range ps {
			if !p.IsValid() || p != p.Masked() || p.Addr().Zone() != "" || (p.Addr().Is4In6() && p.Bits() >= 96) {
				t.Fatalf("ParseTrustedProxies(%q) gave %v", s, p)
			}
		}
	})
}
