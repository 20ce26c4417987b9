package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"
	yamlv3 "go.yaml.in/yaml/v3"
)

// Sources are the layers above the built-in defaults, lowest precedence first.
type Sources struct {
	// File is a YAML config file ("" = none).
	File string
	// Env is the environment as KEY=VALUE (pass os.Environ(); nil = none). Only
	// SOUS_* variables are read: a double underscore nests (SOUS_PLUGINS__MESSAGING__DRIVER
	// is plugins.messaging.driver), a single underscore stays in the key name
	// (SOUS_WORKER__LEASE_SECONDS). SOUS_* variables without "__" whose name is not a
	// top-level key (SOUS_BIN_DIR, SOUS_BUN, …) belong to other tools and are ignored.
	Env []string
	// Overrides are dotted key=value pairs (the --set flag), the highest layer.
	Overrides map[string]string
}

// Load merges defaults, file, env and overrides and validates the result.
func Load(s Sources) (*Config, error) {
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(Defaults(), "."), nil); err != nil {
		return nil, fmt.Errorf("config defaults: %w", err)
	}
	sources := map[string]string{}
	if s.File != "" {
		fk, err := loadFile(s.File)
		if err != nil {
			return nil, err
		}
		if err := mergeLayer(k, fk, sources, func(string) string { return "file " + s.File }); err != nil {
			return nil, err
		}
	}
	envFlat, envNames := envLayer(s.Env)
	if err := mergeFlat(k, envFlat, sources, func(key string) string { return "env " + envNames[key] }); err != nil {
		return nil, err
	}
	setFlat := map[string]any{}
	for key, v := range s.Overrides {
		key = strings.TrimSpace(key)
		if key == "" {
			return nil, fmt.Errorf("--set %q: empty key; use --set key=value, e.g. --set plugins.messaging.driver=redis", "="+v)
		}
		setFlat[key] = typed(key, v)
	}
	if err := mergeFlat(k, setFlat, sources, func(key string) string { return "--set " + key }); err != nil {
		return nil, err
	}
	c := &Config{File: s.File, k: k, sources: sources}
	if err := checkTypes(c); err != nil {
		return nil, err
	}
	if err := k.UnmarshalWithConf("", c, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := validate(c); err != nil {
		return nil, err
	}
	return c, nil
}

// loadFile parses a YAML file; a syntax error names the file and the line.
func loadFile(path string) (*koanf.Koanf, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	fk := koanf.New(".")
	if err := fk.Load(rawbytes.Provider(b), yaml.Parser()); err != nil {
		return nil, fmt.Errorf("config file %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return fk, nil
}

// envLayer turns SOUS_* variables into dotted keys; it also returns each key's variable name.
func envLayer(env []string) (map[string]any, map[string]string) {
	flat, names := map[string]any{}, map[string]string{}
	top := Defaults()
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, "SOUS_") {
			continue
		}
		parts := strings.Split(strings.ToLower(strings.TrimPrefix(name, "SOUS_")), "__")
		if _, isTop := top[parts[0]]; len(parts) == 1 && !isTop {
			continue
		}
		key := strings.Join(parts, ".")
		flat[key], names[key] = typed(key, val), name
	}
	return flat, names
}

// typed converts a string from env or --set: lists split on commas, driver settings
// are read as YAML scalars (true, 5, 1.5, text), every other key stays a string and is
// type-checked against its default.
func typed(key, v string) any {
	if listKeys[key] {
		var out []any
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	if _, isBool := schema.leaves[key].(bool); isBool {
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			return b
		}
	}
	if _, _, ok := driverSubtree(key); ok {
		var x any
		if err := yamlv3.Unmarshal([]byte(v), &x); err == nil {
			switch x.(type) {
			case bool, int, float64:
				return x
			}
		}
	}
	return v
}

func mergeFlat(k *koanf.Koanf, flat map[string]any, sources map[string]string, src func(string) string) error {
	if len(flat) == 0 {
		return nil
	}
	lk := koanf.New(".")
	if err := lk.Load(confmap.Provider(flat, "."), nil); err != nil {
		return err
	}
	return mergeLayer(k, lk, sources, src)
}

// mergeLayer checks a layer's keys, records where each came from and merges it.
func mergeLayer(k, layer *koanf.Koanf, sources map[string]string, src func(string) string) error {
	for key, v := range layer.All() {
		if err := checkKey(key, v); err != nil {
			return fmt.Errorf("%w (from %s)", err, src(key))
		}
		sources[key] = src(key)
	}
	return k.Merge(layer)
}
