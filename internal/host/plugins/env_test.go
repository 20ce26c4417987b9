package plugins

import (
	"context"
	"maps"
	"runtime"
	"strconv"
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

// TestPluginGOMAXPROCS: a plugin's Go runtime takes its driver's gomaxprocs, else
// plugins.gomaxprocs (by default half the host's, at least 1), and a GOMAXPROCS its
// inherit_env passes wins.
func TestPluginGOMAXPROCS(t *testing.T) {
	t.Setenv("GOMAXPROCS", "5")
	for _, tc := range []struct {
		name string
		set  map[string]string
		want string
	}{
		{"default", nil, strconv.Itoa(max(1, runtime.GOMAXPROCS(0)/2))},
		{"configured", map[string]string{"plugins.gomaxprocs": "3"}, "3"},
		{"driver's own", map[string]string{"plugins.gomaxprocs": "3", "plugins.messaging.fake.gomaxprocs": "4"}, "4"},
		{"inherited", map[string]string{"plugins.gomaxprocs": "3", "plugins.messaging.fake.inherit_env": "GOMAXPROCS"}, "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := map[string]string{"plugins.dir": pluginDir(t, "messaging-fake"), "plugins.messaging.driver": "fake"}
			maps.Copy(set, tc.set)
			m := start(t, load(t, set))
			if err := m.Ready(context.Background()); err != nil {
				t.Fatal(err)
			}
			st := m.Status(context.Background())
			if len(st) != 1 || st[0].Details["gomaxprocs"] != tc.want {
				t.Fatalf("plugin GOMAXPROCS = %q, want %s (status %+v)", st[0].Details["gomaxprocs"], tc.want, st)
			}
		})
	}
}
