package config

import (
	"encoding/json"
	"fmt"
)

// TaskEnvelopeRoom is what a queued task adds to its input (ids, function, digest, env):
// a driver's payload limit must leave this much over limits.max_input_bytes.
const TaskEnvelopeRoom = 64 << 10

// MaxInputBytesCeiling is the largest limits.max_input_bytes: a plugin call (gRPC, 4 MiB
// a message) must carry the input and its task envelope.
const MaxInputBytesCeiling = 4<<20 - TaskEnvelopeRoom

// checkQueuePayload refuses a Redis queue whose max_payload_bytes cannot carry an input
// of limits.max_input_bytes in its task envelope: such an input would be accepted by the
// API and refused by the queue.
func (c *Config) checkQueuePayload() error {
	if c.Plugins.Messaging.Driver != "redis" {
		return nil
	}
	raw, _ := c.DriverConfig("messaging", "redis")
	var sub struct {
		MaxPayloadBytes *int64 `json:"max_payload_bytes"`
	}
	if json.Unmarshal(raw, &sub) != nil || sub.MaxPayloadBytes == nil {
		return nil // the driver's default leaves room; a bad value is the driver's error
	}
	if need := c.Limits.MaxInputBytes + TaskEnvelopeRoom; *sub.MaxPayloadBytes < need {
		return fmt.Errorf("plugins.messaging.redis.max_payload_bytes: %d cannot carry an input of limits.max_input_bytes (%d) in its task; use at least %d or lower limits.max_input_bytes (from %s)",
			*sub.MaxPayloadBytes, c.Limits.MaxInputBytes, need, c.Source("plugins.messaging.redis.max_payload_bytes"))
	}
	return nil
}
