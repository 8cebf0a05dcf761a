package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/web/auth"
)

// The first login with a generated password makes it the user's: later
// starts no longer replace it (auth.Store.RenewGenerated).
func TestLoginKeepsTheGeneratedPassword(t *testing.T) {
	ta := newTestAuth(t)
	const pw = "printed at the first start"
	if err := ta.users.AddGeneratedUser("first", auth.RoleAdmin, pw); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	ts := newHTTPTestServer(t, s)
	same := http.Header{"Sec-Fetch-Site": {"same-origin"}}
	if r := do(t, "POST", ts.URL+"/login", nil, url.Values{"user": {"first"}, "password": {"a wrong password"}}, same); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	if u, _ := ta.users.User("first"); !u.Generated {
		t.Fatal("a failed login marked the generated password as used")
	}
	if r := do(t, "POST", ts.URL+"/login", nil, url.Values{"user": {"first"}, "password": {pw}}, same); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", r.StatusCode)
	}
	if u, _ := ta.users.User("first"); u.Generated {
		t.Fatal("after a login the password is still marked as generated and unused")
	}
	if ok, _ := ta.users.RenewGenerated("first", "a start after the login"); ok {
		t.Fatal("a start after the login would replace the password")
	}
}
