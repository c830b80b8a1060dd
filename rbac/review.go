package rbac

import (
	"container/list"
	"slices"
	"sort"
	"sync"
	"time"
)

// DefaultUnusedFor is the age after which [Authorizer.AccessReview] reports a grant unused.
const DefaultUnusedFor = 90 * 24 * time.Hour

// Bounds of the access review's memory. Subjects come from verified credentials, but a
// service that issues them freely (sign-up, API keys) lets a client mint new ones, so every
// dimension is capped: subjects by Options.ReviewSubjects with least-recently-seen eviction,
// the permissions per subject by maxUsedPerSubject (they come from the code's Require calls,
// not from requests), and the length of a subject id.
const (
	maxUsedPerSubject = 1024
	maxSubjectLen     = 512
)

// recorder remembers, per subject, the roles it held when last seen and when it last used
// each permission. A sync.Mutex over a map and an LRU list: the critical section is two map
// lookups and a list move, with no allocation once a subject is known.
type recorder struct {
	mu       sync.Mutex
	max      int
	subjects map[string]*list.Element // of *subjectRecord
	lru      list.List                // front: most recently seen
	since    time.Time
	evicted  int
	skipped  int
}

type subjectRecord struct {
	id        string
	roles     []string // known roles held when last seen, as named by the policy
	firstSeen time.Time
	lastSeen  time.Time
	used      map[string]time.Time // permission -> last granted
}

func newRecorder(max int, now time.Time) *recorder {
	return &recorder{max: max, subjects: make(map[string]*list.Element), since: now}
}

// record notes that subject, holding roles, was granted perms at now.
func (rc *recorder) record(subject string, roles []string, c *compiled, perms []string, now time.Time) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(subject) > maxSubjectLen {
		rc.skipped++
		return
	}
	var s *subjectRecord
	if el, ok := rc.subjects[subject]; ok {
		s = el.Value.(*subjectRecord)
		rc.lru.MoveToFront(el)
	} else {
		if rc.lru.Len() >= rc.max {
			oldest := rc.lru.Back()
			delete(rc.subjects, oldest.Value.(*subjectRecord).id)
			rc.lru.Remove(oldest)
			rc.evicted++
		}
		s = &subjectRecord{id: subject, firstSeen: now, used: make(map[string]time.Time)}
		rc.subjects[subject] = rc.lru.PushFront(s)
	}
	s.lastSeen = now
	if !sameKnownRoles(s.roles, roles, c) {
		s.roles = s.roles[:0]
		for _, r := range roles {
			if id, ok := c.roleID[r]; ok && !slices.Contains(s.roles, r) {
				s.roles = append(s.roles, c.roles[id].name) // the policy's copy, not the request's
			}
		}
	}
	for _, p := range perms {
		if _, ok := s.used[p]; ok || len(s.used) < maxUsedPerSubject {
			s.used[p] = now
		}
	}
}

// sameKnownRoles reports whether have equals the roles of want that c defines, in order.
func sameKnownRoles(have, want []string, c *compiled) bool {
	i := 0
	for _, r := range want {
		if _, ok := c.roleID[r]; !ok || slices.Contains(have[:i], r) {
			continue
		}
		if i >= len(have) || have[i] != r {
			return false
		}
		i++
	}
	return i == len(have)
}

// Review is the access review: which grants went unused and which roles nobody holds, so
// that an administrator can remove stale access (least privilege, ASVS5 8.1.x / 8.2.1).
type Review struct {
	Now       time.Time
	Since     time.Time     // when recording started
	UnusedFor time.Duration // the age threshold used
	// Unused lists, for every remembered subject, each allow rule its roles give it that it
	// has not used (no granted check the rule covers) for UnusedFor, counted from its last
	// use or, if never used, from when the subject was first seen.
	Unused []UnusedGrant
	// UnheldRoles lists the roles of the policy that no subject seen within UnusedFor held,
	// directly or by inheritance.
	UnheldRoles []string
	// Subjects is how many subjects are remembered; Evicted how many were forgotten
	// because of Options.ReviewSubjects, and Skipped how many checks were not recorded
	// because the subject id was over 512 bytes. If either is non-zero the report is
	// incomplete.
	Subjects, Evicted, Skipped int
}

// UnusedGrant is a grant a subject holds but has not used.
type UnusedGrant struct {
	Subject  string
	Role     string    // the subject's role that gives the grant
	Rule     Rule      // the allow rule
	LastUsed time.Time // zero if never used since the subject was first seen
}

// AccessReview reports grants unused for unusedFor (if zero or negative, [DefaultUnusedFor],
// 90 days) as of now, and roles nobody holds, from what the Authorizer recorded of the
// checks it granted (through Middleware, Require, RequireAny and CheckAccess) since New. The
// record is kept in memory only and bounded (see Options.ReviewSubjects), so a restart
// empties it; export the report periodically to keep a history.
func (a *Authorizer) AccessReview(now time.Time, unusedFor time.Duration) Review {
	if unusedFor <= 0 {
		unusedFor = DefaultUnusedFor
	}
	c := a.cur.Load()
	rc := a.review
	rc.mu.Lock()
	defer rc.mu.Unlock()

	rev := Review{Now: now, Since: rc.since, UnusedFor: unusedFor, Subjects: rc.lru.Len(), Evicted: rc.evicted, Skipped: rc.skipped}
	held := make([]bool, len(c.roles))
	for el := rc.lru.Front(); el != nil; el = el.Next() {
		s := el.Value.(*subjectRecord)
		active := now.Sub(s.lastSeen) < unusedFor
		seen := make(map[Rule]bool)
		for _, name := range s.roles {
			id, ok := c.roleID[name]
			if !ok {
				continue // the role was removed from the policy since
			}
			if active {
				for _, anc := range c.roles[id].ancestors {
					held[anc] = true
				}
			}
			for _, rule := range c.roles[id].rules {
				if rule.Deny || seen[rule] {
					continue
				}
				seen[rule] = true
				var last time.Time
				for perm, t := range s.used {
					if covers(rule.Permission, perm) && t.After(last) {
						last = t
					}
				}
				from := last
				if from.IsZero() {
					from = s.firstSeen
				}
				if now.Sub(from) >= unusedFor {
					rev.Unused = append(rev.Unused, UnusedGrant{Subject: s.id, Role: name, Rule: rule, LastUsed: last})
				}
			}
		}
	}
	for id, h := range held {
		if !h {
			rev.UnheldRoles = append(rev.UnheldRoles, c.roles[id].name)
		}
	}
	sort.Slice(rev.Unused, func(i, j int) bool {
		x, y := rev.Unused[i], rev.Unused[j]
		if x.Subject != y.Subject {
			return x.Subject < y.Subject
		}
		if x.Rule.Role != y.Rule.Role {
			return x.Rule.Role < y.Rule.Role
		}
		return x.Rule.Permission < y.Rule.Permission
	})
	sort.Strings(rev.UnheldRoles)
	return rev
}
