package queue

// keys spells every Redis key of one tenant: <prefix>:<tenant>:…
type keys struct{ base string }

func keysFor(prefix, tenant string) keys { return keys{base: prefix + ":" + tenant} }

func (k keys) task(id string) string       { return k.base + ":task:" + id }
func (k keys) taskPrefix() string          { return k.base + ":task:" }
func (k keys) idem(key string) string      { return k.base + ":idem:" + key }
func (k keys) seq() string                 { return k.base + ":seq" }
func (k keys) commands() string            { return k.base + ":commands" }
func (k keys) q(cmd, kind string) string   { return k.base + ":q:" + cmd + ":" + kind }
func (k keys) pending(cmd string) string   { return k.q(cmd, "pending") }
func (k keys) scheduled(cmd string) string { return k.q(cmd, "scheduled") }
func (k keys) leased(cmd string) string    { return k.q(cmd, "leased") }
func (k keys) dead(cmd string) string      { return k.q(cmd, "dead") }
func (k keys) ready(cmd string) string     { return k.q(cmd, "ready") }

// tenantsKey is the registry of tenants that ever enqueued, read by consumers that
// serve every tenant. It is the one key outside a tenant's namespace.
func tenantsKey(prefix string) string { return prefix + ":tenants" }

// newTenantKey holds a wake-up token for every tenant the registry gains, so a consumer
// of every tenant learns of a new one at its first enqueue, not at its next upkeep.
func newTenantKey(prefix string) string { return prefix + ":tenants:ready" }
