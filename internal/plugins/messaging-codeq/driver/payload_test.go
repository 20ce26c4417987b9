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

// A wrapped payload comes back with its tenant, also when the key is spelled with an
// escape; a payload without the key comes back as it is, without being decoded.
func TestUnwrapPayload(t *testing.T) {
	const stream = "acme"
	for _, c := range []struct{ payload, tenant, out string }{
		{string(wrapPayload("b", stream, []byte(`{"x":1}`))), "b", `{"x":1}`},
		{`{"\u005fsous_tenant":"b","_sous_payload":{"x":1}}`, "b", `{"x":1}`},
		{`{"x":"a\nb"}`, stream, `{"x":"a\nb"}`},
		{`{"x":1}`, stream, `{"x":1}`},
		{`[1]`, stream, `[1]`},
	} {
		tenant, out := unwrapPayload(stream, []byte(c.payload))
		if tenant != c.tenant || string(out) != c.out {
			t.Errorf("unwrapPayload(%s) = %q, %s; want %q, %s", c.payload, tenant, out, c.tenant, c.out)
		}
	}
	plain := []byte(`{"invocation_id":"inv-1","input":{"name":"x"},"function":"hello"}`)
	if n := testing.AllocsPerRun(100, func() { unwrapPayload(stream, plain) }); n != 0 {
		t.Errorf("unwrapPayload of a payload that is not wrapped allocates %v times, want 0 (it must not decode it)", n)
	}
}
