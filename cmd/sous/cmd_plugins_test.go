package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/host/plugins"
	"github.com/sous-run/sous/internal/testenv"
)

// sous runs the sous binary and returns stdout, stderr and the exit code.
func sous(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testenv.Sous(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sous.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pluginsDir holds the manager's test plugin as messaging driver "fake" and events driver "alpha".
func pluginsDir(t *testing.T) string {
	dir := t.TempDir()
	bin := testenv.Binary(t, "internal/host/plugins/internal/testplugin", "sous-testplugin")
	for _, n := range []string{"sous-plugin-messaging-fake", "sous-plugin-events-alpha"} {
		if err := os.Symlink(bin, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPluginsLsLoadsExamplePluginByPath(t *testing.T) {
	example := testenv.Binary(t, "examples/plugins/events-memory", "events-memory")
	cfg := writeConfig(t, `
data_dir: `+t.TempDir()+`
plugins:
  dir: `+pluginsDir(t)+`
  messaging: {driver: fake}
  events: {driver: memory, memory: {path: `+example+`, max_events: 100}}
  executor: {drivers: []}
`)
	out, errOut, code := sous(t, nil, "plugins", "ls", "--config", cfg, "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var st []plugins.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(st) != 2 || st[1].Driver != "memory" || st[1].Path != example || st[1].PluginVersion != "0.1.0" ||
		len(st[1].APIVersions) != 1 || st[1].APIVersions[0] != 1 || !st[1].Healthy {
		t.Fatalf("status %+v", st)
	}
	// The same config, events driver swapped by the environment: no rebuild.
	out, errOut, code = sous(t, []string{"SOUS_PLUGINS__EVENTS__DRIVER=alpha"}, "plugins", "ls", "--config", cfg)
	if code != 0 || !strings.Contains(out, "alpha") || strings.Contains(out, "memory") || !strings.Contains(out, "9.9.9") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestPluginsLsReportsWhatIsWrong(t *testing.T) {
	dir := pluginsDir(t)
	for _, tc := range []struct {
		name, config string
		args         []string
		wants        []string
	}{
		{"malformed yaml", "plugins:\n  dir: [x\n", nil, []string{"sous.yaml", "line"}},
		{"unknown key", "plugins: {dir: " + dir + ", messaging: {driver: fake, drivr: x}}\n", nil, []string{"unknown key plugins.messaging.drivr"}},
		{"missing binary", "plugins: {dir: " + dir + ", messaging: {driver: redis}, executor: {drivers: []}}\n", nil,
			[]string{filepath.Join(dir, "sous-plugin-messaging-redis"), "NOT HEALTHY"}},
		{"bad --set", "", []string{"--set", "role"}, []string{"not key=value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"plugins", "ls", "--config", writeConfig(t, tc.config)}, tc.args...)
			out, errOut, code := sous(t, nil, args...)
			if code == 0 {
				t.Fatalf("exit 0\n%s", out)
			}
			for _, w := range tc.wants {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output does not contain %q:\n%s\n%s", w, out, errOut)
				}
			}
		})
	}
}
