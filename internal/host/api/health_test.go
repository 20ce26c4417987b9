package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/host/api"
)

func TestHealthReadyMetrics(t *testing.T) {
	ready := errors.New("messaging plugin not healthy")
	e := newEnv(t, api.Options{Ready: func(context.Context) error { return ready }})
	if st, _ := e.do("GET", "/healthz", "", nil); st != 200 {
		t.Fatalf("healthz %d", st)
	}
	st, body := e.do("GET", "/readyz", "", nil)
	e.expectError(st, body, http.StatusServiceUnavailable, "not_ready")
	ready = nil
	if st, _ := e.do("GET", "/readyz", "", nil); st != 200 {
		t.Fatalf("readyz after recovery %d", st)
	}
	e.api.SetReady(func(context.Context) error { return errors.New("replaced check") })
	if st, body := e.do("GET", "/readyz", "", nil); st != 503 || !strings.Contains(string(body), "replaced check") {
		t.Fatalf("SetReady ignored: %d %s", st, body)
	}
	e.do("GET", "/v1/functions", "", nil) // a 401 to count
	_, body = e.do("GET", "/metrics", "", nil)
	for _, want := range []string{
		`sous_http_requests_total{code="401",method="GET",route="/v1/functions"} 1`,
		`sous_http_request_duration_seconds_bucket`,
		`sous_deploys_total 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	st, body = e.do("GET", "/nope", "", nil)
	e.expectError(st, body, 404, "not_found")
}

func TestRequestIDAndRoute(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.api.Route("GET", "/v1/echo", "invoke", func(w http.ResponseWriter, r *http.Request) {
		api.WriteJSON(w, 200, map[string]string{"tenant": api.Principal(r.Context()).Tenant, "rid": api.RequestID(r.Context())})
	})
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/echo", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	req.Header.Set("Authorization", "Bearer "+e.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-Id") != "abc-123" || resp.StatusCode != 200 {
		t.Fatalf("request id not echoed: %v %d", resp.Header, resp.StatusCode)
	}
}
