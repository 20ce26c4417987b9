package mcp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	sdkmcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/store"
)

func (t *tools) addFunctionTools(s *sdkmcp.Server) {
	sdkmcp.AddTool(s, &sdkmcp.Tool{Name: "list_functions",
		Description: "List the deployed functions: name, description, runtime, latest version and aliases (environments such as dev and prod)."},
		t.listFunctions)
	sdkmcp.AddTool(s, &sdkmcp.Tool{Name: "describe_function",
		Description: "Describe one function: what it does, the JSON Schema of its input (when it declares one), runtime, aliases and recent versions."},
		t.describeFunction)
	sdkmcp.AddTool(s, &sdkmcp.Tool{Name: "deploy",
		Description: "Deploy a new version of a function from a map of file path to UTF-8 source. The new version becomes env dev (or env). Needs the deploy scope."},
		t.deploy)
	sdkmcp.AddTool(s, &sdkmcp.Tool{Name: "promote",
		Description: "Point an alias (default prod) at the version another alias (default dev) runs, or at a given version. Needs the deploy scope."},
		t.promote)
}

// FunctionSummary is one function in list_functions.
type FunctionSummary struct {
	Name          string         `json:"name"`
	Description   string         `json:"description,omitempty"`
	Runtime       string         `json:"runtime"`
	LatestVersion int            `json:"latest_version"`
	Aliases       map[string]int `json:"aliases"`
}

type noInput struct{}

func (t *tools) listFunctions(ctx context.Context, req *sdkmcp.CallToolRequest, _ noInput) (*sdkmcp.CallToolResult, any, error) {
	c, err := t.clientFor(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	fns, err := c.ListFunctions(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list functions: %w", err)
	}
	out := make([]FunctionSummary, 0, len(fns))
	for _, fn := range fns {
		sum := FunctionSummary{Name: fn.Name, LatestVersion: fn.Latest, Aliases: fn.Aliases}
		if vs, err := c.ListVersions(ctx, fn.Name); err == nil && len(vs) > 0 {
			sum.Runtime, sum.Description = vs[0].Runtime, vs[0].Description
		}
		out = append(out, sum)
	}
	return nil, map[string]any{"functions": out}, nil
}

type nameInput struct {
	Name string `json:"name" jsonschema:"the function's name"`
}

// Description is the answer of describe_function: the metadata of the version dev
// runs (the latest if there is no dev alias).
type Description struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
	Runtime     string          `json:"runtime"`
	Entry       string          `json:"entry"`
	Version     int             `json:"version"`
	Aliases     map[string]int  `json:"aliases"`
	Versions    []VersionBrief  `json:"versions"`
}

// VersionBrief is one recent version in describe_function.
type VersionBrief struct {
	Version   int       `json:"version"`
	Digest    string    `json:"digest"`
	CreatedAt time.Time `json:"created_at"`
}

const maxListedVersions = 10

