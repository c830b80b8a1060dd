package redisstore

import (
	"context"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Concurrent decisions are sent together: each is still its own EVALSHA, atomic on its own
// and answered in one round trip, but the calls that arrive while others are on the wire go
// out in one pipeline (one write and one read on each side instead of one per decision).
// Redis spends most of a small command's time in those system calls, so this is what lets a
// script call keep up with a bare PING. There is no background goroutine: a caller that
// finds fewer than maxLeaders pipelines on the wire sends the queue itself, and when its
// pipeline returns it hands the next queue to one of the callers waiting in it.
const (
	maxLeaders = 4   // pipelines on the wire at once
	maxBatch   = 128 // calls per pipeline
)

type batcher struct {
	mu      sync.Mutex
	queue   []*call
	leaders int  // goroutines sending a pipeline, or told to (token below)
	token   bool // queue[0] has been told to send the queue and has not yet taken it
}

// call is one decision waiting for its reply.
type call struct {
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd    // the reply, set before done is closed
	done   chan struct{} // closed when cmd is set
	lead   chan struct{} // cap 1: this caller must send the queue
}

// do sends c, alone or in a pipeline with concurrent calls, and waits for its reply or ctx.
func (s *Store) do(ctx context.Context, c *call) (*redis.Cmd, error) {
	c.done = make(chan struct{})
	c.lead = make(chan struct{}, 1)
	b := &s.batch
	b.mu.Lock()
	b.queue = append(b.queue, c)
	sendNow := b.leaders < maxLeaders && !b.token
	if sendNow {
		b.leaders++
	}
	b.mu.Unlock()
	if sendNow {
		s.lead()
	}
	for {
		select {
		case <-c.done:
			return c.cmd, c.cmd.Err()
		case <-c.lead:
			s.lead()
		case <-ctx.Done():
			b.mu.Lock()
			select {
			case <-c.lead: // told to lead at the same moment: the queue depends on us
				b.mu.Unlock()
				s.lead()
				continue
			default:
			}
			if i := slices.Index(b.queue, c); i >= 0 {
				b.queue = slices.Delete(b.queue, i, i+1)
			}
			b.mu.Unlock()
			return nil, ctx.Err()
		}
	}
}

// lead sends up to maxBatch queued calls as one pipeline, delivers the replies, then passes
// leadership to the first caller still queued, or gives it up.
func (s *Store) lead() {
	b := &s.batch
	b.mu.Lock()
	n := min(len(b.queue), maxBatch)
	batch := slices.Clone(b.queue[:n])
	b.queue = slices.Delete(b.queue, 0, n)
	b.token = false
	b.mu.Unlock()

	if len(batch) > 0 {
		s.send(batch)
	}

	b.mu.Lock()
	if len(b.queue) > 0 && !b.token {
		b.token = true
		b.queue[0].lead <- struct{}{}
	} else {
		b.leaders--
	}
	b.mu.Unlock()
}

// send runs the calls as one pipeline under the store's timeout (not a caller's context: a
// caller that gives up must not cancel the others). A call whose script Redis has lost
// (NOSCRIPT, after SCRIPT FLUSH or a failover) is sent again with EVAL.
func (s *Store) send(batch []*call) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	pipe := s.client.Pipeline()
	cmds := make([]*redis.Cmd, len(batch))
	for i, c := range batch {
		cmds[i] = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx)
	for i, c := range batch {
		cmd := cmds[i]
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			cmd = c.script.Eval(ctx, s.client, c.keys, c.args...)
		}
		c.cmd = cmd
		close(c.done)
	}
}
