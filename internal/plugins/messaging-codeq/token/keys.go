package token

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// VerifierConfig names the keys a Verifier accepts; set at least one.
type VerifierConfig struct {
	HS256Key     []byte // shared key
	RS256PEM     []byte // PEM RSA public key
	JWKSURL      string // JWKS document with RSA keys, refetched at most every minute on a miss
	HTTPClient   *http.Client
	JWKSCacheTTL time.Duration
}

// NewVerifier builds a Verifier from cfg.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	v := &Verifier{hsKey: cfg.HS256Key}
	switch {
	case len(cfg.RS256PEM) > 0:
		k, err := jwt.ParseRSAPublicKeyFromPEM(cfg.RS256PEM)
		if err != nil {
			return nil, fmt.Errorf("RS256 public key: %w", err)
		}
		v.rsa = staticKey{k}
	case cfg.JWKSURL != "":
		hc := cfg.HTTPClient
		if hc == nil {
			hc = &http.Client{Timeout: 10 * time.Second}
		}
		ttl := cfg.JWKSCacheTTL
		if ttl <= 0 {
			ttl = time.Minute
		}
		v.rsa = &jwks{url: cfg.JWKSURL, hc: hc, ttl: ttl}
	}
	if len(v.hsKey) == 0 && v.rsa == nil {
		return nil, errors.New("token verifier: configure a shared HS256 key, an RS256 public key or a JWKS URL")
	}
	return v, nil
}

type keySource interface {
	key(kid string) (*rsa.PublicKey, error)
}

type staticKey struct{ k *rsa.PublicKey }

func (s staticKey) key(string) (*rsa.PublicKey, error) { return s.k, nil }

// jwks caches the RSA keys of a JWKS document by kid.
type jwks struct {
	url     string
	hc      *http.Client
	ttl     time.Duration
	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

func (j *jwks) key(kid string) (*rsa.PublicKey, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if k := j.lookup(kid); k != nil {
		return k, nil
	}
	if time.Since(j.fetched) < j.ttl && j.keys != nil {
		return nil, fmt.Errorf("no JWKS key %q", kid)
	}
	if err := j.fetch(); err != nil {
		return nil, err
	}
	if k := j.lookup(kid); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("no JWKS key %q at %s", kid, j.url)
}

func (j *jwks) lookup(kid string) *rsa.PublicKey {
	if kid == "" && len(j.keys) == 1 {
		for _, k := range j.keys {
			return k
		}
	}
	return j.keys[kid]
}

func (j *jwks) fetch() error {
	resp, err := j.hc.Get(j.url)
	if err != nil {
		return fmt.Errorf("fetch JWKS %s: %w", j.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch JWKS %s: HTTP %d", j.url, resp.StatusCode)
	}
	var doc struct {
		Keys []struct{ Kty, Kid, N, E string } `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return fmt.Errorf("decode JWKS %s: %w", j.url, err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range doc.Keys {
		if k.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil {
			continue
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	j.keys, j.fetched = keys, time.Now()
	return nil
}
