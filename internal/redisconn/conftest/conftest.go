// Package conftest checks how a Redis plugin binary answers bad config: a malformed URL,
// a wrong password, an unreachable server, an unknown key. Shared by the tests of
// messaging-redis and events-redisstream.
package conftest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

// Run launches the binary once and configures it with each bad config in turn, checking
// the error kind and that the message names the problem; Health stays unhealthy with
// the reason until a good config is applied.
func Run(t *testing.T, path, kind string) {
	ctx := context.Background()
	c := plugintest.Start(t, plugintest.Target{Path: path}, kind)

	h, err := c.Health(ctx)
	if err != nil || h.Healthy || !strings.Contains(h.Reason, "not configured") {
		t.Fatalf("Health before Configure = %+v, %v; want unhealthy, not configured", h, err)
	}
	locked := testenv.StartRedis(t, "--requirepass", "s3cret")
	free := testenv.FreePort(t)
	cases := []struct {
		name, config string
		kind         error
		says         string
	}{
		{"malformed url", `{"url":"http://127.0.0.1:6379"}`, sdk.ErrInvalid, "is not a Redis URL"},
		{"garbage url", `{"url":"redis://[::1"}`, sdk.ErrInvalid, "is not a Redis URL"},
		{"wrong password", fmt.Sprintf(`{"url":%q,"password":"wrong"}`, locked.URL), sdk.ErrInvalid, "refused the credentials"},
		{"missing password", fmt.Sprintf(`{"url":%q}`, locked.URL), sdk.ErrInvalid, "password"},
		{"unreachable", fmt.Sprintf(`{"url":"redis://127.0.0.1:%d/0","dial_timeout":"1s"}`, free), sdk.ErrUnavailable, "unreachable"},
		{"unknown key", `{"urll":"redis://127.0.0.1:6379"}`, sdk.ErrInvalid, "unknown field \"urll\""},
		{"bad duration", `{"dial_timeout":"soon"}`, sdk.ErrInvalid, "Go duration"},
		{"bad prefix", `{"prefix":"a:b"}`, sdk.ErrInvalid, "prefix"},
	}
	for _, tc := range cases {
		err := c.Base.Configure(ctx, sdk.Config{JSON: []byte(tc.config), APIVersion: sdk.APIVersion})
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: Configure(%s) = %v; want %v saying %q", tc.name, tc.config, err, tc.kind, tc.says)
		}
	}
	good := fmt.Sprintf(`{"url":%q,"password":"s3cret"}`, locked.URL)
	if err := c.Base.Configure(ctx, sdk.Config{JSON: []byte(good), APIVersion: sdk.APIVersion, HostDataDir: t.TempDir()}); err != nil {
		t.Fatalf("Configure with the right password: %v", err)
	}
	if h, err := c.Health(ctx); err != nil || !h.Healthy {
		t.Fatalf("Health after a good Configure = %+v, %v", h, err)
	}
	locked.Kill()
	h, err = c.Health(ctx)
	if err != nil || h.Healthy || !strings.Contains(h.Reason, "unreachable") {
		t.Fatalf("Health with redis down = %+v, %v; want unhealthy, unreachable", h, err)
	}
}
