package ui

// The Credential choice of Client Credentials in the connection dialog:
// Client Secret, or Certificate (a .pfx or .pem file, its password, and
// whether to keep the key in the keyring instead of the file). The file is
// opened as the token source will open it (service.OpenCertificate), so a
// wrong password, a key that does not match the certificate or an expired
// certificate shows next to the field before OK.

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fynestorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

const (
	credentialSecret      = "Client Secret"
	credentialCertificate = "Certificate"
	certToKeyringText     = "Keep the key in the keyring (the file is not needed afterwards)"
)

type certificateFields struct {
	credential *dialogRadio
	file       *dialogEntry
	browse     *dialogButton
	password   *dialogEntry
	toKeyring  *dialogCheck
	status     *widget.Label
	box        fyne.CanvasObject

	// opened is the file as typed, opened with the password as typed
	// (nil when the fields are empty or it failed: err says why).
	opened     *service.ChosenCertificate
	openedFrom [2]string // the path and password opened
	err        error
	// fileDialog is the open Browse... dialog (tests).
	fileDialog *dialog.FileDialog
}

func (d *ConnectionDialog) buildCertificate(typed func(string) func(string)) {
	f := &d.cert
	f.credential = newDialogRadio(d.keys, []string{credentialSecret, credentialCertificate}, true, func(string) { d.updateFlowRows(); d.revalidate() })
	f.file = newDialogEntry(d.keys)
	f.file.SetPlaceHolder("A .pfx or .pem file with the private key")
	f.file.OnChanged = typed(connector.FieldCertificate)
	f.browse = newDialogButton(d.keys, "Browse...", d.onBrowseCertificate)
	f.password = newDialogPasswordEntry(d.keys)
	f.password.SetPlaceHolder("Password of the .pfx file (none for .pem)")
	f.password.OnChanged = typed(connector.FieldCertificate)
	f.toKeyring = newDialogCheck(d.keys, certToKeyringText, func(bool) { d.revalidate() })
	f.status = helpLabel("")
	f.box = container.NewVBox(container.NewBorder(nil, nil, nil, f.browse, f.file), f.password, f.toKeyring, f.status)
}

// loadCertificate shows c's credential choice and its certificate.
func (d *ConnectionDialog) loadCertificate(c storage.Connection) {
	f := &d.cert
	if c.UsesCertificate() {
		f.credential.SetSelected(credentialCertificate)
	} else {
		f.credential.SetSelected(credentialSecret)
	}
	if ci := c.Certificate; ci != nil {
		f.file.SetText(ci.File)
		if ci.HasPassword {
			f.password.SetPlaceHolder(savedSecretHint)
		}
		f.toKeyring.SetChecked(ci.File == "" && ci.Thumbprint != "")
		f.status.SetText(certificateStatus(*ci))
	}
}

func certificateStatus(ci storage.CertificateInfo) string {
	if ci.Thumbprint == "" {
		return ""
	}
	where := ""
	if ci.File == "" {
		where = "Kept in the keyring. "
	}
	return fmt.Sprintf("%s%s, thumbprint %s, valid until %s.", where, ci.Subject, ci.Thumbprint, ci.NotAfter.Local().Format("2 January 2006"))
}

func (d *ConnectionDialog) usesCertificate() bool {
	return d.authFlow.Selected == string(storage.FlowClientCredentials) && d.cert.credential.Selected == credentialCertificate
}

// openTyped opens the file and password as typed, once per change.
func (d *ConnectionDialog) openTyped() {
	f := &d.cert
	path := connector.CleanCACertFile(f.file.Text)
	from := [2]string{path, f.password.Text}
	if from == f.openedFrom {
		return
	}
	f.openedFrom, f.opened, f.err = from, nil, nil
	orig := d.orig.Certificate
	if path == "" || (orig != nil && path == orig.File && f.password.Text == "") {
		return // nothing typed, or the saved file unchanged
	}
	f.opened, f.err = service.OpenCertificate(path, f.password.Text)
	if f.opened != nil {
		f.status.SetText(fmt.Sprintf("Thumbprint %s, valid until %s. Upload its .cer to the app registration (Certificates & secrets).",
			f.opened.Thumbprint(), f.opened.NotAfter().Local().Format("2 January 2006")))
	} else {
		f.status.SetText("")
	}
}

// certificateInto puts the credential as typed into c.
func (d *ConnectionDialog) certificateInto(c *storage.Connection) {
	if c.AuthFlow != storage.FlowClientCredentials {
		return
	}
	if !d.usesCertificate() {
		if c.Credential == storage.CredentialCertificate {
			// Its secrets are deleted on OK (certificateChanges).
			service.DropCertificate(c)
		}
		return
	}
	d.openTyped()
	c.Credential = storage.CredentialCertificate
	if d.cert.opened != nil {
		_, _ = d.cert.opened.Apply(c, d.cert.toKeyring.Checked)
		return
	}
	if d.cert.err != nil {
		c.Certificate = nil
	}
}

// certificateError is the error of the file as typed (validation only
// knows whether a certificate is there).
func (d *ConnectionDialog) certificateError(c storage.Connection) error {
	if !c.UsesCertificate() || d.cert.err == nil {
		return nil
	}
	msg := d.cert.err.Error()
	return errors.New(strings.ToUpper(msg[:1]) + msg[1:] + ".")
}

// certificateChanges are the keyring changes of the credential as typed.
func (d *ConnectionDialog) certificateChanges(c storage.Connection) []storage.SecretChange {
	switch {
	case c.UsesCertificate() && d.cert.opened != nil:
		prev := d.orig
		ch, _ := d.cert.opened.Apply(&prev, d.cert.toKeyring.Checked)
		return ch
	case !c.UsesCertificate() && d.orig.UsesCertificate():
		prev := d.orig
		return service.DropCertificate(&prev)
	}
	return nil
}

// onBrowseCertificate opens the file-open dialog for the certificate.
func (d *ConnectionDialog) onBrowseCertificate() {
	fd := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		d.cert.fileDialog = nil
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		_ = r.Close()
		d.cert.file.SetText(filepath.FromSlash(path))
	}, d.parent)
	fd.SetFilter(fynestorage.NewExtensionFileFilter([]string{".pfx", ".p12", ".pem"}))
	size := d.parent.Canvas().Size()
	fd.Resize(fyne.NewSize(min(size.Width-dialogMarginSides, 800), min(size.Height-dialogMarginTopBo, 600)))
	d.cert.fileDialog = fd
	fd.Show()
}

// showExpiry shows the age of the sign-in and the expiry warnings of the
// connection as edited, with st what imports recorded of it.
func (d *ConnectionDialog) showExpiry(st storage.ConnectionState) {
	d.expiry.SetText(expiryText(d.orig, st, clock.Now()))
	if d.expiry.Text == "" {
		d.expiry.Hide()
	} else {
		d.expiry.Show()
	}
}

// expiryText is the age of c's sign-in and its expiry warnings, as the
// dialog shows them; "" when there is nothing to say.
func expiryText(c storage.Connection, st storage.ConnectionState, now time.Time) string {
	var lines []string
	if age := connector.SignInAge(c, st, now); age != "" {
		lines = append(lines, "Sign-in: "+age+".")
	}
	for _, w := range connector.ExpiryWarnings(c, st, now) {
		lines = append(lines, "⚠ "+w.Text)
	}
	return strings.Join(lines, "\n")
}
