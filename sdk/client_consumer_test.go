package sdk

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// creditServer serves Consume over the wire: it sends queued tasks, never more than
// the credits granted, and records what the client sent. After the queue is drained
// it ends the stream with end (if set).
type creditServer struct {
	messagingpb.UnimplementedMessagingServer
	tasks chan *messagingpb.Task
	end   error
	delay time.Duration // before the first send

	mu      sync.Mutex
	sub     *messagingpb.Subscribe
	granted int
	sent    int
}

func (s *creditServer) Consume(st grpc.BidiStreamingServer[messagingpb.ConsumeRequest, messagingpb.Delivery]) error {
	credits := make(chan int, 16)
	go func() {
		for {
			r, err := st.Recv()
			if err != nil {
				close(credits)
				return
			}
			s.mu.Lock()
			if sub := r.GetSubscribe(); sub != nil {
				s.sub = sub
			} else {
				s.granted += int(r.GetCredit().GetN())
			}
			s.mu.Unlock()
			credits <- int(r.GetCredit().GetN())
		}
	}()
	have := 0
	time.Sleep(s.delay)
	for {
		if have == 0 {
			n, ok := <-credits
			if !ok {
				return nil
			}
			have += n
			continue
		}
		select {
		case t := <-s.tasks:
			if err := st.Send(&messagingpb.Delivery{Task: t, LeaseId: "l-" + t.Id, LeaseExpiresMs: 1}); err != nil {
				return err
			}
			have--
			s.mu.Lock()
			s.sent++
			s.mu.Unlock()
		case n, ok := <-credits:
			if !ok {
				return nil
			}
			have += n
		case <-time.After(100 * time.Millisecond):
			if s.end != nil && len(s.tasks) == 0 {
				return s.end
			}
		}
	}
}

func (s *creditServer) counts() (granted, sent int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.granted, s.sent
}

func dialCredit(t *testing.T, srv *creditServer) Messaging {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	messagingpb.RegisterMessagingServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	cc, err := grpc.NewClient("passthrough:///buf", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close(); gs.Stop() })
	return NewMessagingClient(cc)
}

func queue(n int) chan *messagingpb.Task {
	ch := make(chan *messagingpb.Task, n)
	for i := range n {
		ch <- &messagingpb.Task{Id: strconv.Itoa(i), Tenant: "t", Command: "c", Attempt: 1}
	}
	return ch
}

