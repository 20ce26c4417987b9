// Package mcp is Sous's Model Context Protocol server (official Go SDK): tools to
// list, describe, deploy, promote and invoke functions and to read invocations.
// Every tool calls the host's HTTP API through a internal/host/client.Client, so tokens,
// scopes, tenants, validation and the dev-log gate are those of the API itself:
// `sous mcp` (stdio) reaches the host over the network like the CLI; the host's
// /mcp endpoint (Streamable HTTP) serves the same client from its own API handler
// in-process (see inproc.go).
package mcp

import (
	"context"

	sdkmcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sous-run/sous/internal/host/client"
)

// ClientFunc returns the API client a tool call acts through (its token decides
// the tenant and scopes).
type ClientFunc func(ctx context.Context, req *sdkmcp.CallToolRequest) (*client.Client, error)

// Version is the server version reported to MCP clients.
const Version = "1"

// New returns an MCP server whose tools act through clientFor.
func New(clientFor ClientFunc) *sdkmcp.Server {
	s := sdkmcp.NewServer(&sdkmcp.Implementation{Name: "sous", Title: "Sous functions", Version: Version},
		&sdkmcp.ServerOptions{Instructions: instructions})
	t := &tools{clientFor: clientFor}
	t.addFunctionTools(s)
	t.addInvocationTools(s)
	return s
}

const instructions = `Sous runs Bun (JavaScript/TypeScript) and Python functions.
list_functions shows what is deployed; describe_function gives one function's description and input schema.
invoke runs a function and answers {output, chunks, error, logs} (logs only in env dev); chunks also arrive as progress notifications.
invoke_async returns an invocation id at once; read it with get_invocation and get_logs.
deploy uploads a new version from a files map (it becomes env dev); promote points prod at what dev runs.`

// tools holds the handlers; each finds its client through clientFor.
type tools struct {
	clientFor ClientFunc
}
