package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/app/audit"
	"github.com/netpanel/netpanel/views"
	"github.com/netpanel/netpanel/web/auth"
)

// safeNext keeps redirects after login on this site: a local absolute
// path, never "//host" or a scheme.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, vm views.LoginVM) {
	vm.NoTLS = r.TLS == nil && !s.cfg.TLSProxy && !loopbackRequest(r)
	var buf bytes.Buffer
	if err := views.LoginPage(vm).Render(r.Context(), &buf); err != nil {
		s.cfg.Log.Error("rendering the login page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func loopbackRequest(r *http.Request) bool {
	return strings.HasPrefix(r.RemoteAddr, "127.") || strings.HasPrefix(r.RemoteAddr, "[::1]")
}

// loginForm serves GET /login.
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	vm := views.LoginVM{Next: safeNext(r.URL.Query().Get("next"))}
	if r.URL.Query().Get("bye") == "1" {
		vm.Notice = "You are logged out."
	}
	s.renderLogin(w, r, http.StatusOK, vm)
}

// login serves POST /login: rate-limited per client address and per user,
// audited without the password.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, views.LoginVM{Error: "the form could not be read"})
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	user, password, err := auth.ParseLogin(r.PostForm)
	if err != nil {
		// ParseLogin keeps the user name only when the password is at fault.
		field := "password"
		if user == "" {
			field = "user"
		}
		s.renderLogin(w, r, http.StatusBadRequest, views.LoginVM{User: user, Next: next, Error: err.Error(), ErrorField: field})
		return
	}
	client := s.clientAddr(r)
	// The attempt counts before bcrypt runs (see LoginAttempt), so parallel
	// guesses cannot all pass the check.
	if wait, ok := s.limiter.LoginAttempt(addrKey(client), user); !ok {
		s.audit(audit.Entry{User: user, Client: client, Action: audit.ActionLoginFailed, Detail: "rate limited", Result: "refused"})
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		s.renderLogin(w, r, http.StatusTooManyRequests, views.LoginVM{User: user, Next: next,
			Error: fmt.Sprintf("Too many failed logins from this address, or for this user from an address that failed before; try again in %s.", wait.Round(time.Second))})
		return
	}
	u, err := s.cfg.Users.Verify(user, password)
	if err != nil {
		s.cfg.Log.Warn("failed login", "user", user, "client", client)
		s.audit(audit.Entry{User: user, Client: client, Action: audit.ActionLoginFailed, Detail: "wrong user name or password", Result: "refused"})
		s.renderLogin(w, r, http.StatusUnauthorized, views.LoginVM{User: user, Next: next, Error: "Wrong user name or password.", ErrorField: "password"})
		return
	}
	s.limiter.LoginSucceeded(addrKey(client), user)
	if u.Generated {
		// The printed first password is now in use: later starts keep it.
		if err := s.cfg.Users.PasswordUsed(u.Name); err != nil {
			s.cfg.Log.Error("recording the first login with the generated password", "user", u.Name, "err", err)
		}
	}
	sess := s.cfg.Sessions.Create(u)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: sess.ID, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureCookies(r),
	})
	s.audit(audit.Entry{User: u.Name, Client: client, Action: audit.ActionLogin, Detail: "role " + string(u.Role), Result: audit.ResultOK})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout serves POST /logout: the session ends on the server too.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	id, _ := handlers.IdentityOf(r)
	if id.Session != "" {
		// Sockets first: the periodic check would otherwise find the
		// session gone and say only "session ended".
		s.live.closeWhere(func(x app.Identity) bool { return x.Session == id.Session }, "logged out")
		s.cfg.Sessions.Delete(id.Session)
		s.audit(audit.Entry{User: id.User, Client: s.clientAddr(r), Action: audit.ActionLogout, Result: audit.ResultOK})
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureCookies(r)})
	http.Redirect(w, r, "/login?bye=1", http.StatusSeeOther)
}
