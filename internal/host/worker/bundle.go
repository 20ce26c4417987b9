package worker

import (
	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/store"
)

// bundleOf is the bundle an API body describes.
func bundleOf(b *wire.Bundle) *store.Bundle {
	return &store.Bundle{Runtime: b.Runtime, Entry: b.Entry, Vars: b.Vars, TimeoutMS: b.TimeoutMS, MemoryMB: b.MemoryMB,
		Network: b.Network, Files: b.Files, Meta: store.Meta(b.Meta)}
}
