package sdk

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// kindCodes pairs each error kind with its gRPC code, most specific first.
var kindCodes = []struct {
	kind error
	code codes.Code
}{
	{ErrInvalid, codes.InvalidArgument},
	{ErrNotFound, codes.NotFound},
	{ErrRefused, codes.FailedPrecondition},
	{ErrExhausted, codes.ResourceExhausted},
	{ErrUnavailable, codes.Unavailable},
	{ErrUnsupported, codes.Unimplemented},
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

// ToStatus turns a driver's error into the gRPC status the host decodes with
// FromStatus. An error already carrying a gRPC status passes through.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, kc := range kindCodes {
		if errors.Is(err, kc.kind) {
			return status.Error(kc.code, err.Error())
		}
	}
	return status.Error(codes.Internal, err.Error())
}

// FromStatus turns a gRPC error back into an error that wraps its kind, so
// errors.Is(err, sdk.ErrNotFound) holds on the host as it did in the driver. The
// message is the driver's.
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, kc := range kindCodes {
		if st.Code() == kc.code {
			return &wireError{kind: kc.kind, msg: st.Message(), st: st}
		}
	}
	return &wireError{kind: ErrInternal, msg: st.Message(), st: st}
}

// wireError is an error that crossed the plugin boundary: it matches its kind with
// errors.Is and still converts back to its gRPC status.
type wireError struct {
	kind error
	msg  string
	st   *status.Status
}

func (e *wireError) Error() string              { return e.msg }
func (e *wireError) Unwrap() error              { return e.kind }
func (e *wireError) GRPCStatus() *status.Status { return e.st }
