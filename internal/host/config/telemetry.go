package config

import (
	"fmt"
	"net"
	"time"
)

// Telemetry configures what a host process exposes to operators.
type Telemetry struct {
	// MetricsAddr, when set, serves /metrics on its own listener (host:port). A worker
	// role has no API, so this is where it is scraped; control and all also serve
	// /metrics on http.addr.
	MetricsAddr string `koanf:"metrics_addr"`
	// HeartbeatInterval is how often (seconds) a worker reports itself to the
	// control role for `sous status`.
	HeartbeatInterval int  `koanf:"heartbeat_interval"`
	OTLP              OTLP `koanf:"otlp"`
}

// OTLP configures trace export. Tracing is off while Endpoint is empty.
type OTLP struct {
	Endpoint string `koanf:"endpoint"` // OTLP/gRPC collector, host:port (plaintext)
}

// Heartbeat is telemetry.heartbeat_interval as a duration.
func (t Telemetry) Heartbeat() time.Duration { return time.Duration(t.HeartbeatInterval) * time.Second }

func (t Telemetry) validate(c *Config) []error {
	var errs []error
	hostPort := func(key, v, example string) {
		if _, _, err := net.SplitHostPort(v); v != "" && err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not host:port, e.g. %s (from %s)", key, v, example, c.Source(key)))
		}
	}
	hostPort("telemetry.metrics_addr", t.MetricsAddr, "127.0.0.1:9464")
	hostPort("telemetry.otlp.endpoint", t.OTLP.Endpoint, "127.0.0.1:4317")
	if t.HeartbeatInterval <= 0 {
		errs = append(errs, fmt.Errorf("telemetry.heartbeat_interval: %d is not allowed; use seconds above 0 (from %s)",
			t.HeartbeatInterval, c.Source("telemetry.heartbeat_interval")))
	}
	return errs
}
