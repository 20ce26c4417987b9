package broker_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/broker"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/producerpb"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/wire/workerpb"
)

// helloCode opens a worker or producer stream, sends first and returns the stream's code.
func helloCode(t *testing.T, b *broker.Broker, worker bool, tok string, skipHello bool) codes.Code {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if worker {
		st, e := workerpb.NewWorkerStreamClient(dial(t, b.WorkerAddr)).Stream(ctx)
		if e != nil {
			t.Fatal(e)
		}
		ev := &workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Hello{Hello: &workerpb.Hello{Token: tok}}}
		if skipHello {
			ev = &workerpb.WorkerEvent{Event: &workerpb.WorkerEvent_Ready{Ready: &workerpb.Ready{Commands: []string{cmd}}}}
		}
		_ = st.Send(ev)
		_, err = st.Recv()
	} else {
		st, e := producerpb.NewProducerStreamClient(dial(t, b.ProducerAddr)).Stream(ctx)
		if e != nil {
			t.Fatal(e)
		}
		ev := &producerpb.ProducerEvent{Event: &producerpb.ProducerEvent_Hello{Hello: &producerpb.Hello{Token: tok}}}
		if skipHello {
			ev = &producerpb.ProducerEvent{Event: &producerpb.ProducerEvent_Create{Create: &producerpb.CreateTask{Command: cmd}}}
		}
		_ = st.Send(ev)
		_, err = st.Recv()
	}
	return status.Code(err)
}

func TestHelloFailures(t *testing.T) {
	b := startBroker(t, t.TempDir(), nil)
	expired, _ := token.Mint(key, "acme", "w", token.WorkerScopes, -time.Minute)
	foreign, _ := token.Mint([]byte("another-key"), "acme", "w", token.WorkerScopes, time.Hour)
	cases := []struct {
		name      string
		worker    bool
		tok       string
		skipHello bool
		want      codes.Code
	}{
		{"worker ok", true, mint(t, "acme", token.WorkerScopes), false, codes.OK},
		{"producer ok", false, mint(t, "acme", token.ScopeProduce), false, codes.OK},
		{"worker empty token", true, "", false, codes.Unauthenticated},
		{"worker garbage token", true, "not.a.jwt", false, codes.Unauthenticated},
		{"worker expired token", true, expired, false, codes.Unauthenticated},
		{"worker token signed by another key", true, foreign, false, codes.Unauthenticated},
		{"producer token on worker stream", true, mint(t, "acme", token.ScopeProduce), false, codes.PermissionDenied},
		{"any valid token on producer stream (codeQ checks no scope there)", false, mint(t, "acme", token.WorkerScopes), false, codes.OK},
		{"producer token without tid", false, mint(t, "", token.ScopeProduce), false, codes.PermissionDenied},
		{"worker token without tid", true, mint(t, "", token.WorkerScopes), false, codes.PermissionDenied},
		{"worker stream without Hello", true, "", true, codes.FailedPrecondition},
		{"producer stream without Hello", false, "", true, codes.FailedPrecondition},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := helloCode(t, b, c.worker, c.tok, c.skipHello); got != c.want {
				t.Fatalf("code %v, want %v", got, c.want)
			}
		})
	}
}

// TestHelloRS256JWKS accepts RS256 tokens whose key is served by a JWKS endpoint.
func TestHelloRS256JWKS(t *testing.T) {
	pk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1",
			"n": base64.RawURLEncoding.EncodeToString(pk.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pk.E)).Bytes())}}})
	}))
	defer jwks.Close()
	v, err := token.NewVerifier(token.VerifierConfig{JWKSURL: jwks.URL})
	if err != nil {
		t.Fatal(err)
	}
	b := startBroker(t, t.TempDir(), func(c *broker.Config) { c.Verifier = v })
	sign := func(kid string) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodRS256, token.Claims{Tenant: "acme", Scope: token.WorkerScopes,
			RegisteredClaims: jwt.RegisteredClaims{Subject: "w", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}})
		tk.Header["kid"] = kid
		s, err := tk.SignedString(pk)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := helloCode(t, b, true, sign("k1"), false); got != codes.OK {
		t.Fatalf("RS256 token with a JWKS key: %v", got)
	}
	if got := helloCode(t, b, true, sign("unknown"), false); got != codes.Unauthenticated {
		t.Fatalf("RS256 token with an unknown kid: %v, want Unauthenticated", got)
	}
	if got := helloCode(t, b, true, mint(t, "acme", token.WorkerScopes), false); got != codes.Unauthenticated {
		t.Fatalf("HS256 token when only JWKS is configured: %v, want Unauthenticated", got)
	}
}
