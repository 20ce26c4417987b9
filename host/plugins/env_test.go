package plugins

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPluginSeesOnlyItsEnvironment: a plugin process gets the minimal variables plus
// what its inherit_env names, never the rest of the host's environment.
func TestPluginSeesOnlyItsEnvironment(t *testing.T) {
	t.Setenv("SOUS_TEST_SECRET", "must-not-leak")
	t.Setenv("SOUS_TEST_SHARED", "shared-value")
	m := start(t, load(t, map[string]string{"plugins.dir": pluginDir(t, "messaging-fake"), "plugins.messaging.driver": "fake", "plugins.events.driver": "memory",
		"plugins.events.memory.path": exampleEvents(t), "plugins.events.memory.inherit_env": "SOUS_TEST_SHARED"}))
	if err := m.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := m.Status(context.Background())
	if len(st) != 2 || st[1].Kind != "events" || st[1].Pid == 0 {
		t.Fatalf("status %+v", st)
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(st[1].Pid) + "/environ")
	if errors.Is(err, os.ErrPermission) {
		t.Skip("cannot read a non-dumpable process's environment without root: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	env := strings.Split(string(raw), "\x00")
	has := func(kv string) bool {
		for _, e := range env {
			if e == kv || strings.HasPrefix(e, kv+"=") {
				return true
			}
		}
		return false
	}
	if !has("SOUS_TEST_SHARED=shared-value") || has("SOUS_TEST_SECRET") || !has("PATH") {
		t.Fatalf("plugin environment %q: want PATH and SOUS_TEST_SHARED, and no SOUS_TEST_SECRET", env)
	}
}
