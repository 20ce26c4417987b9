package control

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"
)

// NewID returns a new invocation id: "inv_" + 48-bit ms time + 64 random bits, in hex,
// so ids sort by creation time.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("inv_%012x%016x", time.Now().UnixMilli()&0xffffffffffff, binary.BigEndian.Uint64(b[:]))
}
