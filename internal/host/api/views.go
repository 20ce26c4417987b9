package api

import (
	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/store"
)

// The API answers with wire types; these convert the store's records to them. Types
// whose fields match the record's one for one convert directly, so a field added to
// the record and not to the body fails to compile here.

func functionView(f *store.Function) *wire.Function { return (*wire.Function)(f) }

func functionViews(fs []*store.Function) []*wire.Function { return views(fs, functionView) }

// VersionView is the API body of a version.
func VersionView(v *store.Version) *wire.Version {
	return &wire.Version{Function: v.Function, Number: v.Number, Digest: v.Digest, Settings: wire.Settings{Runtime: v.Runtime,
		Entry: v.Entry, Vars: v.Vars, TimeoutMS: v.TimeoutMS, MemoryMB: v.MemoryMB, Network: v.Network},
		Files: v.Files, Size: v.Size, CreatedAt: v.CreatedAt, Meta: wire.Meta(v.Meta)}
}

func bundleView(b *store.Bundle) *wire.Bundle {
	return &wire.Bundle{Settings: wire.Settings{Runtime: b.Runtime, Entry: b.Entry, Vars: b.Vars, TimeoutMS: b.TimeoutMS,
		MemoryMB: b.MemoryMB, Network: b.Network}, Files: b.Files, Meta: wire.Meta(b.Meta)}
}

func invocationView(r *store.Invocation) *wire.Invocation {
	return &wire.Invocation{ID: r.ID, Tenant: r.Tenant, Function: r.Function, Version: r.Version, Digest: r.Digest, Env: r.Env,
		Status: r.Status, Input: r.Input, Output: r.Output, Error: r.Error, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, DurationMS: r.DurationMS, Attempts: r.Attempts, IdempotencyKey: r.IdempotencyKey,
		Trigger: r.Trigger, TickAt: r.TickAt, Callback: (*wire.Callback)(r.Callback)}
}

// views converts each element of a list.
func views[S, W any](in []*S, view func(*S) *W) []*W {
	if in == nil {
		return nil // null on the wire, as before
	}
	out := make([]*W, len(in))
	for i, s := range in {
		out[i] = view(s)
	}
	return out
}
