// Package gcfloor gives the host's garbage collector a floor under its heap goal. The
// host's live heap is a few MB, so with Go's default pacing (collect once the heap has
// grown by as much as is live) it collected every few MB of allocation: every ~100
// invocations at one client, many times a second at 32, each cycle taking CPU from the
// plugins and functions on the same cores. A floor is a ballast: one allocation the
// collector counts as live but nothing ever reads or writes, so its pages are never
// made resident. The heap then grows by the floor more between collections; the host's
// real memory grows by at most the floor, whatever its live heap.
package gcfloor

import "sync"

var (
	mu      sync.Mutex
	ballast []byte
)

// Raise makes the heap count at least mb MiB as live for the rest of the process.
// Only the first call with mb > 0 allocates (hosts in one process share the floor);
// 0 or less changes nothing.
func Raise(mb int) {
	mu.Lock()
	defer mu.Unlock()
	if mb <= 0 || ballast != nil {
		return
	}
	// Fresh memory from the system is zero already: the runtime neither clears nor
	// touches a large allocation made from it, and a []byte is never scanned.
	ballast = make([]byte, mb<<20)
}

// Size is the floor in bytes (0 when none).
func Size() int {
	mu.Lock()
	defer mu.Unlock()
	return len(ballast)
}
