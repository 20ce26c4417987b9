// Package limits holds the default per-invocation limits, the one source for the host
// (its limits.* configuration and API defaults) and for the executor harness (limits a
// spec and the driver configuration leave unset).
package limits

// Defaults of the per-invocation limits.
const (
	DefaultTimeoutMS = 30_000  // limits.default_timeout_ms
	MaxTimeoutMS     = 300_000 // limits.max_timeout_ms
	DefaultMemoryMB  = 256     // limits.default_memory_mb
	MaxMemoryMB      = 4096    // limits.max_memory_mb
	// DefaultMaxResultBytes stays under gRPC's 4 MiB message, the Redis queue's
	// max_payload_bytes and redisstream's max_envelope_bytes, so a result always
	// reaches the caller.
	DefaultMaxResultBytes = 3 << 20 // limits.max_result_bytes
	DefaultMaxLogBytes    = 1 << 20 // limits.max_log_bytes
)