// Next grants credits so that granted-but-not-handed-out makes up max (once half is
// used), never returns more than max, and passes the subscription and leases through.
func TestConsumerCredits(t *testing.T) {
	srv := &creditServer{tasks: queue(5)}
	m := dialCredit(t, srv)
	ctx := context.Background()
	c, err := m.Consume(ctx, Subscription{Commands: []string{"c"}, Lease: 30 * time.Second, WorkerID: "w"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := 0
	for got < 3 {
		ds, err := c.Next(ctx, 3-got)
		if err != nil || len(ds) == 0 || len(ds) > 3-got {
			t.Fatalf("Next(%d) = %d deliveries, %v", 3-got, len(ds), err)
		}
		if d := ds[0]; d.Lease.ID != "l-"+d.Task.ID || d.Lease.Tenant != "t" || d.Lease.TaskID != d.Task.ID {
			t.Fatalf("delivery %+v", d)
		}
		got += len(ds)
	}
	time.Sleep(50 * time.Millisecond) // the server would send more now if it had credits
	if granted, sent := srv.counts(); granted != 3 || sent != 3 {
		t.Fatalf("granted %d, sent %d after taking 3 with max 3", granted, sent)
	}
	srv.mu.Lock()
	sub := srv.sub
	srv.mu.Unlock()
	if sub.GetLeaseSeconds() != 30 || sub.GetWorkerId() != "w" || len(sub.GetCommands()) != 1 {
		t.Fatalf("subscribe %+v", sub)
	}
	// Two more: max 1 twice grants one credit each time.
	for range 2 {
		if ds, err := c.Next(ctx, 1); err != nil || len(ds) != 1 {
			t.Fatalf("Next(1) = %d, %v", len(ds), err)
		}
	}
	if granted, _ := srv.counts(); granted != 5 {
		t.Fatalf("granted %d credits for 5 deliveries taken one at a time", granted)
	}
}

// Next blocks until ctx ends when nothing comes, and a stream the plugin ends with an
// error reaches the caller with its kind.
func TestConsumerWaitAndError(t *testing.T) {
	srv := &creditServer{tasks: queue(0), end: status.Error(codes.NotFound, "no such queue")}
	m := dialCredit(t, srv)
	c, err := m.Consume(context.Background(), Subscription{Commands: []string{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Next(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next with nothing queued: %v", err)
	}
	if _, err := c.Next(context.Background(), 2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Next after the plugin ended the stream: %v", err)
	}
	if granted, _ := srv.counts(); granted != 2 {
		t.Fatalf("granted %d credits for max 2 asked twice with nothing delivered", granted)
	}
}

// Deliveries granted earlier and still buffered are handed out first, at most max at a
// time, and no credit is granted while they cover max.
func TestConsumerBuffered(t *testing.T) {
	srv := &creditServer{tasks: queue(5), delay: 50 * time.Millisecond}
	m := dialCredit(t, srv)
	c, err := m.Consume(context.Background(), Subscription{Commands: []string{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.Next(ctx, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next before the plugin sends: %v", err)
	}
	time.Sleep(150 * time.Millisecond) // all three arrive and wait in the buffer
	if ds, err := c.Next(context.Background(), 2); err != nil || len(ds) != 2 {
		t.Fatalf("Next(2) with 3 buffered = %d, %v", len(ds), err)
	}
	if ds, err := c.Next(context.Background(), 1); err != nil || len(ds) != 1 {
		t.Fatalf("Next(1) with 1 buffered = %d, %v", len(ds), err)
	}
	time.Sleep(50 * time.Millisecond) // a credit sent by mistake would reach the plugin
	if granted, sent := srv.counts(); granted != 3 || sent != 3 {
		t.Fatalf("granted %d, sent %d; want 3 and 3", granted, sent)
	}
}

// handStream is a consumeStream whose deliveries the test hands in one by one; it
// records the credits sent.
type handStream struct {
	mu      sync.Mutex
	credits []int32
	in      chan *messagingpb.Delivery
}

func (h *handStream) Send(m *messagingpb.ConsumeRequest) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.credits = append(h.credits, m.GetCredit().GetN())
	return nil
}

func (h *handStream) Recv() (*messagingpb.Delivery, error) { return <-h.in, nil }

func (h *handStream) sent() []int32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int32(nil), h.credits...)
}

// TestConsumerTopsUpCreditsAtHalf: a caller that takes one delivery at a time and asks
// for max each time grants max, then nothing while more than half of it is still
// granted, then tops it up to max; not a credit per delivery, each of which would wake
// the plugin just after it sent one.
func TestConsumerTopsUpCreditsAtHalf(t *testing.T) {
	h := &handStream{in: make(chan *messagingpb.Delivery)}
	c := &wireConsumer{stream: h, cancel: func() {}, wake: make(chan struct{}, 1), ended: make(chan struct{})}
	go c.receive()
	ctx := context.Background()
	for i := range 5 {
		got := make(chan error, 1)
		go func() {
			ds, err := c.Next(ctx, 4)
			if err == nil && len(ds) != 1 {
				err = errors.New("not one delivery")
			}
			got <- err
		}()
		h.in <- &messagingpb.Delivery{Task: &messagingpb.Task{Id: strconv.Itoa(i)}, LeaseId: "l"}
		if err := <-got; err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	// Granted 4; 3, then 2 left: a top-up of 2; 3, then 2 left again: another.
	if got := h.sent(); len(got) != 3 || got[0] != 4 || got[1] != 2 || got[2] != 2 {
		t.Fatalf("credits sent %v for 5 deliveries taken one at a time with max 4; want [4 2 2]", got)
	}
}
