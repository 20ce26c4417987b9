package api

import (
	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/sdk/envelope"
)

// Collector builds the buffered JSON answer of an invocation (wire.InvokeResult) from
// its events, exactly as the invoke endpoint does for a caller that did not ask for
// SSE. The MCP server uses it to relay chunks live and still answer that contract.
type Collector struct{ acc *accumulator }

// NewCollector starts a result for invocation id run in env (logs kept only in dev).
func NewCollector(id, env string) *Collector { return &Collector{newAccumulator(id, env)} }

// Add folds one event into the result.
func (c *Collector) Add(e *envelope.Envelope) { c.acc.add(e) }

// Result is the answer so far (final once done was added).
func (c *Collector) Result() *wire.InvokeResult { return &c.acc.res }
