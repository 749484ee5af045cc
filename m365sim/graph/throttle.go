package graph

import (
	"sync"
	"time"
)

// limiter is the directory's token bucket per app and tenant: capacity
// units, refilled continuously over 10 s.
type limiter struct {
	mu      sync.Mutex
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

const bucketPeriod = 10 * time.Second

// take removes cost units, or says how long until they are available.
func (l *limiter) take(key string, cost, capacity float64) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: capacity, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(capacity, b.tokens+capacity*el.Seconds()/bucketPeriod.Seconds())
		b.last = now
	}
	if b.tokens >= cost {
		b.tokens -= cost
		return true, 0
	}
	need := cost - b.tokens
	return false, time.Duration(need / capacity * float64(bucketPeriod))
}

// windowLimiter allows limit requests per sliding window per key: the
// reports' 14 requests per 10 minutes per app per report.
type windowLimiter struct {
	mu     sync.Mutex
	now    func() time.Time
	limit  int
	window time.Duration
	hits   map[string][]time.Time
}

func (l *windowLimiter) take(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	h := l.hits[key]
	i := 0
	for i < len(h) && now.Sub(h[i]) >= l.window {
		i++
	}
	h = h[i:]
	if len(h) >= l.limit {
		l.hits[key] = h
		return false, h[0].Add(l.window).Sub(now)
	}
	l.hits[key] = append(h, now)
	return true, 0
}
