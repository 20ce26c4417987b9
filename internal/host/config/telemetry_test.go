package config

import (
	"strings"
	"testing"
	"time"
)

func TestTelemetryKeys(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{"log_format", "xml", `log_format: "xml" is not allowed; use text or json`},
		{"telemetry.metrics_addr", "9464", `telemetry.metrics_addr: "9464" is not host:port`},
		{"telemetry.otlp.endpoint", "collector", `telemetry.otlp.endpoint: "collector" is not host:port`},
		{"telemetry.heartbeat_interval", "0", `telemetry.heartbeat_interval: 0 is not allowed`},
	} {
		_, err := Load(Sources{Overrides: map[string]string{tc.key: tc.value}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: error %v, want one saying %q", tc.key, tc.value, err, tc.want)
		}
	}
	c, err := Load(Sources{Overrides: map[string]string{"log_format": "json", "telemetry.otlp.endpoint": "127.0.0.1:4317"}})
	if err != nil || c.LogFormat != "json" || c.Telemetry.OTLP.Endpoint != "127.0.0.1:4317" || c.Telemetry.Heartbeat() != 10*time.Second {
		t.Fatalf("config %+v, err %v", c, err)
	}
}
