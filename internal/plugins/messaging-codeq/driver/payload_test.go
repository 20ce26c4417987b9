package driver

import "testing"

// scopeIdemKey must never give two (tenant, key) pairs the same codeQ key.
func TestScopeIdemKeyIsInjective(t *testing.T) {
	const stream = "acme"
	pairs := [][2]string{
		{"acme", "k"}, {"acme", "_sous:1:b:k"}, {"b", "k"}, {"b:k", ""}, {"b", "_sous:1:b:k"},
		{"acme", "_sous:4:acme:k"}, {"a", "1:b:k"}, {"a:1", "b:k"}, {"", "k"},
	}
	seen := map[string][2]string{}
	for _, p := range pairs {
		if p[1] == "" {
			continue
		}
		got := scopeIdemKey(p[0], stream, p[1])
		if prev, dup := seen[got]; dup {
			t.Fatalf("%v and %v both give codeQ key %q", prev, p, got)
		}
		seen[got] = p
	}
	if got := scopeIdemKey(stream, stream, "k"); got != "k" {
		t.Fatalf("the stream tenant's key became %q, want it unchanged", got)
	}
}
