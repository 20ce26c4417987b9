package client

import (
	"context"
	"net/url"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/invocation"
)

// Deploy uploads a new version of function name.
func (c *Client) Deploy(ctx context.Context, name string, req *wire.DeployRequest) (*wire.DeployResponse, error) {
	var out wire.DeployResponse
	return &out, c.Do(ctx, "POST", "/v1/functions/"+url.PathEscape(name)+"/versions", req, &out)
}

// ListFunctions lists the caller's functions.
func (c *Client) ListFunctions(ctx context.Context) ([]*wire.Function, error) {
	var out wire.FunctionList
	return out.Functions, c.Do(ctx, "GET", "/v1/functions", nil, &out)
}

// GetFunction returns one function with its aliases.
func (c *Client) GetFunction(ctx context.Context, name string) (*wire.Function, error) {
	var out wire.Function
	return &out, c.Do(ctx, "GET", "/v1/functions/"+url.PathEscape(name), nil, &out)
}

// DeleteFunction soft-deletes a function.
func (c *Client) DeleteFunction(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", "/v1/functions/"+url.PathEscape(name), nil, nil)
}

// ListVersions lists a function's versions, newest first.
func (c *Client) ListVersions(ctx context.Context, name string) ([]*wire.Version, error) {
	var out wire.VersionList
	return out.Versions, c.Do(ctx, "GET", "/v1/functions/"+url.PathEscape(name)+"/versions", nil, &out)
}

// SetAlias points alias (e.g. "prod") at version n and returns the function.
func (c *Client) SetAlias(ctx context.Context, name, alias string, n int) (*wire.Function, error) {
	var out wire.Function
	path := "/v1/functions/" + url.PathEscape(name) + "/aliases/" + url.PathEscape(alias)
	return &out, c.Do(ctx, "PUT", path, wire.AliasRequest{Version: n}, &out)
}

// GetBundle fetches a bundle by digest (worker scope); tenant "" means the token's own.
func (c *Client) GetBundle(ctx context.Context, digest, tenant string) (*wire.Bundle, error) {
	path := "/v1/bundles/" + url.PathEscape(digest)
	if tenant != "" {
		path += "?tenant=" + url.QueryEscape(tenant)
	}
	var out wire.Bundle
	return &out, c.Do(ctx, "GET", path, nil, &out)
}

// DeployedFunctions lists every deployed function of every tenant (worker scope).
func (c *Client) DeployedFunctions(ctx context.Context) ([]invocation.FunctionRef, error) {
	var out wire.DeployedList
	return out.Functions, c.Do(ctx, "GET", "/v1/worker/functions", nil, &out)
}
