// Package simconn adds a connection to the Microsoft 365 simulator
// (cmd/m365sim) to a configuration folder the way a user would: the
// simulator's confidential app with the Client Credentials flow, its
// secret in the platform's keyring (Secret Service, or Credential Manager
// when the Windows stage runs it under Wine), the rest in config.json.
// make bench and make test-windows use it.
package simconn

import (
	"fmt"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/storage"
)

// App is what of the simulator a connection needs: its endpoints and the
// confidential app's credentials.
type App struct {
	TokenEndpoint string
	GraphEndpoint string
	ClientID      string
	Secret        string
}

// Connect adds a connection named name to the configuration in dir and
// stores its client secret in the keyring.
func Connect(dir, name string, app App) error {
	c := connector.NewConnection()
	c.Name = name
	c.Cloud = "Custom"
	c.TokenEndpoint = app.TokenEndpoint
	c.AuthorizationEndpoint = ""
	c.GraphEndpoint = app.GraphEndpoint
	c.ClientID = app.ClientID
	c.AuthFlow = storage.FlowClientCredentials
	c.RedirectURI = ""
	c.HasClientSecret = true
	keys := storage.NewKeyring(storage.KeyringService, storage.DefaultKeyringTimeout)
	if err := keys.Set(c.ID, storage.SecretClientSecret, app.Secret); err != nil {
		return fmt.Errorf("keyring (on Linux run inside scripts/session.sh): %w", err)
	}
	cs := storage.NewConfigStore(dir)
	cfg, err := cs.Load()
	if err != nil {
		return err
	}
	cfg.Connections = append(cfg.Connections, c)
	return cs.Save(cfg)
}
