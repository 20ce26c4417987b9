package broker

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// memBuffer is each in-memory connection's buffer per direction.
const memBuffer = 1 << 20

// inProcess serves the producer and worker streams on in-memory listeners as well as
// on TCP, for a client in the same process (the codeq driver of an embedded broker):
// the same gRPC protocol, with no loopback socket, so a message costs no system call
// and no kernel wake-up. Hosts joining as workers still use the TCP ports.
type inProcess struct {
	producer, worker *bufconn.Listener
}

// serveInProcess starts the in-memory listeners; Close stops them with the servers.
func (b *Broker) serveInProcess() {
	b.mem = &inProcess{producer: bufconn.Listen(memBuffer), worker: bufconn.Listen(memBuffer)}
	b.wg.Add(2)
	go func() { defer b.wg.Done(); _ = b.producer.Serve(b.mem.producer) }()
	go func() { defer b.wg.Done(); _ = b.worker.Serve(b.mem.worker) }()
}

// DialProducer connects to the producer stream in memory.
func (b *Broker) DialProducer() (*grpc.ClientConn, error) { return dialMem(b.mem.producer, "producer") }

// DialWorker connects to the worker stream in memory.
func (b *Broker) DialWorker() (*grpc.ClientConn, error) { return dialMem(b.mem.worker, "worker") }

func dialMem(l *bufconn.Listener, what string) (*grpc.ClientConn, error) {
	cc, err := grpc.NewClient("passthrough:///embedded-"+what,
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("dial embedded broker %s stream in memory: %w", what, err)
	}
	return cc, nil
}
