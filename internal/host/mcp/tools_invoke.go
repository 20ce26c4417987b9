package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	sdkmcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
	"github.com/sous-run/sous/sdk/envelope"
)

func (t *tools) addInvocationTools(s *sdkmcp.Server) {
	sdkmcp.AddTool(s, &sdkmcp.Tool{Name: "invoke",
		Description: "Run a function and wait for it. Answers {invocation_id, status, output, chunks, error, duration_ms, attempts, logs}; " +
			"logs (its print/console output) only in env dev. Streamed chunks are also sent as progress notifications. Needs the invoke scope."},
		t.invoke)
	sdkmcp.AddTool(s, &sdkmcp.Tool{Name: "invoke_async",
		Description: "Queue a function run and return its invocation id at once; read it later with get_invocation and get_logs. Needs the invoke scope."},
		t.invokeAsync)
	sdkmcp.AddTool(s, &sdkmcp.Tool{Name: "get_invocation",
		Description: "The record of one invocation: function, version, env, status, output or error, timings, attempts."},
		t.getInvocation)
	sdkmcp.AddTool(s, &sdkmcp.Tool{Name: "get_logs",
		Description: "The log lines (stdout/stderr) and chunks of one invocation. Logs exist only for env dev and are kept for a few minutes."},
		t.getLogs)
}

type invokeInput struct {
	Name    string `json:"name" jsonschema:"the function's name"`
	Input   any    `json:"input,omitempty" jsonschema:"the function's input, any JSON value (describe_function shows its schema)"`
	Env     string `json:"env,omitempty" jsonschema:"alias to run: dev (default; returns logs) or prod (no logs)"`
	Version int    `json:"version,omitempty" jsonschema:"run this version number instead of an alias"`
}

func (in *invokeInput) options() (client.InvokeOptions, []byte, string, error) {
	data, err := json.Marshal(in.Input)
	if err != nil {
		return client.InvokeOptions{}, nil, "", fmt.Errorf("input: %w", err)
	}
	env := in.Env
	if env == "" && in.Version == 0 {
		env = store.DefaultEnv
	}
	return client.InvokeOptions{Env: in.Env, Version: in.Version}, data, env, nil
}

// invoke runs the function over the API's event stream, relays each chunk as a
// progress notification and answers the buffered contract (api.Collector). A
// function's own error is a tool error whose text says kind, message and line.
func (t *tools) invoke(ctx context.Context, req *sdkmcp.CallToolRequest, in invokeInput) (*sdkmcp.CallToolResult, any, error) {
	c, err := t.clientFor(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	opts, input, env, err := in.options()
	if err != nil {
		return nil, nil, fmt.Errorf("invoke %s: %w", in.Name, err)
	}
	var col *api.Collector
	progress := req.Params.GetProgressToken()
	chunks := 0
	id, err := c.InvokeEvents(ctx, in.Name, input, opts, func(ev client.Event) error {
		if col == nil {
			col = api.NewCollector("", env)
		}
		col.Add(ev.Envelope)
		if ev.Envelope.Type == envelope.TypeChunk && progress != nil {
			chunks++
			_ = req.Session.NotifyProgress(ctx, &sdkmcp.ProgressNotificationParams{
				ProgressToken: progress, Progress: float64(chunks), Message: string(ev.Envelope.Data)})
		}
		return nil
	})
	if err != nil {
		if id != "" {
			return nil, nil, fmt.Errorf("invoke %s: %w (invocation %s; get_invocation has its outcome)", in.Name, err, id)
		}
		return nil, nil, fmt.Errorf("invoke %s: %w", in.Name, err)
	}
	if col == nil {
		return nil, nil, errors.New("invoke " + in.Name + ": the host answered no events")
	}
	res := col.Result()
	res.InvocationID = id
	if res.Error != nil {
		return &sdkmcp.CallToolResult{IsError: true, Content: []sdkmcp.Content{&sdkmcp.TextContent{Text: failureMessage(in.Name, res)}}}, res, nil
	}
	return nil, res, nil
}

func (t *tools) invokeAsync(ctx context.Context, req *sdkmcp.CallToolRequest, in invokeInput) (*sdkmcp.CallToolResult, any, error) {
	c, err := t.clientFor(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	opts, input, _, err := in.options()
	if err != nil {
		return nil, nil, fmt.Errorf("invoke_async %s: %w", in.Name, err)
	}
	id, err := c.InvokeAsync(ctx, in.Name, input, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("invoke_async %s: %w", in.Name, err)
	}
	return nil, map[string]any{"invocation_id": id, "status": "pending"}, nil
}

type idInput struct {
	ID string `json:"invocation_id" jsonschema:"the invocation id (invoke and invoke_async return it)"`
}

func (t *tools) getInvocation(ctx context.Context, req *sdkmcp.CallToolRequest, in idInput) (*sdkmcp.CallToolResult, any, error) {
	c, err := t.clientFor(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	rec, err := c.Invocation(ctx, in.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("get invocation %s: %w", in.ID, err)
	}
	return nil, rec, nil
}

// Logs is the answer of get_logs.
type Logs struct {
	InvocationID string            `json:"invocation_id"`
	Env          string            `json:"env"`
	Status       string            `json:"status"`
	Logs         []LogLine         `json:"logs"`
	Chunks       []json.RawMessage `json:"chunks"`
	Note         string            `json:"note,omitempty"`
}

// LogLine is one line a function printed.
type LogLine struct {
	Stream string `json:"stream"`
	Text   string `json:"text"`
}

func (t *tools) getLogs(ctx context.Context, req *sdkmcp.CallToolRequest, in idInput) (*sdkmcp.CallToolResult, any, error) {
	c, err := t.clientFor(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	rec, err := c.Invocation(ctx, in.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("get logs of %s: %w", in.ID, err)
	}
	out := Logs{InvocationID: in.ID, Logs: []LogLine{}, Chunks: []json.RawMessage{}}
	out.Env, out.Status = rec.Env, string(rec.Status)
	err = c.Events(ctx, in.ID, "", false, func(ev client.Event) error {
		switch e := ev.Envelope; e.Type {
		case envelope.TypeLog:
			out.Logs = append(out.Logs, LogLine{Stream: e.Stream, Text: e.Text})
		case envelope.TypeChunk:
			out.Chunks = append(out.Chunks, e.Data)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("get logs of %s: %w", in.ID, err)
	}
	switch {
	case !invocation.ShowsLogs(out.Env):
		out.Note = fmt.Sprintf("logs are gated: this invocation ran in env %q and only dev keeps logs", out.Env)
	case len(out.Logs) == 0:
		out.Note = "no logs: the function printed nothing, or its events have expired (they are kept for a few minutes)"
	}
	return nil, out, nil
}
