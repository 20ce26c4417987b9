package driver

import "sync"

// maxIDs bounds the Sous keys and ids remembered by one process.
const maxIDs = 100_000

// idMap maps a Sous tenant's idempotency key or task id to the id codeQ chose, so a
// repeated Enqueue reports duplicate=true and GetResult finds a task by its Sous id.
// codeQ never takes a client-chosen id; this map lives in the process that enqueued,
// so another process (or this one after a restart) knows the task by codeQ's id only.
type idMap struct {
	mu    sync.Mutex
	m     map[string]string
	sousM map[string]string // codeQ id -> the Sous id it was enqueued with, for logs
}

func (m *idMap) get(tenant, key string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.m[tenant+"\x00"+key]
	return id, ok
}

func (m *idMap) put(tenant, key, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= maxIDs {
		m.m = map[string]string{} // codeQ still deduplicates; only the mapping is lost
		m.sousM = map[string]string{}
	}
	m.m[tenant+"\x00"+key] = id
	m.sousM[id] = key
}

// sousID returns the Sous id (or key) a codeQ id was enqueued with by this process.
func (m *idMap) sousID(codeqID string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sousM[codeqID]
}
