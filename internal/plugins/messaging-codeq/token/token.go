// Package token mints and verifies the JWTs of codeQ's producer and worker streams:
// HS256 with a shared key (the embedded broker), RS256 with a PEM public key or a JWKS URL
// (like codeQ). The tenant is the claim `tid`; permissions are the space-delimited `scope`.
package token

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Scopes a stream requires.
const (
	ScopeProduce = "codeq:produce" // producer stream, REST reads
	ScopeClaim   = "codeq:claim"   // worker stream
	ScopeAdmin   = "codeq:admin"   // /v1/codeq/admin routes (or the claim role ADMIN)
	// WorkerScopes is what a minted worker token carries.
	WorkerScopes = "codeq:claim codeq:heartbeat codeq:abandon codeq:nack codeq:result"
	// WorkerAudience is the audience codeQ expects on worker tokens.
	WorkerAudience = "codeq-worker"
)

// Claims is what the streams read from a token.
type Claims struct {
	Tenant     string   `json:"tid,omitempty"`
	Scope      string   `json:"scope,omitempty"`
	EventTypes []string `json:"eventTypes,omitempty"` // commands a worker may claim; empty or "*" = any
	Role       string   `json:"role,omitempty"`       // ADMIN may use the admin routes, as in codeQ
	jwt.RegisteredClaims
}

// Has reports whether the space-delimited scope holds s.
func (c *Claims) Has(s string) bool { return slices.Contains(strings.Fields(c.Scope), s) }

// Admin reports whether the token may use codeQ's admin routes: scope codeq:admin or
// role ADMIN (any case), as codeQ's RequireAdmin checks.
func (c *Claims) Admin() bool { return c.Has(ScopeAdmin) || strings.EqualFold(c.Role, "ADMIN") }

// Commands lists the commands the token names in eventTypes (none for "*" or no claim).
func (c *Claims) Commands() []string {
	if slices.Contains(c.EventTypes, "*") {
		return nil
	}
	return c.EventTypes
}

// MayClaim reports whether the token allows claiming command.
func (c *Claims) MayClaim(command string) bool {
	return len(c.EventTypes) == 0 || slices.Contains(c.EventTypes, "*") || slices.Contains(c.EventTypes, command)
}

// Mint signs an HS256 token for tenant and subject with the given scope, valid for ttl.
func Mint(key []byte, tenant, subject, scope string, ttl time.Duration) (string, error) {
	if len(key) == 0 {
		return "", errors.New("mint token: empty signing key")
	}
	now := time.Now()
	c := Claims{Tenant: tenant, Scope: scope, RegisteredClaims: jwt.RegisteredClaims{
		Subject:   subject,
		Issuer:    "sous-embedded-codeq",
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	if strings.Contains(scope, ScopeClaim) {
		c.Audience = jwt.ClaimStrings{WorkerAudience}
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("mint token for %s: %w", subject, err)
	}
	return s, nil
}

// ErrInvalid is wrapped by every verification failure (bad signature, expired, malformed).
var ErrInvalid = errors.New("invalid token")

// Verifier checks tokens with one of its configured keys.
type Verifier struct {
	hsKey []byte
	rsa   keySource
}

// Parse verifies the signature and expiry of raw and returns its claims.
func (v *Verifier) Parse(raw string) (*Claims, error) {
	if raw == "" {
		return nil, fmt.Errorf("%w: empty token", ErrInvalid)
	}
	c := &Claims{}
	_, err := jwt.ParseWithClaims(raw, c, v.keyFunc, jwt.WithValidMethods([]string{"HS256", "RS256"}), jwt.WithExpirationRequired())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return c, nil
}

func (v *Verifier) keyFunc(t *jwt.Token) (any, error) {
	switch t.Method.Alg() {
	case "HS256":
		if len(v.hsKey) == 0 {
			return nil, errors.New("HS256 tokens are not accepted (no shared key configured)")
		}
		return v.hsKey, nil
	case "RS256":
		if v.rsa == nil {
			return nil, errors.New("RS256 tokens are not accepted (no public key or JWKS URL configured)")
		}
		kid, _ := t.Header["kid"].(string)
		return v.rsa.key(kid)
	}
	return nil, fmt.Errorf("unsupported algorithm %s", t.Method.Alg())
}
