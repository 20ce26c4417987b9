package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/sdk"
)

// OutputLimits are the per-invocation caps the host sets on every function.
type OutputLimits struct {
	MaxResultBytes int64
	MaxLogBytes    int64
}

// SpecOf turns a stored bundle into the executor's function spec.
func SpecOf(digest, function string, b *store.Bundle, lim OutputLimits) sdk.FunctionSpec {
	return sdk.FunctionSpec{
		Digest: digest, Runtime: b.Runtime, Entry: b.Entry, Files: b.Files, Vars: b.Vars, Function: function, Network: b.Network,
		Limits: sdk.Limits{Timeout: time.Duration(b.TimeoutMS) * time.Millisecond, MemoryMB: int64(b.MemoryMB),
			MaxResultBytes: lim.MaxResultBytes, MaxLogBytes: lim.MaxLogBytes},
	}
}

// StoreSpecs reads bundles from the host's own store (a worker in the same process).
type StoreSpecs struct {
	Store  *store.Store
	Limits OutputLimits
}

// Spec returns the spec of a digest from the store.
func (s StoreSpecs) Spec(_ context.Context, tenant, digest string) (sdk.FunctionSpec, error) {
	b, err := s.Store.GetBundle(tenant, digest)
	if err != nil {
		return sdk.FunctionSpec{}, fmt.Errorf("bundle %s: %w", digest, err)
	}
	return SpecOf(digest, "", b, s.Limits), nil
}

// HTTPSpecs fetches bundles from the control role (GET /v1/bundles/{digest}, worker
// token) and caches them on disk by digest; a cached bundle whose content no longer
// matches its digest is fetched again.
type HTTPSpecs struct {
	Client   *client.Client
	CacheDir string
	Limits   OutputLimits
	mu       sync.Mutex
}

// Spec returns the spec of a digest, from the disk cache or the control role.
func (h *HTTPSpecs) Spec(ctx context.Context, tenant, digest string) (sdk.FunctionSpec, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	file := filepath.Join(h.CacheDir, tenant, digest+".json")
	if raw, err := os.ReadFile(file); err == nil {
		var b store.Bundle
		if json.Unmarshal(raw, &b) == nil && b.Digest() == digest {
			return SpecOf(digest, "", &b, h.Limits), nil
		}
	}
	wb, err := h.Client.GetBundle(ctx, digest, tenant)
	if err != nil {
		return sdk.FunctionSpec{}, fmt.Errorf("fetch bundle %s from the control role: %w", digest, err)
	}
	b := bundleOf(wb)
	if got := b.Digest(); got != digest {
		return sdk.FunctionSpec{}, fmt.Errorf("bundle %s: the control role sent content with digest %s", digest, got)
	}
	if raw, err := json.Marshal(b); err == nil {
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err == nil {
			_ = os.WriteFile(file, raw, 0o600)
		}
	}
	return SpecOf(digest, "", b, h.Limits), nil
}

// StoreDeployed lists the deployed functions from the host's own store.
func StoreDeployed(st *store.Store) Deployed {
	return func(context.Context) ([]invocation.FunctionRef, error) {
		fns, err := st.DeployedFunctions()
		if err != nil {
			return nil, err
		}
		out := make([]invocation.FunctionRef, len(fns))
		for i, f := range fns {
			out[i] = invocation.FunctionRef{Tenant: f.Tenant, Name: f.Name}
		}
		return out, nil
	}
}
