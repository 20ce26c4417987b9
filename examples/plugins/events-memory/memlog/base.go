package memlog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/sous-run/sous/sdk"
)

// Version is the plugin's own version.
const Version = "0.1.0"

// settings is the driver's config subtree plugins.events.memory.
type settings struct {
	MaxEvents int `json:"max_events"` // per invocation; 0 = 10000
}

// Info identifies the plugin.
func (s *Store) Info() sdk.Info {
	return sdk.Info{Kind: sdk.KindEvents, Driver: "memory", Version: Version,
		Description: "in-memory event log (example plugin; one host only, lost on restart)"}
}

// Configure reads the settings; unknown fields and bad values are config errors.
func (s *Store) Configure(_ context.Context, c sdk.Config) error {
	var st settings
	dec := json.NewDecoder(bytes.NewReader(c.JSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return sdk.ConfigError("plugins.events.memory: %v (known settings: max_events)", err)
	}
	if st.MaxEvents < 0 {
		return sdk.ConfigError("plugins.events.memory.max_events: %d is not allowed; use 0 (default 10000) or more", st.MaxEvents)
	}
	if st.MaxEvents == 0 {
		st.MaxEvents = 10000
	}
	s.mu.Lock()
	s.max = st.MaxEvents
	s.mu.Unlock()
	s.log.Info("configured", "max_events", st.MaxEvents)
	return nil
}

// Health is always healthy: memory does not go away.
func (s *Store) Health(context.Context) sdk.Health {
	s.mu.Lock()
	n := len(s.logs)
	s.mu.Unlock()
	return sdk.Health{Healthy: true, Details: map[string]string{"invocations": strconv.Itoa(n)}}
}

func parseID(id string) (uint64, error) {
	if id == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: after_id %q is not an id this driver gave out (ids are decimal numbers)", sdk.ErrInvalid, id)
	}
	return n, nil
}

func key(tenant, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("%w: invocation_id is empty", sdk.ErrInvalid)
	}
	return fmt.Sprintf("%s\x00%s", tenant, id), nil
}
