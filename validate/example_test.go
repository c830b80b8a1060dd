package validate_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bulwark-go/bulwark/validate"
)

type createUser struct {
	Email    string `json:"email" validate:"required,email,max=254"`
	Password string `json:"password" validate:"required,min=12,max=128"`
	Confirm  string `json:"confirm" validate:"eqfield=Password"`
	Age      int    `json:"age" validate:"gte=18,lte=130"`
	Homepage string `json:"homepage" validate:"omitempty,safeurl"`
}

func ExampleJSON() {
	createUserJSON, err := validate.JSON[createUser](validate.Options{
		Logger: slog.New(slog.DiscardHandler), // refusals are logged as input_validation_fail
	})
	if err != nil {
		fmt.Println(err) // a bad option or struct tag fails here, at start-up
		return
	}
	h := createUserJSON(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := validate.Body[createUser](r)
		fmt.Fprintf(w, "created %s", u.Email)
	}))

	for _, body := range []string{
		`{"email":"ann@example.com","password":"correct horse battery","confirm":"correct horse battery","age":30}`,
		`{"email":"ann@example.com","password":"short","confirm":"shorter","age":"30","is_admin":true}`,
		`{"email":"ann@example.com","password":"correct horse battery","confirm":"correct horse battery","age":17,"homepage":"javascript:alert(1)"}`,
	} {
		r := httptest.NewRequest(http.MethodPost, "/users", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// 200 created ann@example.com
	// 400 {"type":"about:blank","title":"Bad Request","status":400,"detail":"the request has invalid fields","errors":[{"detail":"must be an integer from -9223372036854775808 to 9223372036854775807","rule":"type","pointer":"/age"},{"detail":"is not a known field","rule":"unknown","pointer":"/is_admin"}]}
	// 400 {"type":"about:blank","title":"Bad Request","status":400,"detail":"the request has invalid fields","errors":[{"detail":"must be at least 18","rule":"gte","pointer":"/age"},{"detail":"must be an absolute URL with scheme https","rule":"safeurl","pointer":"/homepage"}]}
}

type listNotes struct {
	Owner  string   `path:"owner" validate:"required,uuid"`
	Limit  int      `query:"limit" validate:"omitempty,min=1,max=100"`
	Cursor string   `query:"cursor" validate:"omitempty,base64url,max=64"`
	Tags   []string `query:"tag" validate:"max=5,dive,alphanum,max=20"`
}

func ExampleQuery() {
	listNotesQuery, err := validate.Query[listNotes](validate.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /users/{owner}/notes", listNotesQuery(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := validate.Params[listNotes](r)
		fmt.Fprintf(w, "limit=%d tags=%q", p.Limit, p.Tags)
	})))

	const owner = "/users/8f14e45f-ceea-467f-a0e1-5a2f3b8e8a11/notes"
	for _, target := range []string{
		owner + "?limit=20&tag=work&tag=home",
		owner + "?limit=20&limit=1000", // parameter pollution
		owner + "?limit=100000&debug=1",
	} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// 200 limit=20 tags=["work" "home"]
	// 400 {"type":"about:blank","title":"Bad Request","status":400,"detail":"the request has invalid fields","errors":[{"detail":"must be given once","rule":"duplicate","parameter":"limit"}]}
	// 400 {"type":"about:blank","title":"Bad Request","status":400,"detail":"the request has invalid fields","errors":[{"detail":"is not a known parameter","rule":"unknown","parameter":"debug"}]}
}

func ExampleOptions_sanitize() {
	type comment struct {
		Author string `json:"author" validate:"required,max=40" sanitize:"nfc,trim"`
		Text   string `json:"text" validate:"required,max=2000" sanitize:"html"`
	}
	commentJSON, err := validate.JSON[comment](validate.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := commentJSON(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := validate.Body[comment](r)
		fmt.Printf("%q %q\n", c.Author, c.Text)
	}))
	r := httptest.NewRequest(http.MethodPost, "/comments",
		strings.NewReader(`{"author":"  Zoe\u0308 ","text":"<b>hi</b><script>alert(1)</script>"}`))
	r.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// "Zoë" "<b>hi</b>"
}
