package rbac_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/rbac"
)

const day = 24 * time.Hour

// The access review after simulated time: grants unused for 90 days, never-used grants,
// and roles no active subject holds (least privilege, ASVS5 8.2.1).
func TestAccessReview(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		h, a := newMuxServer(t, rbac.Options{Policy: notesPolicy()}, nil)
		serve(h, "GET", "/notes/1", "alice", "editor")
		serve(h, "PUT", "/notes/1", "alice", "editor")
		serve(h, "GET", "/notes/1", "bob", "viewer", "no-such-role")
		serve(h, "DELETE", "/admin/users/1", "bob", "viewer") // refused: not a use
		time.Sleep(60 * day)
		serve(h, "PUT", "/notes/1", "alice", "editor")
		time.Sleep(31 * day)

		rev := a.AccessReview(time.Now(), 0)
		if rev.UnusedFor != rbac.DefaultUnusedFor || !rev.Since.Equal(start) || rev.Subjects != 2 || rev.Evicted != 0 {
			t.Errorf("review header = %+v", rev)
		}
		var got []string
		for _, u := range rev.Unused {
			last := "never"
			if !u.LastUsed.IsZero() {
				last = fmt.Sprintf("day %d", u.LastUsed.Sub(start)/day)
			}
			got = append(got, fmt.Sprintf("%s %s %s/%s %s", u.Subject, u.Role, u.Rule.Role, u.Rule.Permission, last))
		}
		want := []string{
			"alice editor editor/notes:delete never",
			"alice editor viewer/notes:read day 0",
			"bob viewer viewer/notes:read day 0",
		}
		if !slices.Equal(got, want) {
			t.Errorf("Unused =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// bob was last seen 91 days ago, so only alice's roles count as held.
		if want := []string{"admin", "moderator", "suspended", "unused"}; !slices.Equal(rev.UnheldRoles, want) {
			t.Errorf("UnheldRoles = %q, want %q", rev.UnheldRoles, want)
		}

		// A shorter window: alice's write 31 days ago is now unused too.
		rev = a.AccessReview(time.Now(), 30*day)
		if len(rev.Unused) != 4 {
			t.Errorf("AccessReview(30 days) unused = %+v, want 4 entries", rev.Unused)
		}
	})
}

// The review's memory is bounded: attacker-minted subjects evict the least recently seen,
// never grow the record past Options.ReviewSubjects.
func TestAccessReview_Bounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, a := newMuxServer(t, rbac.Options{Policy: notesPolicy(), ReviewSubjects: 3}, nil)
		for i := range 1000 {
			serve(h, "GET", "/notes/1", fmt.Sprintf("user-%d", i), "viewer")
			time.Sleep(time.Second)
		}
		serve(h, "GET", "/notes/1", strings.Repeat("x", 600), "viewer")
		rev := a.AccessReview(time.Now().Add(100*day), 0)
		if rev.Subjects != 3 || rev.Evicted != 997 || rev.Skipped != 1 {
			t.Errorf("review counts: subjects %d evicted %d skipped %d, want 3, 997, 1", rev.Subjects, rev.Evicted, rev.Skipped)
		}
		var subjects []string
		for _, u := range rev.Unused {
			subjects = append(subjects, u.Subject)
		}
		if want := []string{"user-997", "user-998", "user-999"}; !slices.Equal(subjects, want) {
			t.Errorf("remembered subjects = %q, want %q", subjects, want)
		}
	})
}
