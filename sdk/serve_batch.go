package sdk

import (
	"context"

	eventspb "github.com/sous-run/sous/sdk/proto/events"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

// publishBatch serves a PublishBatch call: through the driver's BatchPublisher when it
// has one, else each item as its own Publish, all at once.
func (s *eventsServer) publishBatch(ctx context.Context, q *eventspb.PublishBatchRequest) (*eventspb.PublishBatchResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	out := &eventspb.PublishBatchResponse{Results: make([]*eventspb.PublishResult, len(q.Items))}
	put := func(i int, ids []string, err error) {
		code, msg := replyStatus(ToStatus(err))
		out.Results[i] = &eventspb.PublishResult{Ids: ids, Code: code, Message: msg}
	}
	bp, ok := s.e.(BatchPublisher)
	if !ok {
		eachAtOnce(len(q.Items), func(i int) {
			r, err := s.Publish(ctx, q.Items[i])
			put(i, r.GetIds(), err)
		})
		return out, nil
	}
	items := make([]PublishItem, len(q.Items))
	for i, r := range q.Items {
		items[i] = PublishItem{Tenant: r.Tenant, InvocationID: r.InvocationId, TTL: secondsFromWire(r.TtlSeconds), Envelopes: r.Envelopes}
	}
	res := bp.PublishBatch(ctx, items)
	for i := range items {
		if i < len(res) {
			put(i, res[i].IDs, res[i].Err)
		} else {
			put(i, nil, errShortBatch)
		}
	}
	return out, nil
}

// ackBatch serves an AckBatch call: through the driver's BatchAcker when it has one,
// else each item as its own Ack, all at once.
func (s *messagingServer) ackBatch(ctx context.Context, q *messagingpb.AckBatchRequest) (*messagingpb.AckBatchResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	out := &messagingpb.AckBatchResponse{Results: make([]*messagingpb.ItemStatus, len(q.Items))}
	put := func(i int, err error) {
		code, msg := replyStatus(ToStatus(err))
		out.Results[i] = &messagingpb.ItemStatus{Code: code, Message: msg}
	}
	ba, ok := s.m.(BatchAcker)
	if !ok {
		eachAtOnce(len(q.Items), func(i int) {
			_, err := s.Ack(ctx, q.Items[i])
			put(i, err)
		})
		return out, nil
	}
	items := make([]AckItem, len(q.Items))
	for i, r := range q.Items {
		items[i] = AckItem{Lease: leaseFromWire(r.Tenant, r.Id, r.LeaseId), Result: r.ResultJson}
	}
	errs := ba.AckBatch(ctx, items)
	for i := range items {
		if i < len(errs) {
			put(i, errs[i])
		} else {
			put(i, errShortBatch)
		}
	}
	return out, nil
}

// enqueueBatch serves an EnqueueBatch call: through the driver's BatchEnqueuer when it
// has one, else each task as its own Enqueue, all at once.
func (s *messagingServer) enqueueBatch(ctx context.Context, q *messagingpb.EnqueueBatchRequest) (*messagingpb.EnqueueBatchResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	out := &messagingpb.EnqueueBatchResponse{Results: make([]*messagingpb.EnqueueResult, len(q.Items))}
	put := func(i int, r *messagingpb.EnqueueResponse, err error) {
		code, msg := replyStatus(ToStatus(err))
		out.Results[i] = &messagingpb.EnqueueResult{Id: r.GetId(), Duplicate: r.GetDuplicate(), Code: code, Message: msg}
	}
	be, ok := s.m.(BatchEnqueuer)
	if !ok {
		eachAtOnce(len(q.Items), func(i int) {
			r, err := s.Enqueue(ctx, q.Items[i])
			put(i, r, err)
		})
		return out, nil
	}
	tasks := make([]Task, len(q.Items))
	for i, r := range q.Items {
		tasks[i] = taskFromWire(r.GetTask())
	}
	res := be.EnqueueBatch(ctx, tasks)
	for i := range tasks {
		if i >= len(res) {
			put(i, nil, errShortBatch)
			continue
		}
		put(i, &messagingpb.EnqueueResponse{Id: res[i].ID, Duplicate: res[i].Duplicate}, res[i].Err)
	}
	return out, nil
}
