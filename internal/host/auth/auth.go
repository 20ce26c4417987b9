// Package auth issues and verifies the host's bearer tokens: JWTs (golang-jwt/v5)
// with claims sub, tenant, scope (space separated) and exp. HS256 uses a shared
// key (configured, or generated into the data directory on first start);
// RS256/ES256 verify with a PEM public key and can issue with a PEM private key.
package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Scope names. Admin implies every other scope.
const (
	ScopeDeploy = "deploy"
	ScopeInvoke = "invoke"
	ScopeRead   = "read"
	ScopeAdmin  = "admin"
	ScopeWorker = "worker"
)

// Scopes lists every known scope.
var Scopes = []string{ScopeDeploy, ScopeInvoke, ScopeRead, ScopeAdmin, ScopeWorker}

// Options selects the signing method and keys (config keys auth.*).
type Options struct {
	Algorithm     string // auth.algorithm: HS256 (default), RS256 or ES256
	HS256Key      string // auth.hs256_key: the shared key; empty = read KeyFile / generate
	KeyFile       string // auth.key_file: HS256 key file (default <data_dir>/auth/hs256.key), or the RS/ES PEM private key
	PublicKeyFile string // auth.public_key_file: RS/ES PEM public key (required for RS256/ES256)
	DataDir       string // data_dir: where the HS256 key is generated if none is given
	KeySource     string // where HS256Key came from, for messages (e.g. "env SOUS_AUTH__HS256_KEY"); never the key
	NoGenerate    bool   // fail instead of generating a missing HS256 key file (a new key signs tokens no host accepts)
}

// Errors returned by Verify and Issue.
var (
	ErrNoToken    = errors.New("missing bearer token")
	ErrBadToken   = errors.New("invalid token")
	ErrCannotSign = errors.New("this host cannot issue tokens (no private key)")
)

// Claims is the JWT payload.
type Claims struct {
	Tenant string `json:"tenant"`
	Scope  string `json:"scope"`
	jwt.RegisteredClaims
}

// Principal is an authenticated caller.
type Principal struct {
	Subject string
	Tenant  string
	Scopes  []string
}

// Has reports whether p holds scope (admin holds every scope).
func (p *Principal) Has(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope || s == ScopeAdmin {
			return true
		}
	}
	return false
}

// Authenticator verifies (and, with a signing key, issues) tokens.
type Authenticator struct {
	method  jwt.SigningMethod
	signKey any // nil if the host cannot issue
	verKey  any
	source  string           // which key verifies, for messages: its source, never its value
	seen    verified         // tokens already verified (see verified.go)
	now     func() time.Time // the clock of exp and nbf checks; nil: time.Now
}

// KeySource says which key this authenticator signs and verifies with: its
// algorithm and where it came from (a config key, a variable or a file), never
// the key itself.
func (a *Authenticator) KeySource() string { return a.source }

// New builds an Authenticator from opts, generating the HS256 key file
// (0600) in <DataDir>/auth/hs256.key when no key is configured.
func New(opts Options) (*Authenticator, error) {
	switch strings.ToUpper(opts.Algorithm) {
	case "", "HS256":
		key, from, err := hsKey(opts)
		if err != nil {
			return nil, err
		}
		return &Authenticator{method: jwt.SigningMethodHS256, signKey: key, verKey: key, source: "the HS256 key from " + from}, nil
	case "RS256":
		return pemAuthenticator(opts, jwt.SigningMethodRS256, jwt.ParseRSAPublicKeyFromPEM, jwt.ParseRSAPrivateKeyFromPEM)
	case "ES256":
		return pemAuthenticator(opts, jwt.SigningMethodES256, jwt.ParseECPublicKeyFromPEM, jwt.ParseECPrivateKeyFromPEM)
	default:
		return nil, fmt.Errorf("auth.algorithm %q: use HS256, RS256 or ES256", opts.Algorithm)
	}
}

// hsKey returns the configured key, the key file's content, or a newly generated
// key, and where it came from.
func hsKey(opts Options) ([]byte, string, error) {
	if opts.HS256Key != "" {
		from := opts.KeySource
		if from == "" {
			from = "auth.hs256_key"
		}
		return []byte(opts.HS256Key), from, nil
	}
	file := opts.KeyFile
	if file == "" {
		if opts.DataDir == "" {
			return nil, "", errors.New("auth: set auth.hs256_key, auth.key_file or data_dir for the HS256 key")
		}
		file = filepath.Join(opts.DataDir, "auth", "hs256.key")
	}
	data, err := os.ReadFile(file)
	if err == nil {
		key := strings.TrimSpace(string(data))
		if len(key) < 16 {
			return nil, "", fmt.Errorf("auth key file %s: key is shorter than 16 characters", file)
		}
		return []byte(key), "file " + file, nil
	}
	if !errors.Is(err, os.ErrNotExist) || opts.KeyFile != "" {
		return nil, "", fmt.Errorf("read auth key file %s: %w", file, err)
	}
	if opts.NoGenerate {
		return nil, "", fmt.Errorf("no HS256 key: %s does not exist; start the host first (it creates the key), "+
			"or give the host's key with --config <its config>, auth.hs256_key / SOUS_AUTH__HS256_KEY or auth.key_file", file)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", fmt.Errorf("generate auth key: %w", err)
	}
	key := hex.EncodeToString(raw[:])
	if err := writePrivate(file, key+"\n"); err != nil {
		return nil, "", err
	}
	return []byte(key), "file " + file + " (generated)", nil
}

func pemAuthenticator[Pub, Priv any](opts Options, m jwt.SigningMethod, parsePub func([]byte) (Pub, error), parsePriv func([]byte) (Priv, error)) (*Authenticator, error) {
	if opts.PublicKeyFile == "" {
		return nil, fmt.Errorf("auth.algorithm %s needs auth.public_key_file (PEM public key)", m.Alg())
	}
	data, err := os.ReadFile(opts.PublicKeyFile)
	if err != nil {
		return nil, fmt.Errorf("read auth.public_key_file: %w", err)
	}
	pub, err := parsePub(data)
	if err != nil {
		return nil, fmt.Errorf("auth.public_key_file %s: not a %s PEM public key: %w", opts.PublicKeyFile, m.Alg(), err)
	}
	a := &Authenticator{method: m, verKey: pub, source: "the " + m.Alg() + " public key file " + opts.PublicKeyFile}
	if opts.KeyFile != "" {
		data, err := os.ReadFile(opts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("read auth.key_file: %w", err)
		}
		priv, err := parsePriv(data)
		if err != nil {
			return nil, fmt.Errorf("auth.key_file %s: not a %s PEM private key: %w", opts.KeyFile, m.Alg(), err)
		}
		a.signKey = priv
	}
	return a, nil
}

// writePrivate writes content to file with mode 0600, creating the directory (0700).
func writePrivate(file, content string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(file), err)
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}
