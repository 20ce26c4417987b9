package plugins

import (
	"context"
	"testing"
)

// TestPluginSeesOnlyItsEnvironment: a plugin process gets the minimal variables plus
// what its inherit_env names, never the rest of the host's environment (the test
// plugin reports the SOUS_TEST_* variables it sees in its Health details).
func TestPluginSeesOnlyItsEnvironment(t *testing.T) {
	t.Setenv("SOUS_TEST_SECRET", "must-not-leak")
	t.Setenv("SOUS_TEST_SHARED", "shared-value")
	m := start(t, load(t, map[string]string{"plugins.dir": pluginDir(t, "messaging-fake"), "plugins.messaging.driver": "fake",
		"plugins.messaging.fake.inherit_env": "SOUS_TEST_SHARED"}))
	if err := m.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := m.Status(context.Background())
	if len(st) != 1 || st[0].Kind != "messaging" || !st[0].Healthy {
		t.Fatalf("status %+v", st)
	}
	d := st[0].Details
	if d["env:SOUS_TEST_SHARED"] != "shared-value" {
		t.Fatalf("inherit_env did not pass SOUS_TEST_SHARED: details %v", d)
	}
	if v, ok := d["env:SOUS_TEST_SECRET"]; ok {
		t.Fatalf("the host's SOUS_TEST_SECRET reached the plugin (%q)", v)
	}
}
