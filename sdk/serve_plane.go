package sdk

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// serveOffering serves a stream that offers a data plane (dp; nil: none): it sends
// the stream's headers at once (header, and dp's offer), serves the connection the
// host makes there with plane in its own goroutine and the stream itself with stream.
// Both get a context that ends with the stream, or once plane returns. It returns
// once both are done, with plane's error, else stream's.
func serveOffering(st grpc.ServerStream, header string, dp *dataPlaneListener,
	plane func(context.Context, *frameConn) error, stream func(context.Context) error) error {
	md := metadata.Pairs(header, "1")
	if dp != nil {
		md = metadata.Join(md, metadata.Pairs(dp.headers()...))
	}
	if err := st.SendHeader(md); err != nil {
		if dp != nil {
			dp.close()
		}
		return err
	}
	ctx, cancel := context.WithCancel(st.Context())
	defer cancel()
	var served sync.WaitGroup
	var planeErr error
	if dp != nil {
		served.Add(1)
		go func() {
			defer served.Done()
			fc := acceptPlane(ctx, dp, wantsPipes(st.Context()))
			if fc == nil {
				return // the host stayed on the stream
			}
			defer context.AfterFunc(ctx, fc.close)()
			planeErr = plane(ctx, fc)
			fc.close()
			cancel()
		}()
	}
	err := stream(ctx)
	cancel()
	served.Wait()
	if planeErr != nil {
		return planeErr
	}
	return err
}

// acceptPlane waits for the host's connection to dp until ctx ends; nil when none
// came or its token was wrong.
func acceptPlane(ctx context.Context, dp *dataPlaneListener, pipes bool) *frameConn {
	stop := context.AfterFunc(ctx, dp.close)
	fc, err := dp.accept(pipes)
	stop()
	if err != nil {
		return nil
	}
	return fc
}