func (t *tools) describeFunction(ctx context.Context, req *sdkmcp.CallToolRequest, in nameInput) (*sdkmcp.CallToolResult, any, error) {
	c, err := t.clientFor(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	fn, err := c.GetFunction(ctx, in.Name)
	if err != nil {
		return nil, nil, fmt.Errorf("describe %s: %w", in.Name, err)
	}
	vs, err := c.ListVersions(ctx, in.Name)
	if err != nil {
		return nil, nil, fmt.Errorf("describe %s: %w", in.Name, err)
	}
	d := Description{Name: fn.Name, Aliases: fn.Aliases, Versions: []VersionBrief{}}
	want, ok := fn.Aliases[store.DefaultEnv]
	if !ok {
		want = fn.Latest
	}
	for i, v := range vs {
		if v.Number == want {
			d.Description, d.InputSchema, d.Runtime, d.Entry, d.Version = v.Description, v.InputSchema, v.Runtime, v.Entry, v.Number
		}
		if i < maxListedVersions {
			d.Versions = append(d.Versions, VersionBrief{Version: v.Number, Digest: v.Digest, CreatedAt: v.CreatedAt})
		}
	}
	return nil, d, nil
}

type deployInput struct {
	Name        string            `json:"name" jsonschema:"function name: 2-63 of a-z, 0-9 and -, starting with a letter"`
	Runtime     string            `json:"runtime" jsonschema:"bun or python"`
	Entry       string            `json:"entry" jsonschema:"the file (a key of files) that exports the handler, e.g. index.ts or main.py"`
	Files       map[string]string `json:"files" jsonschema:"relative file path -> UTF-8 source"`
	Description string            `json:"description,omitempty" jsonschema:"what the function does, for people and agents"`
	InputSchema map[string]any    `json:"input_schema,omitempty" jsonschema:"optional JSON Schema of the function's input"`
	Vars        map[string]string `json:"vars,omitempty" jsonschema:"environment variables the function sees"`
	TimeoutMS   int               `json:"timeout_ms,omitempty" jsonschema:"per-invocation timeout in milliseconds (default: the host's)"`
	MemoryMB    int               `json:"memory_mb,omitempty" jsonschema:"memory limit in MiB (default: the host's)"`
	Env         string            `json:"env,omitempty" jsonschema:"alias to point at the new version (default dev)"`
}

func (t *tools) deploy(ctx context.Context, req *sdkmcp.CallToolRequest, in deployInput) (*sdkmcp.CallToolResult, any, error) {
	c, err := t.clientFor(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	dr := &wire.DeployRequest{Runtime: in.Runtime, Entry: in.Entry, Files: make(map[string]string, len(in.Files)),
		Description: in.Description, Vars: in.Vars, TimeoutMS: in.TimeoutMS, MemoryMB: in.MemoryMB, Env: in.Env}
	for p, src := range in.Files {
		dr.Files[p] = base64.StdEncoding.EncodeToString([]byte(src))
	}
	if in.InputSchema != nil {
		if dr.InputSchema, err = json.Marshal(in.InputSchema); err != nil {
			return nil, nil, fmt.Errorf("deploy %s: input_schema: %w", in.Name, err)
		}
	}
	v, err := c.Deploy(ctx, in.Name, dr)
	if err != nil {
		return nil, nil, fmt.Errorf("deploy %s: %w", in.Name, err)
	}
	return nil, map[string]any{"function": in.Name, "version": v.Number, "digest": v.Digest, "alias": v.Alias}, nil
}

type promoteInput struct {
	Name    string `json:"name" jsonschema:"the function's name"`
	From    string `json:"from,omitempty" jsonschema:"alias whose version is promoted (default dev; ignored with version)"`
	To      string `json:"to,omitempty" jsonschema:"alias to set (default prod)"`
	Version int    `json:"version,omitempty" jsonschema:"promote this version number instead of from's"`
}

func (t *tools) promote(ctx context.Context, req *sdkmcp.CallToolRequest, in promoteInput) (*sdkmcp.CallToolResult, any, error) {
	c, err := t.clientFor(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	from, to, n := in.From, in.To, in.Version
	if from == "" {
		from = store.DefaultEnv
	}
	if to == "" {
		to = "prod"
	}
	if n == 0 {
		fn, err := c.GetFunction(ctx, in.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("promote %s: %w", in.Name, err)
		}
		var ok bool
		if n, ok = fn.Aliases[from]; !ok {
			return nil, nil, fmt.Errorf("promote %s: it has no %q alias (aliases: %s); give from or version", in.Name, from, aliasList(fn.Aliases))
		}
	}
	fn, err := c.SetAlias(ctx, in.Name, to, n)
	if err != nil {
		return nil, nil, fmt.Errorf("promote %s: %w", in.Name, err)
	}
	return nil, map[string]any{"function": in.Name, "alias": to, "version": n, "aliases": fn.Aliases}, nil
}

func aliasList(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	out := ""
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s=%d", k, m[k])
	}
	return out
}
