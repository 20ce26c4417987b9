package api_test

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/sous-run/sous/internal/host/api"
)

// Run with: go test -run '^$' -bench . ./internal/host/api/
// Healthz is the floor: one authenticated-free round trip through the same
// real HTTP server; report Deploy and GetFunction as ratios to it.

func BenchmarkHealthzFloor(b *testing.B) {
	e := newEnv(b, api.Options{})
	for b.Loop() {
		if st, _ := e.do("GET", "/healthz", "", nil); st != 200 {
			b.Fatal(st)
		}
	}
}

// BenchmarkDeploy10Files deploys a function of 10 files (1 KiB each), a new
// version (and a new bundle: main.ts changes) each time; each op includes the
// JWT check, validation, digest and a synced Pebble commit.
func BenchmarkDeploy10Files(b *testing.B) {
	e := newEnv(b, api.Options{})
	req := deployReq()
	req.Files = files(10, 1024)
	i := 0
	for b.Loop() {
		i++
		req.Files["main.ts"] = base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "export default () => %d", i))
		if st, body := e.do("POST", "/v1/functions/bench/versions", e.admin, req); st != 201 {
			b.Fatalf("%d %s", st, body)
		}
	}
}

func BenchmarkGetFunction(b *testing.B) {
	e := newEnv(b, api.Options{})
	if st, body := e.do("POST", "/v1/functions/bench/versions", e.admin, deployReq()); st != 201 {
		b.Fatalf("%d %s", st, body)
	}
	for b.Loop() {
		if st, _ := e.do("GET", "/v1/functions/bench", e.admin, nil); st != 200 {
			b.Fatal(st)
		}
	}
}
