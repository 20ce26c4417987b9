package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/auth"
)

// TestSchedulesAreTenantScoped: one tenant's schedules and webhook secret are
// invisible to another, and each tenant has its own secret.
func TestSchedulesAreTenantScoped(t *testing.T) {
	e := newEnv(t, api.Options{})
	e.api.MountTriggers(api.Triggers{})
	other := e.token("globex", auth.ScopeAdmin)
	for _, tok := range []string{e.admin, other} {
		if code, body := e.do("POST", "/v1/functions/greet/versions", tok, deployReq()); code != http.StatusCreated {
			t.Fatalf("deploy: %d %s", code, body)
		}
	}
	code, body := e.do("PUT", "/v1/functions/greet/schedules/nightly", e.admin, wire.ScheduleRequest{Cron: "0 3 * * *", Timezone: "Europe/Paris"})
	if code != http.StatusCreated {
		t.Fatalf("put: %d %s", code, body)
	}
	var sc wire.Schedule
	_ = json.Unmarshal(body, &sc)
	if sc.NextRun == nil || sc.NextRun.In(mustLoc(t, "Europe/Paris")).Hour() != 3 {
		t.Fatalf("next run of 0 3 * * * in Paris: %+v", sc)
	}
	if code, _ := e.do("PUT", "/v1/functions/greet/schedules/nightly", e.admin, wire.ScheduleRequest{Cron: "0 4 * * *"}); code != http.StatusOK {
		t.Fatalf("replace: %d", code)
	}
	code, body = e.do("GET", "/v1/functions/greet/schedules/nightly", other, nil)
	e.expectError(code, body, http.StatusNotFound, "not_found")
	code, body = e.do("DELETE", "/v1/functions/greet/schedules/nightly", other, nil)
	e.expectError(code, body, http.StatusNotFound, "not_found")
	if _, body := e.do("GET", "/v1/schedules", other, nil); !strings.Contains(string(body), `"schedules":[]`) {
		t.Fatalf("another tenant lists %s", body)
	}
	_, a := e.do("GET", "/v1/webhooks/secret", e.admin, nil)
	_, b := e.do("GET", "/v1/webhooks/secret", other, nil)
	_, a2 := e.do("GET", "/v1/webhooks/secret", e.admin, nil)
	if string(a) == string(b) || string(a) != string(a2) || !strings.Contains(string(a), "whsec_") {
		t.Fatalf("secrets: %s / %s / %s", a, b, a2)
	}
	code, body = e.do("GET", "/v1/webhooks/secret", e.token("acme", auth.ScopeDeploy, auth.ScopeRead), nil)
	e.expectError(code, body, http.StatusForbidden, "forbidden")
	code, body = e.do("PUT", "/v1/functions/greet/schedules/Bad_Id", e.admin, wire.ScheduleRequest{Cron: "@daily"})
	e.expectError(code, body, http.StatusBadRequest, "invalid_id")
	if code, _ := e.do("DELETE", "/v1/functions/greet/schedules/nightly", e.admin, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
