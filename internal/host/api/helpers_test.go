package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/store"
)

// env is a real API server on a loopback listener with a real store and authenticator.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	api   *api.Server
	store *store.Store
	auth  *auth.Authenticator
	admin string // admin token of tenant acme
}

func newEnv(t testing.TB, opts api.Options) *env {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.New(auth.Options{HS256Key: "test-key-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	s := api.New(opts, st, au, nil)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	e := &env{t: t, srv: srv, api: s, store: st, auth: au}
	e.admin = e.token("acme", auth.ScopeAdmin)
	return e
}

func (e *env) token(tenant string, scopes ...string) string {
	tok, err := e.auth.Issue("test", tenant, scopes, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// do sends body (a []byte is sent raw, anything else as JSON) and returns status and body.
func (e *env) do(method, path, token string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// expectError checks status and the error body's code and non-empty message/request id.
func (e *env) expectError(status int, body []byte, wantStatus int, wantCode string) {
	e.t.Helper()
	var eb wire.ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		e.t.Fatalf("error body %q: %v", body, err)
	}
	if status != wantStatus || eb.Error.Code != wantCode || eb.Error.Message == "" || eb.Error.RequestID == "" {
		e.t.Fatalf("got %d %s, want %d %s", status, body, wantStatus, wantCode)
	}
}

func files(n int, size int) map[string]string {
	m := map[string]string{}
	for i := 0; i < n; i++ {
		name := "main.ts"
		if i > 0 {
			name = fmt.Sprintf("lib/f%d.ts", i)
		}
		m[name] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{'a' + byte(i%26)}, size))
	}
	return m
}

func deployReq() *wire.DeployRequest {
	return &wire.DeployRequest{Runtime: "bun", Entry: "main.ts", Files: files(3, 100), Vars: map[string]string{"GREETING": "hi"}}
}
