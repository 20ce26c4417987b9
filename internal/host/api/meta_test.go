package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/api/wire"
)

// A deploy keeps a function's description and input schema on the version and in
// the digest, and refuses a schema that cannot validate anything, naming the key.
func TestDeployMeta(t *testing.T) {
	e := newEnv(t, api.Options{})
	plain := deployReq()
	_, body := e.do("POST", "/v1/functions/hello/versions", e.admin, plain)
	v0 := decodeT[wire.DeployResponse](t, body)

	req := deployReq()
	req.Description = "Greets a name."
	req.InputSchema = json.RawMessage(`{"type": "object", "properties": {"name": {"type": "string"}}}`)
	st, body := e.do("POST", "/v1/functions/hello/versions", e.admin, req)
	if st != http.StatusCreated {
		t.Fatalf("deploy with meta: %d %s", st, body)
	}
	v1 := decodeT[wire.DeployResponse](t, body)
	if v1.Description != "Greets a name." || string(v1.InputSchema) != `{"type":"object","properties":{"name":{"type":"string"}}}` {
		t.Fatalf("meta not kept: %+v", v1)
	}
	if v1.Digest == v0.Digest {
		t.Fatal("metadata must be part of the digest")
	}
	_, body = e.do("GET", "/v1/functions/hello/versions", e.admin, nil)
	if vs := decodeT[wire.VersionList](t, body); vs.Versions[0].Description != "Greets a name." {
		t.Fatalf("listed version lost its description: %s", body)
	}

	for _, c := range []struct {
		schema string
		desc   string
		status int
		want   string
	}{
		{schema: `"a string"`, status: 422, want: "input_schema: must be a JSON Schema object"},
		{schema: `{"type": 5}`, status: 422, want: "input_schema: not a JSON Schema"},
		{schema: `{"$ref": "#/$defs/missing"}`, status: 422, want: "input_schema: not a usable JSON Schema"},
		{schema: `{"description": "` + strings.Repeat("x", api.MaxInputSchemaBytes) + `"}`, status: 413, want: "over the limit of 65536"},
		{desc: strings.Repeat("d", api.MaxDescriptionBytes+1), status: 400, want: "description is 4097 bytes, over the limit of 4096"},
	} {
		req := deployReq()
		req.Description = c.desc
		if c.schema != "" {
			req.InputSchema = json.RawMessage(c.schema)
		}
		st, body := e.do("POST", "/v1/functions/hello/versions", e.admin, req)
		if st != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("schema %.40s desc %.10s: got %d %s, want %d %q", c.schema, c.desc, st, body, c.status, c.want)
		}
	}
}
