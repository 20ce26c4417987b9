package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sous-run/sous/internal/testenv"
)

// TestMCP drives the MCP tools with the SDK's own client against a real `sous dev`,
// over stdio (`sous mcp`, which finds host and token like the CLI) and over
// Streamable HTTP at /mcp with a bearer token: list, describe, invoke in dev (logs)
// and prod (none) with chunks as progress, a failing function, and a token without
// the scope a tool needs.
func TestMCP(t *testing.T) {
	dataDir := t.TempDir() + "/.sous"
	h := startDev(t, dataDir, "configs/sous.yaml")
	readOnly := strings.TrimSpace(must1(h.must("token", "create", "--scopes", "read", "--ttl", "1h")))
	admin := strings.TrimSpace(readFile(t, dataDir+"/auth/admin.token"))

	transports := map[string]func(token string) sdkmcp.Transport{
		"stdio": func(token string) sdkmcp.Transport {
			cmd := exec.Command(h.sous, "mcp", "--data-dir", dataDir)
			cmd.Dir = testenv.RepoRoot()
			if token != admin {
				cmd.Args = append(cmd.Args, "--token", token)
			}
			cmd.Stderr = os.Stderr
			return &sdkmcp.CommandTransport{Command: cmd}
		},
		"http": func(token string) sdkmcp.Transport {
			return &sdkmcp.StreamableClientTransport{Endpoint: h.api + "/mcp",
				HTTPClient: &http.Client{Transport: bearer{token: token}}, MaxRetries: -1}
		},
	}
	for name, dial := range transports {
		t.Run(name, func(t *testing.T) {
			mc := &mcpClient{t: t}
			s := mc.connect(dial(admin))
			fns := mc.call(s, "list_functions", nil, false)
			if !strings.Contains(fns, `"name":"stream-bun"`) || !strings.Contains(fns, "Streams the words") {
				t.Errorf("list_functions: %s", fns)
			}
			if d := mc.call(s, "describe_function", map[string]any{"name": "hello-bun"}, false); !strings.Contains(d, `"input_schema":{"properties":{"name"`) {
				t.Errorf("describe_function hello-bun has no input schema: %s", d)
			}

			dev := mc.call(s, "invoke", map[string]any{"name": "chatty", "input": map[string]any{"lines": 2}}, false)
			if !strings.Contains(dev, `"logs":[`) || !strings.Contains(dev, "debug line 1") || !strings.Contains(dev, `"stream":"stderr"`) {
				t.Errorf("invoke chatty in dev has no logs: %s", dev)
			}
			mc.call(s, "promote", map[string]any{"name": "chatty"}, false)
			prod := mc.call(s, "invoke", map[string]any{"name": "chatty", "env": "prod", "input": map[string]any{"lines": 2}}, false)
			if strings.Contains(prod, "logs") || strings.Contains(prod, "debug line") || !strings.Contains(prod, `"env":"prod"`) {
				t.Errorf("invoke chatty in prod leaked logs: %s", prod)
			}

			out := mc.call(s, "invoke", map[string]any{"name": "stream-python", "input": map[string]any{"n": 3}}, false)
			if !strings.Contains(out, `"output":{"sum":6}`) || !strings.Contains(out, `"chunks":[{"i":1`) {
				t.Errorf("invoke stream-python: %s", out)
			}
			if got := mc.progressMessages(3); len(got) != 3 || !strings.Contains(got[0], `"running_total":1`) {
				t.Errorf("progress notifications: %q, want one per chunk", got)
			}

			failed := mc.call(s, "invoke", map[string]any{"name": "fails"}, true)
			if !strings.Contains(failed, "fails failed (user): Error: something went wrong on purpose at index.ts:5") {
				t.Errorf("failing function's tool error: %s", failed)
			}
			id := mc.lastInvocationID
			if rec := mc.call(s, "get_invocation", map[string]any{"invocation_id": id}, false); !strings.Contains(rec, `"status":"failed"`) {
				t.Errorf("get_invocation %s: %s", id, rec)
			}
			if logs := mc.call(s, "get_logs", map[string]any{"invocation_id": id}, false); !strings.Contains(logs, "about to fail") {
				t.Errorf("get_logs %s: %s", id, logs)
			}

			ro := mc.connect(dial(readOnly))
			if fns := mc.call(ro, "list_functions", nil, false); !strings.Contains(fns, "chatty") {
				t.Errorf("read token cannot list: %s", fns)
			}
			for _, c := range []struct{ tool, scope string }{{"invoke", "invoke"}, {"deploy", "deploy"}, {"promote", "deploy"}} {
				args := map[string]any{"name": "hello-bun", "version": 1}
				if c.tool == "deploy" {
					args = map[string]any{"name": "sneaky", "runtime": "bun", "entry": "a.ts", "files": map[string]string{"a.ts": "export default () => 1"}}
				}
				if msg := mc.call(ro, c.tool, args, true); !strings.Contains(msg, "this token lacks the "+c.scope+" scope") {
					t.Errorf("%s with a read-only token: %s", c.tool, msg)
				}
			}
		})
	}

	// Without a valid bearer token the HTTP endpoint answers 401 before any MCP.
	for _, tok := range []string{"", "not-a-jwt"} {
		req, _ := http.NewRequest("POST", h.api+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("/mcp with token %q: HTTP %d, want 401", tok, resp.StatusCode)
		}
	}
}

// mcpClient is an SDK client that records progress notifications.
type mcpClient struct {
	t                *testing.T
	mu               sync.Mutex
	progress         []string
	lastInvocationID string
}

func (m *mcpClient) connect(tr sdkmcp.Transport) *sdkmcp.ClientSession {
	m.t.Helper()
	c := sdkmcp.NewClient(&sdkmcp.Implementation{Name: "e2e", Version: "1"}, &sdkmcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *sdkmcp.ProgressNotificationClientRequest) {
			m.mu.Lock()
			m.progress = append(m.progress, req.Params.Message)
			m.mu.Unlock()
		}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := c.Connect(ctx, tr, nil)
	if err != nil {
		m.t.Fatalf("connect: %v", err)
	}
	m.t.Cleanup(func() { _ = s.Close() })
	return s
}

// progressMessages waits (briefly) for n progress messages, then returns and clears
// those received: the client may handle a notification after the call returns.
func (m *mcpClient) progressMessages(n int) []string {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		m.mu.Lock()
		got := len(m.progress)
		m.mu.Unlock()
		if got >= n {
			break
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.progress
	m.progress = nil
	return p
}

// call runs a tool with a progress token and returns its text content; it fails the
// test unless IsError is wantErr.
func (m *mcpClient) call(s *sdkmcp.ClientSession, tool string, args map[string]any, wantErr bool) string {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	params := &sdkmcp.CallToolParams{Name: tool, Arguments: args}
	params.SetProgressToken("p-" + tool)
	res, err := s.CallTool(ctx, params)
	if err != nil {
		m.t.Fatalf("%s: protocol error %v", tool, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdkmcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	if res.IsError != wantErr {
		m.t.Fatalf("%s: IsError=%v, want %v: %s", tool, res.IsError, wantErr, text.String())
	}
	if sc, err := json.Marshal(res.StructuredContent); err == nil {
		var v struct {
			ID string `json:"invocation_id"`
		}
		if json.Unmarshal(sc, &v) == nil && v.ID != "" {
			m.lastInvocationID = v.ID
		}
	}
	return text.String()
}

// bearer adds a bearer token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func must1(s, _ string) string { return s }

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
