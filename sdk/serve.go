package sdk

import (
	"fmt"
	"time"

	"google.golang.org/grpc"

	basepb "github.com/sous-run/sous/sdk/proto/base"
	eventspb "github.com/sous-run/sous/sdk/proto/events"
	executorpb "github.com/sous-run/sous/sdk/proto/executor"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// returnTimeout bounds handing unsent deliveries back to a driver.
const returnTimeout = 5 * time.Second

// Plugin is what a plugin binary serves: set exactly one field, the driver of its kind.
type Plugin struct {
	Messaging Messaging
	Executor  Executor
	Events    Events
}

// Kind is the kind of the one driver set ("" when none or several are).
func (p Plugin) Kind() string {
	kind, n := "", 0
	if p.Messaging != nil {
		kind, n = KindMessaging, n+1
	}
	if p.Executor != nil {
		kind, n = KindExecutor, n+1
	}
	if p.Events != nil {
		kind, n = KindEvents, n+1
	}
	if n != 1 {
		return ""
	}
	return kind
}

// Register adds the plugin's Base service and the service of its kind to s, behind
// the SDK's not-configured gate and error mapping. Serve calls it; call it yourself
// only to serve a driver in-process (tests, benchmarks).
func (p Plugin) Register(s *grpc.Server) error {
	switch p.Kind() {
	case KindMessaging:
		b := &baseServer{b: p.Messaging}
		basepb.RegisterBaseServer(s, b)
		messagingpb.RegisterMessagingServer(s, &messagingServer{baseServer: b, m: p.Messaging})
	case KindExecutor:
		b := &baseServer{b: p.Executor}
		basepb.RegisterBaseServer(s, b)
		executorpb.RegisterExecutorServer(s, &executorServer{baseServer: b, x: p.Executor})
	case KindEvents:
		b := &baseServer{b: p.Events}
		basepb.RegisterBaseServer(s, b)
		eventspb.RegisterEventsServer(s, &eventsServer{baseServer: b, e: p.Events})
	default:
		return fmt.Errorf("sous plugin: set exactly one of Plugin.Messaging, Executor, Events")
	}
	return nil
}
