package client

import (
	"strings"
	"testing"
)

func TestManifestUnknownKeyNamesTheValidOnes(t *testing.T) {
	d := t.TempDir()
	write(t, d, map[string]string{"sous.yaml": "name: greet\nruntime: python\nentry: main.py\ntimout: 5s\n"})
	_, err := ReadManifest(d)
	for _, want := range []string{`line 4: unknown key "timout"`, `did you mean "timeout"?`, "valid keys: description, entry, env, input_schema, memory_mb, name, network, on_complete, runtime, timeout, timeout_ms, vars"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
	write(t, d, map[string]string{"sous.yaml": "name: greet\nruntime: python\nentry: main.py\nzzzzzzzz: 1\n"})
	if _, err := ReadManifest(d); err == nil || strings.Contains(err.Error(), "did you mean") || !strings.Contains(err.Error(), "valid keys") {
		t.Errorf("far-off key: %v", err)
	}
}
