package driver

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/sous-run/sous/sdk/rawjson"
)

// A codeQ token carries one tenant (`tid`) while Sous serves many. When a task's Sous
// tenant differs from the stream's tenant, the payload codeQ stores is wrapped so the
// worker and GetResult see the Sous tenant; otherwise codeQ sees the payload unchanged.
type wrapped struct {
	Tenant  string          `json:"_sous_tenant"`
	Payload json.RawMessage `json:"_sous_payload,omitempty"`
	Raw     []byte          `json:"_sous_payload_b64,omitempty"`
}

func wrapPayload(tenant, streamTenant string, payload []byte) []byte {
	if tenant == "" || tenant == streamTenant {
		return payload
	}
	w := wrapped{Tenant: tenant}
	if rawjson.Valid(payload) {
		w.Payload = payload
	} else {
		w.Raw = payload
	}
	b, _ := json.Marshal(w)
	return b
}

// unwrapPayload returns the Sous tenant and payload; tasks not wrapped belong to the
// stream's tenant.
func unwrapPayload(streamTenant string, payload []byte) (string, []byte) {
	if len(payload) == 0 || payload[0] != '{' || !mayBeWrapped(payload) {
		return streamTenant, payload
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return streamTenant, payload
	}
	if _, ok := m["_sous_tenant"]; !ok || len(m) > 2 {
		return streamTenant, payload
	}
	var w wrapped
	if json.Unmarshal(payload, &w) != nil || w.Tenant == "" {
		return streamTenant, payload
	}
	if w.Raw != nil {
		return w.Tenant, w.Raw
	}
	return w.Tenant, w.Payload
}

// tenantField is the key every wrapped payload has.
var tenantField = []byte(`"_sous_tenant"`)

// mayBeWrapped is false for a payload that cannot have the key "_sous_tenant": it is not
// spelled out and no escape could spell it. Such a payload (most are) is not decoded.
func mayBeWrapped(payload []byte) bool {
	return bytes.Contains(payload, tenantField) || bytes.IndexByte(payload, '\\') >= 0
}

// scopedKeyPrefix marks an idempotency key that codeQ indexes for a Sous tenant other
// than the stream's.
const scopedKeyPrefix = "_sous:"

// scopeIdemKey returns the idempotency key sent to codeQ. codeQ indexes keys per codeQ
// tenant, so the key of a wrapped Sous tenant carries that tenant:
// `_sous:<len(tenant)>:<tenant>:<key>`. The stream's own tenant keeps its key unchanged,
// unless the key itself starts with `_sous:` (then it is scoped as well, so no tenant can
// spell another's key).
func scopeIdemKey(tenant, streamTenant, key string) string {
	if key == "" || (tenant == streamTenant && !strings.HasPrefix(key, scopedKeyPrefix)) {
		return key
	}
	return scopedKeyPrefix + strconv.Itoa(len(tenant)) + ":" + tenant + ":" + key
}
