package connector

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/storage"
)

func TestValidateCACertFile(t *testing.T) {
	certDER, pubDER, keyDER := testenv.TestCA(t)
	cert, pub, key := testenv.PEM("CERTIFICATE", certDER), testenv.PEM("PUBLIC KEY", pubDER), testenv.PEM("PRIVATE KEY", keyDER)
	damaged := testenv.PEM("CERTIFICATE", certDER[:len(certDER)/2])
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("ca.pem", cert)

	tests := []struct {
		name string
		path string // the path as typed
		want string // part of the error; "" means accepted
	}{
		{"empty means the system's certificates", "", ""},
		{"only spaces count as empty", "   ", ""},
		{"valid self-signed CA", good, ""},
		{"spaces and Windows quotes around the path", `  "` + good + `" `, ""},
		{"bundle with text and a key before the certificate", write("bundle.crt", "Contoso proxy CA\n"+pub+cert), ""},
		{"CRLF line ends", write("crlf.cer", strings.ReplaceAll(cert, "\n", "\r\n")), ""},
		{"one damaged and one good certificate", write("mixed.pem", damaged+cert), ""},
		{"missing file", filepath.Join(dir, "missing.pem"), "There is no file at " + filepath.Join(dir, "missing.pem") + ". Check the path, or click Browse..."},
		{"a folder", dir, "is a folder"},
		{"empty file", write("empty.pem", ""), "The file is empty. Export your proxy's root CA certificate"},
		{"blank file", write("blank.pem", "\n \n"), "The file is empty."},
		{"not PEM", write("notes.txt", "please trust our proxy\n"), "The file holds no PEM certificate (no -----BEGIN CERTIFICATE----- line)."},
		{"binary DER", write("ca.cer", string(certDER)), "binary (DER) certificate"},
		{"PEM with a public key only", write("pub.pem", pub), "The file holds a PUBLIC KEY block but no certificate"},
		{"PEM with a private key only", write("key.pem", key), "private key (PRIVATE KEY), not a certificate"},
		{"damaged certificate", write("damaged.pem", damaged), "damaged and cannot be read"},
		{"certificate block with headers", write("headers.pem", strings.Replace(cert, "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1)), "CERTIFICATE block but no certificate"},
	}
	if runtime.GOOS != "windows" {
		tests = append(tests, struct{ name, path, want string }{"a device", os.DevNull, "is not an ordinary file"})
		if os.Geteuid() != 0 {
			unreadable := write("unreadable.pem", cert)
			if err := os.Chmod(unreadable, 0); err != nil {
				t.Fatal(err)
			}
			tests = append(tests, struct{ name, path, want string }{"unreadable", unreadable, "permission denied"})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateCACertFile(tt.path)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("accepted, want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
			if err != nil && !strings.HasSuffix(err.Error(), ".") && !strings.Contains(err.Error(), "openssl") {
				t.Errorf("%q is not a whole sentence", err)
			}
			// What is accepted is exactly what the connection's HTTP
			// client can add to its trusted roots (service.HTTPClient).
			path := CleanCACertFile(tt.path)
			if path == "" {
				return
			}
			data, readErr := os.ReadFile(path)
			usable := readErr == nil && x509.NewCertPool().AppendCertsFromPEM(data)
			if usable != (err == nil) {
				t.Errorf("validation says %v, the certificate pool says usable=%v", err, usable)
			}
		})
	}
}

func TestValidateReportsCACertFileWhateverTheProxy(t *testing.T) {
	c := NewConnection()
	c.Name = "Contoso"
	c.CACertFile = filepath.Join(t.TempDir(), "nope.pem")
	for _, proxy := range []bool{false, true} {
		c.Proxy = storage.Proxy{Enabled: proxy, Server: "http://proxy.contoso.com:8080"}
		errs := Validate(c, nil, "", false)
		if len(errs) != 1 || errs[FieldCACertFile] == nil || !strings.Contains(errs[FieldCACertFile].Error(), "There is no file") {
			t.Fatalf("proxy %v: %v", proxy, errs)
		}
	}
	c.CACertFile = ""
	if errs := Validate(c, nil, "", false); len(errs) != 0 {
		t.Fatalf("empty means the system's certificates: %v", errs)
	}
}
