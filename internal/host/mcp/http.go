package mcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	sdkmcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/client"
)

// tokenKey is where the verified bearer token travels in TokenInfo.Extra.
const tokenKey = "sous_token"

// sessionIdle closes MCP sessions idle this long.
const sessionIdle = 30 * time.Minute

// HTTPHandler serves MCP over Streamable HTTP (mount it at /mcp). Every request
// needs `Authorization: Bearer <token>`, checked by au (401 otherwise); a session
// stays bound to the tenant and subject that opened it. Each tool call runs as the
// request's token through api, the host's own API handler, in-process.
func HTTPHandler(api http.Handler, au *auth.Authenticator) http.Handler {
	inproc := &http.Client{Transport: handlerTransport{h: api}}
	srv := New(func(_ context.Context, req *sdkmcp.CallToolRequest) (*client.Client, error) {
		var tok string
		if ti := req.Extra.TokenInfo; ti != nil {
			tok, _ = ti.Extra[tokenKey].(string)
		}
		if tok == "" {
			return nil, errors.New("no bearer token on this request")
		}
		return &client.Client{BaseURL: "http://sous.internal", Token: tok, HTTP: inproc}, nil
	})
	h := sdkmcp.NewStreamableHTTPHandler(func(*http.Request) *sdkmcp.Server { return srv },
		&sdkmcp.StreamableHTTPOptions{SessionTimeout: sessionIdle})
	verify := func(_ context.Context, token string, _ *http.Request) (*sdkauth.TokenInfo, error) {
		p, err := au.Verify(token)
		if err != nil {
			return nil, fmt.Errorf("%w: %v; send `Authorization: Bearer <token>` (sous token create, or .sous/auth/admin.token)", sdkauth.ErrInvalidToken, err)
		}
		return &sdkauth.TokenInfo{Scopes: p.Scopes, UserID: p.Tenant + "/" + p.Subject, Extra: map[string]any{tokenKey: token}}, nil
	}
	// The host's Verify has already checked exp; the SDK need not find it again.
	return sdkauth.RequireBearerToken(verify, &sdkauth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
}
