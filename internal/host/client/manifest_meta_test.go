package client

import (
	"os"
	"path/filepath"
	"testing"
)

// description and input_schema in sous.yaml reach the deploy request, the schema as JSON.
func TestPackDirMeta(t *testing.T) {
	dir := t.TempDir()
	manifest := "name: greet\nruntime: bun\nentry: index.ts\ndescription: Greets.\n" +
		"input_schema:\n  type: object\n  properties:\n    name: {type: string}\n"
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.ts"), []byte("export default () => 1"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, req, err := PackDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if req.Description != "Greets." || string(req.InputSchema) != `{"properties":{"name":{"type":"string"}},"type":"object"}` {
		t.Fatalf("got description %q schema %s", req.Description, req.InputSchema)
	}
}
