package store

import (
	"errors"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
)

func openT(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func bundle(entry string, files map[string]string) *Bundle {
	b := &Bundle{Runtime: "bun", Entry: entry, TimeoutMS: 1000, MemoryMB: 128, Files: map[string][]byte{}}
	for p, c := range files {
		b.Files[p] = []byte(c)
	}
	return b
}

func TestDigestCanonical(t *testing.T) {
	a := bundle("a.ts", map[string]string{"a.ts": "x", "b.ts": "y"})
	b := bundle("a.ts", map[string]string{"b.ts": "y", "a.ts": "x"})
	if a.Digest() != b.Digest() {
		t.Fatal("digest depends on map order")
	}
	// Moving bytes between path and content must change the digest (length prefixes).
	c := bundle("a.ts", map[string]string{"a.ts": "xb.ts", "": "y"})
	if a.Digest() == c.Digest() {
		t.Fatal("ambiguous encoding: different bundles share a digest")
	}
	for name, mut := range map[string]func(*Bundle){
		"runtime": func(b *Bundle) { b.Runtime = "python" },
		"entry":   func(b *Bundle) { b.Entry = "b.ts" },
		"timeout": func(b *Bundle) { b.TimeoutMS++ },
		"memory":  func(b *Bundle) { b.MemoryMB++ },
		"vars":    func(b *Bundle) { b.Vars = map[string]string{"K": "v"} },
		"content": func(b *Bundle) { b.Files["a.ts"] = []byte("z") },
	} {
		d := bundle("a.ts", map[string]string{"a.ts": "x", "b.ts": "y"})
		mut(d)
		if d.Digest() == a.Digest() {
			t.Errorf("changing %s kept the digest", name)
		}
	}
	if len(a.Digest()) != 64 {
		t.Fatalf("digest %q is not 64 hex digits", a.Digest())
	}
}

func TestVersionsAliasesDelete(t *testing.T) {
	s := openT(t)
	b := bundle("main.ts", map[string]string{"main.ts": "export default () => 1"})
	v1, err := s.CreateVersion("acme", "hello", b, "dev")
	if err != nil || v1.Number != 1 || v1.Digest != b.Digest() {
		t.Fatalf("v1 = %+v, %v", v1, err)
	}
	v2, err := s.CreateVersion("acme", "hello", b, "")
	if err != nil || v2.Number != 2 || v2.Digest != v1.Digest {
		t.Fatalf("v2 = %+v, %v", v2, err)
	}
	// Same digest stored once: the bundle is readable and equal.
	got, err := s.GetBundle("acme", v1.Digest)
	if err != nil || string(got.Files["main.ts"]) != "export default () => 1" {
		t.Fatalf("bundle: %+v %v", got, err)
	}
	if _, err := s.GetBundle("other", v1.Digest); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bundle visible to another tenant: %v", err)
	}
	// dev still at 1 (second deploy set no alias); promote 2 to prod.
	if v, err := s.ResolveRef("acme", "hello", Ref{}); err != nil || v.Number != 1 {
		t.Fatalf("resolve dev = %+v, %v", v, err)
	}
	if _, err := s.SetAlias("acme", "hello", "prod", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetAlias("acme", "hello", "prod", 9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("alias to missing version: %v", err)
	}
	if v, err := s.ResolveRef("acme", "hello", Ref{Env: "prod"}); err != nil || v.Number != 2 {
		t.Fatalf("resolve prod = %+v, %v", v, err)
	}
	if v, err := s.ResolveRef("acme", "hello", Ref{Version: 1}); err != nil || v.Number != 1 {
		t.Fatalf("resolve v1 = %+v, %v", v, err)
	}
	if _, err := s.ResolveRef("acme", "hello", Ref{Env: "staging"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown alias: %v", err)
	}
	vs, err := s.ListVersions("acme", "hello")
	if err != nil || len(vs) != 2 || vs[0].Number != 2 {
		t.Fatalf("versions = %v, %v", vs, err)
	}
	if _, err := s.GetFunction("other", "hello"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("function visible to another tenant: %v", err)
	}
	if err := s.DeleteFunction("acme", "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResolveRef("acme", "hello", Ref{Env: "prod"}); !errors.Is(err, ErrDeleted) {
		t.Fatalf("resolve deleted: %v", err)
	}
	if fns, _ := s.ListFunctions("acme"); len(fns) != 0 {
		t.Fatalf("deleted function listed: %v", fns)
	}
	v3, err := s.CreateVersion("acme", "hello", b, "dev")
	if err != nil || v3.Number != 3 {
		t.Fatalf("redeploy after delete = %+v, %v", v3, err)
	}
	if _, err := s.CreateVersion("acme", "Bad", b, "dev"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid name accepted: %v", err)
	}
}

func TestInvocationLifecycle(t *testing.T) {
	s := openT(t)
	inv, created, err := s.CreateInvocation(&Invocation{Tenant: "acme", Function: "hello", Version: 1, Env: "dev"})
	if err != nil || !created || inv.Status != invocation.StatusPending || inv.ID == "" {
		t.Fatalf("create = %+v %v %v", inv, created, err)
	}
	pend, _ := s.ListInvocations("acme", InvocationFilter{Status: invocation.StatusPending})
	if len(pend) != 1 {
		t.Fatalf("pending index has %d entries", len(pend))
	}
	running, err := s.UpdateInvocation("acme", inv.ID, func(i *Invocation) error {
		i.Status, i.Attempts = invocation.StatusRunning, 1
		return nil
	})
	if err != nil || running.StartedAt == nil {
		t.Fatalf("to running: %+v %v", running, err)
	}
	done, err := s.UpdateInvocation("acme", inv.ID, func(i *Invocation) error {
		i.Status, i.Output = invocation.StatusSucceeded, []byte(`{"ok":true}`)
		return nil
	})
	if err != nil || done.FinishedAt == nil || string(done.Output) != `{"ok":true}` {
		t.Fatalf("to succeeded: %+v %v", done, err)
	}
	for st, want := range map[invocation.Status]int{invocation.StatusPending: 0, invocation.StatusRunning: 0, invocation.StatusSucceeded: 1} {
		got, _ := s.ListInvocations("acme", InvocationFilter{Status: st})
		if len(got) != want {
			t.Errorf("status %s index has %d, want %d", st, len(got), want)
		}
	}
	_, err = s.UpdateInvocation("acme", inv.ID, func(i *Invocation) error { i.Status = invocation.StatusRunning; return nil })
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("left a final state: %v", err)
	}
	if got, _ := s.GetInvocation("acme", inv.ID); got.Status != invocation.StatusSucceeded {
		t.Fatalf("rejected transition was written: %s", got.Status)
	}
	if _, err := s.GetInvocation("other", inv.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("invocation visible to another tenant: %v", err)
	}
}

func TestListAndScanStale(t *testing.T) {
	s := openT(t)
	old := time.Now().Add(-time.Hour)
	for i, tenant := range []string{"a", "b", "c"} {
		for _, fn := range []string{"f1", "f2"} {
			if _, _, err := s.CreateInvocation(&Invocation{Tenant: tenant, Function: fn, CreatedAt: old.Add(time.Duration(i) * time.Second)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	fresh, _, _ := s.CreateInvocation(&Invocation{Tenant: "b", Function: "f1"})
	stale, err := s.ScanStale(invocation.StatusPending, time.Now().Add(-time.Minute), 100)
	if err != nil || len(stale) != 6 {
		t.Fatalf("stale = %d, %v", len(stale), err)
	}
	for _, inv := range stale {
		if inv.ID == fresh.ID {
			t.Fatal("fresh invocation reported stale")
		}
	}
	if got, _ := s.ScanStale(invocation.StatusPending, time.Now(), 4); len(got) != 4 {
		t.Fatalf("limit ignored: %d", len(got))
	}
	got, _ := s.ListInvocations("b", InvocationFilter{Function: "f1"})
	if len(got) != 2 || got[0].ID != fresh.ID {
		t.Fatalf("function filter newest-first: %v", got)
	}
	all, _ := s.ListInvocations("b", InvocationFilter{Limit: 2})
	if len(all) != 2 || all[0].ID != fresh.ID {
		t.Fatalf("list all: %v", all)
	}
}

func TestIdempotency(t *testing.T) {
	s := openT(t)
	first, created, err := s.CreateInvocation(&Invocation{Tenant: "a", Function: "f1", IdempotencyKey: "k1"})
	if err != nil || !created {
		t.Fatal(err)
	}
	again, created, err := s.CreateInvocation(&Invocation{Tenant: "a", Function: "f1", IdempotencyKey: "k1"})
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("same key made a new invocation: %v %v %v", again, created, err)
	}
	other, created, _ := s.CreateInvocation(&Invocation{Tenant: "b", Function: "f1", IdempotencyKey: "k1"})
	if !created || other.ID == first.ID {
		t.Fatal("idempotency key shared across tenants")
	}
	// An entry older than the TTL no longer matches and is pruned.
	b := s.db.NewBatch()
	setJSON(b, idemKey("a", "f1", "old"), idemEntry{InvocationID: "x", CreatedAt: time.Now().Add(-25 * time.Hour)})
	s.commit(b, "test")
	if _, ok, _ := s.GetIdempotent("a", "f1", "old"); ok {
		t.Fatal("expired key still matches")
	}
	if n, err := s.PruneIdempotency(); err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
}

func TestConcurrentDeploysGetDistinctVersions(t *testing.T) {
	s := openT(t)
	const n = 20
	got := make(chan int, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			v, err := s.CreateVersion("acme", "hello", bundle("m.ts", map[string]string{"m.ts": string(rune('a' + i))}), "dev")
			if err != nil {
				t.Error(err)
				got <- 0
				return
			}
			got <- v.Number
		}(i)
	}
	seen := map[int]bool{}
	for i := 0; i < n; i++ {
		seen[<-got] = true
	}
	if len(seen) != n || seen[0] {
		t.Fatalf("version numbers not distinct: %v", seen)
	}
	fn, _ := s.GetFunction("acme", "hello")
	if fn.Latest != n {
		t.Fatalf("latest = %d, want %d", fn.Latest, n)
	}
}

// TestClosedStoreRefusesCalls: after Close every call fails with ErrClosed (Pebble
// itself would panic), and calls under way finish first.
func TestClosedStoreRefusesCalls(t *testing.T) {
	s := openT(t)
	if _, err := s.CreateVersion("a", "f1", bundle("main.ts", map[string]string{"main.ts": "x"}), "dev"); err != nil {
		t.Fatal(err)
	}
	inv, _, err := s.CreateInvocation(&Invocation{Tenant: "a", Function: "f1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checks := map[string]error{}
	_, checks["GetFunction"] = s.GetFunction("a", "f1")
	_, checks["CreateVersion"] = s.CreateVersion("a", "f2", bundle("main.ts", map[string]string{"main.ts": "y"}), "dev")
	_, checks["UpdateInvocation"] = s.UpdateInvocation("a", inv.ID, func(i *Invocation) error { i.Status = invocation.StatusRunning; return nil })
	_, checks["ListInvocations"] = s.ListInvocations("a", InvocationFilter{})
	checks["DeleteIdempotent"] = s.DeleteIdempotent("a", "f1", "k")
	for name, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
