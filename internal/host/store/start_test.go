package store

import "testing"

// StartInvocation decides the record (new, or the key's earlier one) and makes it
// readable before its durable write is waited for.
func TestStartInvocationIsReadableBeforeWait(t *testing.T) {
	s := openT(t)
	inv, created, wait, err := s.StartInvocation(&Invocation{Tenant: "acme", Function: "hello", IdempotencyKey: "k"})
	if err != nil || !created {
		t.Fatalf("start = %v %v", created, err)
	}
	if got, err := s.GetInvocation("acme", inv.ID); err != nil || got.ID != inv.ID {
		t.Fatalf("before wait: %+v %v", got, err)
	}
	again, created2, wait2, err := s.StartInvocation(&Invocation{Tenant: "acme", Function: "hello", IdempotencyKey: "k"})
	if err != nil || created2 || again.ID != inv.ID {
		t.Fatalf("same key before the first wait: %+v %v %v", again, created2, err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if err := wait2(); err != nil {
		t.Fatal(err)
	}
}
