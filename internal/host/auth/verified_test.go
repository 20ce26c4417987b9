package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A token verified once is refused again once it expires, though it was remembered,
// and one not valid yet is refused until its nbf.
func TestVerifiedTokenStillExpires(t *testing.T) {
	a, err := New(Options{HS256Key: "0123456789abcdef0123"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a.now = func() time.Time { return now }
	tok, err := a.Issue("me", "acme", []string{ScopeRead}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second call is answered from what the first remembered
		p, err := a.Verify(tok)
		if err != nil || p.Tenant != "acme" || !p.Has(ScopeRead) {
			t.Fatalf("verify = %+v, %v", p, err)
		}
		p.Scopes[0] = ScopeAdmin // the caller's copy: changes nothing remembered
	}
	if p, err := a.Verify(tok); err != nil || p.Has(ScopeAdmin) {
		t.Fatalf("verify after the caller changed its copy = %+v, %v", p, err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := a.Verify(tok); !errors.Is(err, ErrBadToken) {
		t.Fatalf("expired token: %v", err)
	}

	later := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{Tenant: "acme", Scope: ScopeRead, RegisteredClaims: jwt.RegisteredClaims{
		NotBefore: jwt.NewNumericDate(now.Add(time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}})
	signed, err := later.SignedString([]byte("0123456789abcdef0123"))
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := a.Verify(signed); err != nil {
		t.Fatalf("token past its nbf: %v", err)
	}
	now = now.Add(-2 * time.Minute)
	if _, err := a.Verify(signed); !errors.Is(err, ErrBadToken) {
		t.Fatalf("token before its nbf, remembered: %v", err)
	}
}
