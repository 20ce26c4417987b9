package sdk

import (
	"slices"
	"testing"
)

func TestPluginEnvKeepsOnlyTheAllowlist(t *testing.T) {
	got := PluginEnv([]string{"PATH=/bin", "SOUS_AUTH__HS256_KEY=secret", "HOME=/root", "AWS_SECRET_ACCESS_KEY=x", "SOUS_PLUGIN_LOG_LEVEL=debug", "NOEQUALS"})
	want := []string{"PATH=/bin", "HOME=/root", "SOUS_PLUGIN_LOG_LEVEL=debug"}
	if !slices.Equal(got, want) {
		t.Fatalf("PluginEnv = %v, want %v", got, want)
	}
}
