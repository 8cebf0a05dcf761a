package main

import "testing"

func TestCheckListen(t *testing.T) {
	for _, tls := range []bool{true, false} {
		if err := checkListen("0.0.0.0:8443", tls, !tls); err != nil {
			t.Fatalf("TLS or a declared proxy must allow any address: %v", err)
		}
	}
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080":   true,
		"[::1]:8080":       true,
		"localhost:9000":   true,
		"127.3.4.5:1":      true,
		"0.0.0.0:8080":     false,
		":8080":            false,
		"192.0.2.1:8080":   false,
		"[::]:8080":        false,
		"example.com:8080": false,
		"no-port":          false,
	} {
		t.Run(addr, func(t *testing.T) {
			if err := checkListen(addr, false, false); (err == nil) != ok {
				t.Fatalf("checkListen(%q) = %v, want ok=%v", addr, err, ok)
			}
		})
	}
}
