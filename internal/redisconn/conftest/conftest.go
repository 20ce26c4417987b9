// Package conftest checks how a Redis plugin binary answers bad config: a malformed URL,
// a wrong password, an unreachable server, an unknown key. Shared by the tests of
// messaging-redis and events-redisstream.
package conftest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	basepb "github.com/sous-run/sous/sdk/proto/base"
)

// Run launches the binary once and configures it with each bad config in turn, checking
// the gRPC code and that the message names the problem; Health stays unhealthy with
// the reason until a good config is applied.
func Run(t *testing.T, path, kind string) {
	ctx := context.Background()
	logger := hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: os.Stderr, Level: hclog.Error})
	c, err := sdk.Open(ctx, sdk.OpenOptions{Path: path, Kind: kind, Logger: logger})
	if err != nil {
		t.Fatalf("launch %s: %v", path, err)
	}
	t.Cleanup(c.Kill)

	h, err := c.Base.Health(ctx, &basepb.HealthRequest{})
	if err != nil || h.Healthy || !strings.Contains(h.Reason, "not configured") {
		t.Fatalf("Health before Configure = %+v, %v; want unhealthy, not configured", h, err)
	}
	locked := testenv.StartRedis(t, "--requirepass", "s3cret")
	free := testenv.FreePort(t)
	cases := []struct {
		name, config string
		code         codes.Code
		says         string
	}{
		{"malformed url", `{"url":"http://127.0.0.1:6379"}`, codes.InvalidArgument, "is not a Redis URL"},
		{"garbage url", `{"url":"redis://[::1"}`, codes.InvalidArgument, "is not a Redis URL"},
		{"wrong password", fmt.Sprintf(`{"url":%q,"password":"wrong"}`, locked.URL), codes.InvalidArgument, "refused the credentials"},
		{"missing password", fmt.Sprintf(`{"url":%q}`, locked.URL), codes.InvalidArgument, "password"},
		{"unreachable", fmt.Sprintf(`{"url":"redis://127.0.0.1:%d/0","dial_timeout":"1s"}`, free), codes.Unavailable, "unreachable"},
		{"unknown key", `{"urll":"redis://127.0.0.1:6379"}`, codes.InvalidArgument, "unknown field \"urll\""},
		{"bad duration", `{"dial_timeout":"soon"}`, codes.InvalidArgument, "Go duration"},
		{"bad prefix", `{"prefix":"a:b"}`, codes.InvalidArgument, "prefix"},
	}
	for _, tc := range cases {
		_, err := c.Base.Configure(ctx, &basepb.ConfigureRequest{ConfigJson: []byte(tc.config), ApiVersion: sdk.APIVersion})
		if status.Code(err) != tc.code || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: Configure(%s) = %v; want code %s saying %q", tc.name, tc.config, err, tc.code, tc.says)
		}
	}
	good := fmt.Sprintf(`{"url":%q,"password":"s3cret"}`, locked.URL)
	if err := c.Configure(ctx, []byte(good), t.TempDir()); err != nil {
		t.Fatalf("Configure with the right password: %v", err)
	}
	if h, err := c.Base.Health(ctx, &basepb.HealthRequest{}); err != nil || !h.Healthy {
		t.Fatalf("Health after a good Configure = %+v, %v", h, err)
	}
	locked.Kill()
	h, err = c.Base.Health(ctx, &basepb.HealthRequest{})
	if err != nil || h.Healthy || !strings.Contains(h.Reason, "unreachable") {
		t.Fatalf("Health with redis down = %+v, %v; want unhealthy, unreachable", h, err)
	}
}
