package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
)

// sameJSON fails unless the API body encodes exactly as the record did before the
// API had its own types (the store record was the body then).
func sameJSON(t *testing.T, what string, record, body any) {
	t.Helper()
	a, err := json.Marshal(record)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("%s body differs from the record:\nrecord %s\nbody   %s", what, a, b)
	}
}

func TestViewsEncodeAsTheRecords(t *testing.T) {
	now := time.Date(2026, 12, 3, 7, 0, 0, 123456789, time.UTC)
	later := now.Add(time.Second)
	meta := store.Meta{Description: "adds", InputSchema: json.RawMessage(`{"type":"object"}`)}
	for _, rec := range []*store.Invocation{
		{ID: "i1", Tenant: "acme", Function: "f", Version: 2, CreatedAt: now},
		{ID: "i2", Tenant: "acme", Function: "f", Version: 2, Digest: "d", Env: "dev", Status: invocation.StatusFailed,
			Input: json.RawMessage(`{"a":1}`), Output: json.RawMessage(`3`),
			Error:     &invocation.ErrorInfo{Kind: "user", Message: "m", Stack: "s"},
			CreatedAt: now, StartedAt: &now, FinishedAt: &later, DurationMS: 9, Attempts: 2, IdempotencyKey: "k",
			Trigger: "schedule:x", TickAt: &now, Callback: &store.Callback{URL: "http://h", Status: store.CallbackFailed,
				Attempts: 3, LastError: "e", LastStatus: 500, NextAt: &later, DeliveredAt: &later}},
	} {
		sameJSON(t, "invocation "+rec.ID, rec, invocationView(rec))
	}
	for _, v := range []*store.Version{
		{Function: "f", Number: 1, CreatedAt: now},
		{Function: "f", Number: 2, Digest: "d", Runtime: "bun", Entry: "e", Vars: map[string]string{"A": "b"}, TimeoutMS: 1,
			MemoryMB: 2, Network: "outbound", Files: 3, Size: 4, CreatedAt: now, Meta: meta},
	} {
		sameJSON(t, "version", v, VersionView(v))
	}
	for _, f := range []*store.Function{{Name: "f", CreatedAt: now}, {Tenant: "t", Name: "f", Latest: 2,
		Aliases: map[string]int{"dev": 2}, CreatedAt: now, UpdatedAt: later, DeletedAt: &later}} {
		sameJSON(t, "function", f, functionView(f))
	}
	for _, b := range []*store.Bundle{{Runtime: "bun"}, {Runtime: "bun", Entry: "e", Vars: map[string]string{"A": "b"},
		TimeoutMS: 1, MemoryMB: 2, Network: "host", Files: map[string][]byte{"a.js": []byte("x")}, Meta: meta}} {
		sameJSON(t, "bundle", b, bundleView(b))
	}
	var none []*store.Invocation
	sameJSON(t, "empty list", none, views(none, invocationView))
}
