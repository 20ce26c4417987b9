package memlog

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/sdk"
	basepb "github.com/sous-run/sous/sdk/proto/base"
)

// Version is the plugin's own version.
const Version = "0.1.0"

// settings is the driver's config subtree plugins.events.memory.
type settings struct {
	MaxEvents int `json:"max_events"` // per invocation; 0 = 10000
}

// Info identifies the plugin.
func (s *Store) Info(context.Context, *basepb.InfoRequest) (*basepb.PluginInfo, error) {
	return &basepb.PluginInfo{Kind: sdk.KindEvents, Driver: "memory", PluginVersion: Version,
		ApiVersions: []int32{sdk.APIVersion}, Description: "in-memory event log (example plugin; one host only, lost on restart)"}, nil
}

// Configure reads the settings; unknown fields and bad values are InvalidArgument.
func (s *Store) Configure(_ context.Context, req *basepb.ConfigureRequest) (*basepb.ConfigureResponse, error) {
	var st settings
	dec := json.NewDecoder(bytesReader(req.ConfigJson))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "plugins.events.memory: %v (known settings: max_events)", err)
	}
	if st.MaxEvents < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "plugins.events.memory.max_events: %d is not allowed; use 0 (default 10000) or more", st.MaxEvents)
	}
	if st.MaxEvents == 0 {
		st.MaxEvents = 10000
	}
	s.mu.Lock()
	s.max = st.MaxEvents
	s.mu.Unlock()
	s.log.Info("configured", "max_events", st.MaxEvents)
	return &basepb.ConfigureResponse{}, nil
}

// Health is always healthy: memory does not go away.
func (s *Store) Health(context.Context, *basepb.HealthRequest) (*basepb.HealthResponse, error) {
	s.mu.Lock()
	n := len(s.logs)
	s.mu.Unlock()
	return &basepb.HealthResponse{Healthy: true, Details: map[string]string{"invocations": strconv.Itoa(n)}}, nil
}

func parseID(id string) (uint64, error) {
	if id == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return 0, status.Errorf(codes.InvalidArgument, "after_id %q is not an id this driver gave out (ids are decimal numbers)", id)
	}
	return n, nil
}

func key(tenant, id string) (string, error) {
	if id == "" {
		return "", status.Error(codes.InvalidArgument, "invocation_id is empty")
	}
	return fmt.Sprintf("%s\x00%s", tenant, id), nil
}
