package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHS256KeyGeneratedOnceAndPrivate(t *testing.T) {
	dir := t.TempDir()
	a, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "auth", "hs256.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	tok, err := a.Issue("me", "acme", []string{ScopeRead}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// A second start reads the same key: old tokens stay valid.
	b, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Verify(tok)
	if err != nil || p.Tenant != "acme" || p.Subject != "me" || !p.Has(ScopeRead) || p.Has(ScopeDeploy) {
		t.Fatalf("verify = %+v, %v", p, err)
	}
	// Another host's key is a forgery here.
	other, _ := New(Options{HS256Key: "another-key-of-enough-length"})
	if _, err := other.Verify(tok); !errors.Is(err, ErrBadToken) {
		t.Fatalf("forged token accepted: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	a, _ := New(Options{HS256Key: "0123456789abcdef0123"})
	expired, _ := a.Issue("me", "acme", []string{ScopeAdmin}, time.Nanosecond)
	cases := map[string]string{
		"empty":   "",
		"garbage": "not.a.jwt",
		// alg none: header {"alg":"none"} payload with tenant and far exp
		"alg none": "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ0ZW5hbnQiOiJhY21lIiwic2NvcGUiOiJhZG1pbiIsImV4cCI6NDEwMjQ0NDgwMH0.",
	}
	for name, tok := range cases {
		if _, err := a.Verify(tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// exp is second-granular: wait until the expired token is surely past.
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, err := a.Verify(expired)
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("expired token still accepted")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAdminImpliesAll(t *testing.T) {
	p := &Principal{Scopes: []string{ScopeAdmin}}
	for _, s := range Scopes {
		if !p.Has(s) {
			t.Errorf("admin lacks %s", s)
		}
	}
	if _, err := ParseScopes("deploy,bogus"); err == nil {
		t.Error("unknown scope accepted")
	}
}

func writePEM(t *testing.T, typ string, der []byte) string {
	f := filepath.Join(t.TempDir(), typ+".pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPublicKeyAlgorithms(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for alg, key := range map[string]any{"RS256": rsaKey, "ES256": ecKey} {
		var pub any = &rsaKey.PublicKey
		if alg == "ES256" {
			pub = &ecKey.PublicKey
		}
		pubDER, _ := x509.MarshalPKIXPublicKey(pub)
		privDER, _ := x509.MarshalPKCS8PrivateKey(key)
		pubFile, privFile := writePEM(t, "PUBLIC KEY", pubDER), writePEM(t, "PRIVATE KEY", privDER)
		issuer, err := New(Options{Algorithm: alg, PublicKeyFile: pubFile, KeyFile: privFile})
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		tok, err := issuer.Issue("svc", "acme", []string{ScopeInvoke}, time.Hour)
		if err != nil {
			t.Fatalf("%s issue: %v", alg, err)
		}
		verifier, err := New(Options{Algorithm: alg, PublicKeyFile: pubFile})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := verifier.Verify(tok); err != nil || p.Tenant != "acme" {
			t.Fatalf("%s verify: %+v %v", alg, p, err)
		}
		if _, err := verifier.Issue("x", "acme", nil, time.Hour); !errors.Is(err, ErrCannotSign) {
			t.Fatalf("%s: verify-only host issued a token: %v", alg, err)
		}
		// An HS256 token (alg confusion) is refused by a public-key verifier.
		hs, _ := New(Options{HS256Key: "0123456789abcdef0123"})
		hsTok, _ := hs.Issue("x", "acme", []string{ScopeAdmin}, time.Hour)
		if _, err := verifier.Verify(hsTok); err == nil {
			t.Fatalf("%s verifier accepted an HS256 token", alg)
		}
	}
	if _, err := New(Options{Algorithm: "RS256"}); err == nil {
		t.Fatal("RS256 without a public key accepted")
	}
}

func TestWriteAdminToken(t *testing.T) {
	dir := t.TempDir()
	a, _ := New(Options{DataDir: dir})
	tok, err := WriteAdminToken(a, dir, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	read, err := ReadAdminToken(dir)
	if err != nil || read != tok {
		t.Fatalf("read back %q, %v", read, err)
	}
	p, err := a.Verify(read)
	if err != nil || p.Tenant != DefaultTenant || !p.Has(ScopeDeploy) {
		t.Fatalf("admin token: %+v %v", p, err)
	}
}

func TestSignatureErrorNamesTheKeySourceNotTheKey(t *testing.T) {
	host, err := New(Options{HS256Key: "host-key-0123456789abcdef", KeySource: "auth.hs256_key (env SOUS_AUTH__HS256_KEY)"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(Options{DataDir: t.TempDir()}) // a key generated elsewhere
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := other.Issue("cli", DefaultTenant, []string{ScopeRead}, time.Hour)
	_, err = host.Verify(tok)
	if err == nil || !strings.Contains(err.Error(), "this host verifies with the HS256 key from auth.hs256_key (env SOUS_AUTH__HS256_KEY)") ||
		strings.Contains(err.Error(), "host-key-0123456789abcdef") {
		t.Fatalf("Verify: %v", err)
	}
	if !strings.Contains(other.KeySource(), "hs256.key (generated)") {
		t.Fatalf("KeySource of a generated key: %q", other.KeySource())
	}
	if _, err := New(Options{DataDir: t.TempDir(), NoGenerate: true}); err == nil || !strings.Contains(err.Error(), "start the host first") {
		t.Fatalf("NoGenerate: %v", err)
	}
}
