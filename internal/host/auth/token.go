package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ParseScopes splits a space- or comma-separated scope list and checks each name.
func ParseScopes(s string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("no scopes given: use some of %s", strings.Join(Scopes, " "))
	}
	for _, f := range fields {
		if !known(f) {
			return nil, fmt.Errorf("unknown scope %q: use some of %s", f, strings.Join(Scopes, " "))
		}
	}
	return fields, nil
}

func known(scope string) bool {
	for _, s := range Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Issue signs a token for subject in tenant with scopes, valid for ttl.
func (a *Authenticator) Issue(subject, tenant string, scopes []string, ttl time.Duration) (string, error) {
	if a.signKey == nil {
		return "", ErrCannotSign
	}
	if tenant == "" {
		return "", errors.New("issue token: tenant is required")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("issue token: ttl %s must be positive", ttl)
	}
	now := time.Now()
	claims := Claims{
		Tenant: tenant,
		Scope:  strings.Join(scopes, " "),
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	tok, err := jwt.NewWithClaims(a.method, claims).SignedString(a.signKey)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return tok, nil
}

// Verify checks a token's signature, algorithm and expiry (exp is required)
// and returns its principal. Errors wrap ErrBadToken or ErrNoToken and say why.
// A token verified before is only checked against its exp and nbf again.
func (a *Authenticator) Verify(token string) (*Principal, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	now := time.Now
	if a.now != nil {
		now = a.now
	}
	if p, ok := a.seen.get(token, now()); ok {
		return p, nil
	}
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.verKey, nil },
		jwt.WithValidMethods([]string{a.method.Alg()}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(now))
	if errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		return nil, fmt.Errorf("%w: %v (this host verifies with %s; sign with the same key, e.g. `sous token create --config <the host's config>`)", ErrBadToken, err, a.source)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	if c.Tenant == "" {
		return nil, fmt.Errorf("%w: no tenant claim", ErrBadToken)
	}
	p := &Principal{Subject: c.Subject, Tenant: c.Tenant, Scopes: strings.Fields(c.Scope)}
	var nbf time.Time
	if c.NotBefore != nil {
		nbf = c.NotBefore.Time
	}
	a.seen.put(token, p, c.ExpiresAt.Time, nbf)
	return p, nil
}

// AdminTokenFile is where the dev host leaves its admin token: <dataDir>/auth/admin.token.
func AdminTokenFile(dataDir string) string { return filepath.Join(dataDir, "auth", "admin.token") }

// WriteAdminToken issues an admin token (subject "dev", tenant "default",
// scope admin) valid for ttl and writes it to AdminTokenFile(dataDir) with
// mode 0600, so the CLI on the same machine needs no auth step.
func WriteAdminToken(a *Authenticator, dataDir string, ttl time.Duration) (string, error) {
	tok, err := a.Issue("dev", DefaultTenant, []string{ScopeAdmin}, ttl)
	if err != nil {
		return "", err
	}
	if err := writePrivate(AdminTokenFile(dataDir), tok+"\n"); err != nil {
		return "", err
	}
	return tok, nil
}

// ReadAdminToken returns the token in AdminTokenFile(dataDir).
func ReadAdminToken(dataDir string) (string, error) {
	data, err := os.ReadFile(AdminTokenFile(dataDir))
	if err != nil {
		return "", fmt.Errorf("read admin token: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

// DefaultTenant is the tenant of the dev host's admin token.
const DefaultTenant = "default"
