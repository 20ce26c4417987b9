package auth

import (
	"slices"
	"sync"
	"time"
)

// verified remembers the tokens whose signature, algorithm and claims were checked, by
// their exact text, so a client sending the same token on every request costs one map
// lookup instead of a signature check. A hit is still checked against exp and nbf at
// the time of the request; an expired or not yet valid token goes through the full
// check, which refuses it.
type verified struct {
	mu sync.RWMutex
	m  map[string]verifiedToken
}

type verifiedToken struct {
	p        Principal
	exp, nbf time.Time // nbf zero: none
}

// verifiedMax bounds the map; a full map is emptied (callers re-verify once).
const verifiedMax = 4096

// get returns a copy of the principal of token if it was verified and is valid at now.
func (v *verified) get(token string, now time.Time) (*Principal, bool) {
	v.mu.RLock()
	t, ok := v.m[token]
	v.mu.RUnlock()
	if !ok || !now.Before(t.exp) || now.Before(t.nbf) {
		return nil, false
	}
	p := t.p
	p.Scopes = slices.Clone(t.p.Scopes)
	return &p, true
}

// put remembers token, verified to name p, with its validity window.
func (v *verified) put(token string, p *Principal, exp, nbf time.Time) {
	t := verifiedToken{p: *p, exp: exp, nbf: nbf}
	t.p.Scopes = slices.Clone(p.Scopes)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= verifiedMax {
		v.m = map[string]verifiedToken{}
	}
	v.m[token] = t
}
