package client

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sous-run/sous/internal/host/api/wire"
)

// ManifestFile is the name of a function's manifest in its directory.
const ManifestFile = "sous.yaml"

// Manifest is a function's sous.yaml.
type Manifest struct {
	Name      string            `yaml:"name"`
	Runtime   string            `yaml:"runtime"`
	Entry     string            `yaml:"entry"`
	Timeout   string            `yaml:"timeout"`    // Go duration, e.g. "10s"; or use timeout_ms
	TimeoutMS int               `yaml:"timeout_ms"` // milliseconds
	MemoryMB  int               `yaml:"memory_mb"`
	Network   string            `yaml:"network"` // none (default) | outbound | host
	Vars      map[string]string `yaml:"vars"`
	Env       string            `yaml:"env"` // alias to set on deploy (default dev)
	// Description says what the function does; InputSchema is a JSON Schema (written
	// in YAML) of its input. Agents read both through MCP describe_function.
	Description string         `yaml:"description"`
	InputSchema map[string]any `yaml:"input_schema"`
	// OnComplete is the completion webhook of this function's async runs.
	OnComplete string `yaml:"on_complete"`
}

// ReadManifest reads and checks <dir>/sous.yaml. Unknown keys are errors.
func ReadManifest(dir string) (*Manifest, error) {
	file := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w (a function directory needs a %s with name, runtime, entry)", err, ManifestFile)
	}
	if err := unknownKeys(file, data); err != nil {
		return nil, err
	}
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for key, empty := range map[string]bool{"name": m.Name == "", "runtime": m.Runtime == "", "entry": m.Entry == ""} {
		if empty {
			return nil, fmt.Errorf("%s: %s is required", file, key)
		}
	}
	if m.Timeout != "" {
		if m.TimeoutMS != 0 {
			return nil, fmt.Errorf("%s: give timeout or timeout_ms, not both", file)
		}
		d, err := time.ParseDuration(m.Timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s: timeout %q is not a positive duration like \"10s\"", file, m.Timeout)
		}
		m.TimeoutMS = int(d.Milliseconds())
	}
	return &m, nil
}

// PackDir reads the manifest and every file of dir not excluded by
// .sousignore (see Ignore) into a deploy request. sous.yaml and .sousignore
// themselves are not uploaded.
func PackDir(dir string) (*Manifest, *wire.DeployRequest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	ign, err := LoadIgnore(dir)
	if err != nil {
		return nil, nil, err
	}
	req := &wire.DeployRequest{Runtime: m.Runtime, Entry: m.Entry, Vars: m.Vars, TimeoutMS: m.TimeoutMS,
		MemoryMB: m.MemoryMB, Network: m.Network, Env: m.Env, OnComplete: m.OnComplete, Files: map[string]string{}, Description: m.Description}
	if m.InputSchema != nil {
		if req.InputSchema, err = json.Marshal(m.InputSchema); err != nil {
			return nil, nil, fmt.Errorf("%s: input_schema cannot be written as JSON: %w", filepath.Join(dir, ManifestFile), err)
		}
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if ign.Match(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() || rel == ManifestFile || rel == IgnoreFile {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		req.Files[rel] = base64.StdEncoding.EncodeToString(data)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	return m, req, nil
}
