package invocation

import "testing"

func TestFunctionCommandRoundTrip(t *testing.T) {
	cmd := FunctionCommand("acme_co-1", "hello-bun")
	if cmd != "sous.fn.acme_co-1.hello-bun" {
		t.Fatalf("command %q", cmd)
	}
	if FunctionCommand("a", "bc") == FunctionCommand("ab", "c") {
		t.Fatal("two tenants' functions share a command")
	}
}
