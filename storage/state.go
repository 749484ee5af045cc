package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// stateFileName is the file of State in the configuration directory.
const stateFileName = "state.json"

// State is what the app records about its connections as it runs, as
// opposed to their settings: when each sign-in was last used, the app
// registration's credential end dates, and which expiry warnings were
// notified. It lives beside config.json, not in it, so that an import or
// the scheduler recording it never makes a window's unsaved edits collide
// with the file (ErrConfigChanged). Nothing in it is secret.
type State struct {
	Connections map[string]*ConnectionState `json:"connections,omitempty"`
}

// ConnectionState is the State of one connection, by connection ID.
type ConnectionState struct {
	// LastRefresh is when the app last obtained a token with the
	// connection's sign-in (a refresh token redeemed, or a client
	// credentials token): Microsoft expires a refresh token unused for 90
	// days, so the expiry warnings count from here.
	LastRefresh time.Time `json:"lastRefresh,omitzero"`
	// AppCredentials are the end dates of the app registration's client
	// secrets and certificates as last read from Graph (GET
	// /applications(appId=…), which needs Application.Read.All); empty
	// when the app may not read its registration.
	AppCredentials []AppCredential `json:"appCredentials,omitempty"`
	// Warned remembers which expiry warnings were notified, by key (what
	// expires and its date) and threshold in days, so each desktop
	// notification is shown once.
	Warned map[string]int `json:"warned,omitempty"`
}

// AppCredential is one credential of the app registration: a client
// secret (Name is its hint, the first characters Microsoft shows) or a
// certificate (Name is its thumbprint), and when it expires.
type AppCredential struct {
	Kind string    `json:"kind"` // "secret" or "certificate"
	Name string    `json:"name"`
	End  time.Time `json:"end"`
}

// Of returns the state of the connection connID (zero when none).
func (s *State) Of(connID string) ConnectionState {
	if s == nil || s.Connections[connID] == nil {
		return ConnectionState{}
	}
	return *s.Connections[connID]
}

// For returns the state of connID to change, creating it.
func (s *State) For(connID string) *ConnectionState {
	if s.Connections == nil {
		s.Connections = map[string]*ConnectionState{}
	}
	if s.Connections[connID] == nil {
		s.Connections[connID] = &ConnectionState{}
	}
	return s.Connections[connID]
}

// LoadState reads the State. A missing or damaged file is an empty State:
// it is a record the app rebuilds as it runs, never a reason to stop.
func (s *ConfigStore) LoadState() (*State, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, stateFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return &State{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(s.dir, stateFileName), err)
	}
	st := &State{}
	if json.Unmarshal(data, st) != nil {
		return &State{}, nil
	}
	return st, nil
}

// UpdateState changes the State under the configuration's lock and writes
// it as the configuration is written (never half written, 0600).
func (s *ConfigStore) UpdateState(fn func(*State) error) error {
	return s.withLock(func() error {
		st, err := s.LoadState()
		if err != nil {
			return err
		}
		if err := fn(st); err != nil {
			return err
		}
		data, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			return err
		}
		return s.replaceLocked(filepath.Join(s.dir, stateFileName), stateFileName, data)
	})
}
