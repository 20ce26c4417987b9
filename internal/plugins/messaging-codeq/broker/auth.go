package broker

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
)

// hello checks a stream's token as codeQ does: a bad token is Unauthenticated, a token
// without the stream's scope (when it has one) or without a tenant (`tid`) is
// PermissionDenied. codeQ checks no scope on the producer stream.
func hello(v *token.Verifier, raw, scope string) (*token.Claims, error) {
	c, err := v.Parse(raw)
	if err != nil {
		if errors.Is(err, token.ErrInvalid) {
			return nil, status.Error(codes.Unauthenticated, err.Error())
		}
		return nil, status.Error(codes.Unauthenticated, "invalid token: "+err.Error())
	}
	if scope != "" && !c.Has(scope) {
		return nil, status.Errorf(codes.PermissionDenied, "token lacks scope %s", scope)
	}
	if c.Tenant == "" {
		return nil, status.Error(codes.PermissionDenied, "token has no tenant (claim tid)")
	}
	return c, nil
}

// accept reads a stream's first event, which must be a Hello (else FailedPrecondition),
// and checks its token for scope.
func accept[E, H any](v *token.Verifier, recv func() (E, error), helloOf func(E) *H, tokenOf func(*H) string, scope string) (*H, *token.Claims, error) {
	first, err := recv()
	if err != nil {
		return nil, nil, err
	}
	h := helloOf(first)
	if h == nil {
		return nil, nil, status.Error(codes.FailedPrecondition, "the first event on the stream must be Hello")
	}
	c, err := hello(v, tokenOf(h), scope)
	if err != nil {
		return nil, nil, err
	}
	return h, c, nil
}
