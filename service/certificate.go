package service

// Choosing a connection's certificate, for the dialog and `beacon
// connection add|set` alike: open the file as the token source will
// (auth.LoadCertificateFile), refuse one that is expired or not yet valid,
// and turn the choice into the connection's public description plus the
// keyring changes (the PFX password, or the key itself when it is kept in
// the keyring instead of a file). No key or password ever reaches the
// configuration.

import (
	"path/filepath"
	"time"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/storage"
)

// ChosenCertificate is a certificate file opened for a connection.
type ChosenCertificate struct {
	cert     *auth.Certificate
	file     string
	password string
}

// OpenCertificate opens a PEM or PFX file with password (empty for PEM)
// and checks that it is valid now on the program clock. Its errors are
// plain sentences: unreadable file, wrong password, a key that does not
// belong to the certificate, expired (with the end date), not yet valid.
func OpenCertificate(path, password string) (*ChosenCertificate, error) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	c, err := auth.LoadCertificateFile(path, password)
	if err != nil {
		return nil, err
	}
	if err := c.CheckValidAt(clock.Now()); err != nil {
		return nil, err
	}
	return &ChosenCertificate{cert: c, file: path, password: password}, nil
}

// Thumbprint is the certificate's SHA-1 thumbprint as the Azure portal
// shows it.
func (cc *ChosenCertificate) Thumbprint() string { return cc.cert.Thumbprint() }

// NotAfter is when the certificate expires.
func (cc *ChosenCertificate) NotAfter() time.Time { return cc.cert.Cert.NotAfter }

// CER is the certificate alone (PEM): what to upload to the app
// registration.
func (cc *ChosenCertificate) CER() []byte { return cc.cert.CER() }

// Apply makes c a Certificate connection using cc and returns the keyring
// changes. toKeyring keeps the key and certificate in the keyring (no file
// is needed afterwards); otherwise the file stays where it is and only a
// PFX password goes to the keyring. Secrets of the previous choice that
// no longer apply are deleted.
func (cc *ChosenCertificate) Apply(c *storage.Connection, toKeyring bool) ([]storage.SecretChange, error) {
	had := c.Certificate
	c.Credential = storage.CredentialCertificate
	var changes []storage.SecretChange
	if toKeyring {
		text, err := cc.cert.PEM()
		if err != nil {
			return nil, err
		}
		info := cc.cert.Info("")
		c.Certificate = &info
		changes = append(changes, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretCertificateKey, Value: text})
		if had != nil && had.HasPassword {
			changes = append(changes, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretCertificatePassword, Delete: true})
		}
		return changes, nil
	}
	info := cc.cert.Info(cc.file)
	info.HasPassword = cc.password != ""
	c.Certificate = &info
	if info.HasPassword {
		changes = append(changes, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretCertificatePassword, Value: cc.password})
	} else if had != nil && had.HasPassword {
		changes = append(changes, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretCertificatePassword, Delete: true})
	}
	if had != nil && had.File == "" && had.Thumbprint != "" {
		changes = append(changes, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretCertificateKey, Delete: true})
	}
	return changes, nil
}

// DropCertificate turns c back to a client secret and returns the keyring
// changes that remove its certificate's secrets.
func DropCertificate(c *storage.Connection) []storage.SecretChange {
	had := c.Certificate
	c.Credential, c.Certificate = storage.CredentialSecret, nil
	var changes []storage.SecretChange
	if had != nil && had.HasPassword {
		changes = append(changes, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretCertificatePassword, Delete: true})
	}
	if had != nil && had.File == "" && had.Thumbprint != "" {
		changes = append(changes, storage.SecretChange{ConnID: c.ID, Kind: storage.SecretCertificateKey, Delete: true})
	}
	return changes
}
