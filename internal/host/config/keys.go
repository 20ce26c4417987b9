package config

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/v2"
)

// schema is the flattened defaults: every known leaf key and its default value, and
// every known map key with its children.
var schema = func() (s struct {
	leaves map[string]any
	maps   map[string][]string
}) {
	k := koanf.New(".")
	_ = k.Load(confmap.Provider(Defaults(), "."), nil)
	s.leaves = k.All()
	s.maps = map[string][]string{}
	for key := range s.leaves {
		parts := strings.Split(key, ".")
		for i := range parts {
			parent := strings.Join(parts[:i], ".")
			if !slices.Contains(s.maps[parent], parts[i]) {
				s.maps[parent] = append(s.maps[parent], parts[i])
			}
		}
	}
	for _, kids := range s.maps {
		sort.Strings(kids)
	}
	return s
}()

// driverSubtree reports whether key lies inside plugins.<kind>.<driver> and returns
// kind and driver.
func driverSubtree(key string) (kind, driver string, ok bool) {
	parts := strings.Split(key, ".")
	if len(parts) < 3 || parts[0] != "plugins" {
		return "", "", false
	}
	settings, isKind := pluginSettings[parts[1]]
	if !isKind || slices.Contains(settings, parts[2]) {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// checkKey refuses a key that is not in the schema, or a map given where a value
// belongs (or the reverse).
func checkKey(key string, v any) error {
	_, isMap := v.(map[string]any)
	if _, ok := schema.leaves[key]; ok {
		if isMap {
			return fmt.Errorf("%s: is a single value, not a map", key)
		}
		return nil
	}
	if kind, driver, ok := driverSubtree(key); ok {
		if strings.Count(key, ".") == 2 && !isMap && v != nil {
			return fmt.Errorf("unknown key %s: plugins.%s takes %s, or a map of settings per driver (plugins.%s.%s: {path: …, …})",
				key, kind, orList(pluginSettings[kind]), kind, driver)
		}
		return nil
	}
	if kids, ok := schema.maps[key]; ok {
		return fmt.Errorf("%s: must be a map with keys %s", key, strings.Join(kids, ", "))
	}
	parts := strings.Split(key, ".")
	for i := len(parts) - 1; i > 0; i-- {
		parent := strings.Join(parts[:i], ".")
		if _, leaf := schema.leaves[parent]; leaf {
			return fmt.Errorf("unknown key %s: %s is a single value, not a map", key, parent)
		}
		if kids, ok := schema.maps[parent]; ok {
			return fmt.Errorf("unknown key %s; known keys under %s: %s", key, parent, strings.Join(kids, ", "))
		}
	}
	return fmt.Errorf("unknown key %s; known top-level keys: %s", key, strings.Join(schema.maps[""], ", "))
}

// checkTypes checks every known leaf against the type of its default, so a bad value
// is reported with its key and source rather than as a decoding error.
func checkTypes(c *Config) error {
	for key, def := range schema.leaves {
		v := c.k.Get(key)
		var bad string
		switch def.(type) {
		case bool:
			if _, ok := v.(bool); !ok {
				bad = "true or false"
			}
		case int:
			if _, err := toInt(v); err != nil {
				bad = "a whole number"
			}
		case []any:
			if _, ok := v.([]any); !ok {
				if _, ok := v.([]string); !ok {
					bad = "a list (comma-separated in env and --set)"
				}
			}
		case string:
			if isDurationKey(key) {
				if s, ok := v.(string); !ok {
					bad = "a duration like 90s, 5m or 24h"
				} else if _, err := time.ParseDuration(s); err != nil {
					bad = "a duration like 90s, 5m or 24h"
				}
			} else if _, isMap := v.(map[string]any); isMap || v == nil {
				bad = "a text value"
			}
		}
		if bad != "" {
			return fmt.Errorf("%s: %v is not %s (from %s)", key, show(v), bad, c.Source(key))
		}
	}
	return nil
}

func isDurationKey(key string) bool {
	return strings.HasPrefix(key, "invoke.") || (strings.HasPrefix(key, "webhooks.") && key != "webhooks.max_body_bytes")
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		return int64(x), nil
	case float64:
		if x == float64(int64(x)) {
			return int64(x), nil
		}
	case string:
		return strconv.ParseInt(strings.TrimSpace(x), 10, 64)
	}
	return 0, fmt.Errorf("not a whole number: %v", v)
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	if v == nil {
		return "nothing"
	}
	return fmt.Sprint(v)
}

// orList formats allowed values as "a, b or c".
func orList(xs []string) string {
	switch len(xs) {
	case 0:
		return "(none)"
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}
