package console_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/console"
	"github.com/sous-run/sous/internal/host/store"
)

type env struct {
	t    *testing.T
	srv  *httptest.Server
	cons *console.Console
	au   *auth.Authenticator
	st   *store.Store
}

func newEnv(t *testing.T) *env {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.New(auth.Options{HS256Key: "console-test-key-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	s := api.New(api.Options{}, st, au, nil)
	c := console.Mount(s)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &env{t: t, srv: srv, cons: c, au: au, st: st}
}

func (e *env) token(tenant string, scopes ...string) string {
	tok, err := e.au.Issue("t", tenant, scopes, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) do(method, path, token string, body string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// The assets carry a CSP that allows nothing from another origin and no inline
// script, and the page loads its script from a file.
func TestAssetsHeaders(t *testing.T) {
	e := newEnv(t)
	resp, body := e.do("GET", "/console/", "", "")
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") ||
		strings.Contains(csp, "unsafe") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("GET /console/: %d, CSP %q", resp.StatusCode, csp)
	}
	if !strings.Contains(body, `<script src="app.js" defer></script>`) || strings.Contains(body, "<script>") || strings.Contains(body, "http") {
		t.Fatalf("index.html must load only its own script, nothing inline or remote:\n%s", body)
	}
	for _, a := range []string{"/console/app.js", "/console/style.css"} {
		if resp, _ := e.do("GET", a, "", ""); resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: %d", a, resp.StatusCode)
		}
	}
}

// A sign-in link works once: the second use of the same code, and a made-up
// code, are refused with 401.
func TestSignInLinkOnce(t *testing.T) {
	e := newEnv(t)
	link := e.cons.SignInLink("the-token")
	code := link[strings.Index(link, "#signin=")+len("#signin="):]
	if len(code) != 64 {
		t.Fatalf("link %q", link)
	}
	body := `{"code":"` + code + `"}`
	resp, out := e.do("POST", "/console/api/signin", "", body)
	var got struct{ Token string }
	if resp.StatusCode != 200 || json.Unmarshal([]byte(out), &got) != nil || got.Token != "the-token" {
		t.Fatalf("first use: %d %s", resp.StatusCode, out)
	}
	for _, b := range []string{body, `{"code":"` + strings.Repeat("0", 64) + `"}`, `{"code":""}`} {
		if resp, out := e.do("POST", "/console/api/signin", "", b); resp.StatusCode != 401 || !strings.Contains(out, "used already or expired") {
			t.Errorf("signin %s: %d %s", b, resp.StatusCode, out)
		}
	}
}

// Files of a version need the read scope and come from the caller's tenant only.
func TestFilesScopeAndTenant(t *testing.T) {
	e := newEnv(t)
	b := &store.Bundle{Runtime: "bun", Entry: "index.ts", TimeoutMS: 1000, MemoryMB: 64,
		Files: map[string][]byte{"index.ts": []byte("export default () => 'secret-of-acme'"), "blob.bin": {0xff, 0xfe, 0}}}
	if _, err := e.st.CreateVersion("acme", "hello", b, "dev"); err != nil {
		t.Fatal(err)
	}
	path := "/console/api/functions/hello/versions/1/files"
	resp, out := e.do("GET", path, e.token("acme", auth.ScopeRead), "")
	if resp.StatusCode != 200 || !strings.Contains(out, "secret-of-acme") || !strings.Contains(out, `"path":"blob.bin","size":3,"binary":true`) {
		t.Fatalf("own files: %d %s", resp.StatusCode, out)
	}
	if resp, out := e.do("GET", path, e.token("other", auth.ScopeRead), ""); resp.StatusCode != 404 || strings.Contains(out, "secret") {
		t.Errorf("another tenant read acme's files: %d %s", resp.StatusCode, out)
	}
	if resp, _ := e.do("GET", path, e.token("acme", auth.ScopeInvoke), ""); resp.StatusCode != 403 {
		t.Errorf("invoke-only token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := e.do("GET", path, "", ""); resp.StatusCode != 401 {
		t.Errorf("no token: %d, want 401", resp.StatusCode)
	}
	if resp, out := e.do("GET", "/console/api/functions/hello/versions/x/files", e.token("acme", auth.ScopeRead), ""); resp.StatusCode != 400 || !bytes.Contains([]byte(out), []byte("version must be a number")) {
		t.Errorf("bad version: %d %s", resp.StatusCode, out)
	}
}

// The root URL a host prints sends a browser to the console; API clients keep the index.
func TestRootSendsBrowsersToTheConsole(t *testing.T) {
	e := newEnv(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", e.srv.URL+"/", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	res, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != console.Path {
		t.Fatalf("browser GET /: %d to %q, want 302 to %s", res.StatusCode, res.Header.Get("Location"), console.Path)
	}
	res, err = http.Get(e.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var idx api.Index
	if err := json.NewDecoder(res.Body).Decode(&idx); err != nil || res.StatusCode != http.StatusOK || idx.Name == "" {
		t.Fatalf("API GET /: %d %v %+v", res.StatusCode, err, idx)
	}
}
