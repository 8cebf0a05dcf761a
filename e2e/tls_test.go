package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
)

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "netpanel test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

// Over TLS the panel serves HTTPS and marks the session cookie Secure.
func TestTLSServesHTTPSWithSecureCookies(t *testing.T) {
	ns := testenv.NewNS(t)
	cert, key := selfSigned(t, t.TempDir())
	p := startPanel(t, "--netns", ns.Name, "--tls-cert", cert, "--tls-key", key)
	u := p.URL
	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // our own self-signed cert
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, _ := http.NewRequest("POST", u+"/login", strings.NewReader(url.Values{"user": {"admin"}, "password": {p.Password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.TLS == nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login over TLS: %d, tls %v", resp.StatusCode, resp.TLS != nil)
	}
	var secure bool
	for _, c := range resp.Cookies() {
		secure = secure || (c.Name == "netpanel_session" && c.Secure && c.HttpOnly)
	}
	if !secure {
		t.Fatalf("session cookie not Secure+HttpOnly: %v", resp.Header["Set-Cookie"])
	}
	if r, err := http.Get(strings.Replace(p.URL, "https://", "http://", 1) + "/login"); err == nil && r.StatusCode == http.StatusOK {
		t.Fatal("plain HTTP answered on the TLS port")
	}
}

func TestPlainHTTPOffLoopbackIsRefused(t *testing.T) {
	ns := testenv.NewNS(t)
	out, err := exec.Command(binary(t), "--netns", ns.Name, "--state-dir", t.TempDir(), "--listen", "0.0.0.0:0").CombinedOutput()
	if err == nil {
		t.Fatal("netpanel started on 0.0.0.0 without TLS")
	}
	if !strings.Contains(string(out), "--tls-proxy") {
		t.Fatalf("the refusal does not say how to proceed:\n%s", out)
	}
}

// With --tls-proxy every page warns that netpanel itself serves plain HTTP.
func TestTLSProxyModeWarnsOnEveryPage(t *testing.T) {
	ns := testenv.NewNS(t)
	p := startPanel(t, "--netns", ns.Name, "--tls-proxy")
	tab := newBrowser(t)
	p.login(t, tab)
	openLive(t, tab, p.URL+"/routes")
	if txt := evalJS[string](t, tab, `document.querySelector('.banner.warn') ? document.querySelector('.banner.warn').textContent : ''`); !strings.Contains(txt, "TLS proxy") {
		t.Fatalf("no TLS proxy warning; banner %q", txt)
	}
}
