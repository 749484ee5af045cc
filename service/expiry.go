package service

// What expires, and keeping it from expiring (issue 22, item 4): a refresh
// token dies after 90 days unused (AADSTS700082), a client secret or a
// certificate at its end date. The app records when it last obtained a
// token with a connection's sign-in (storage.ConnectionState.LastRefresh,
// in state.json beside the configuration, not a secret), reads its own app registration's credential end dates where it
// may (GET /applications(appId=…), Application.Read.All), and the
// scheduler's upkeep refreshes every scheduled sign-in often enough that
// it never ages out, whatever the schedule, and raises each expiry warning
// once per threshold (30, 7 and 1 days ahead).

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/storage"
)

// lastRefreshGranularity is how stale the recorded last refresh may be:
// a token source issues a token about every hour, and the warnings count
// in days, so the configuration is written at most once an hour for it.
const lastRefreshGranularity = time.Hour

// TokenUseRecorder returns an auth.TokenSourceOptions.OnToken that records
// the time as conn's LastRefresh in the state of configDir. A failure to
// record is logged, never an import's failure. It returns nil when there
// is no configuration folder.
func TokenUseRecorder(configDir string, conn storage.Connection, logger *slog.Logger) func(time.Time) {
	if configDir == "" {
		return nil
	}
	var last time.Time
	if st, err := storage.NewConfigStore(configDir).LoadState(); err == nil {
		last = st.Of(conn.ID).LastRefresh
	}
	return func(at time.Time) {
		if at.Sub(last) < lastRefreshGranularity {
			return
		}
		last = at
		if err := RecordTokenUse(configDir, conn.ID, at); err != nil && logger != nil {
			logger.Warn("could not record the time of the last token", "connection", conn.Name, "error", err.Error())
		}
	}
}

// RecordTokenUse sets the connection's LastRefresh to at (when later than
// the recorded one) in the state of configDir.
func RecordTokenUse(configDir, connID string, at time.Time) error {
	return storage.NewConfigStore(configDir).UpdateState(func(st *storage.State) error {
		if cs := st.For(connID); at.After(cs.LastRefresh) {
			cs.LastRefresh = at
		}
		return nil
	})
}

// KeepAliveAfter is how long a scheduled sign-in may go unused before the
// scheduler's upkeep refreshes it: far inside the 90 days of Microsoft's
// refresh tokens, so a monthly schedule, a missed run or a machine off for
// weeks still leaves a live token.
const KeepAliveAfter = 7 * 24 * time.Hour

// Upkeep is the scheduler's housekeeping (schedule.Options.Upkeep): keep
// scheduled sign-ins alive and raise the expiry warnings that are due.
type Upkeep struct {
	ConfigDir string
	Secrets   storage.Secrets
	Logger    *slog.Logger
	// Notify shows a warning (a desktop notification, a log line). Each
	// warning's threshold is notified once: the state remembers it
	// (storage.ConnectionState.Warned).
	Notify func(text string)
	// HTTPClient builds a connection's client; nil means HTTPClient.
	HTTPClient func(conn storage.Connection, secrets storage.Secrets) (*http.Client, error)
}

// Run refreshes every scheduled Authorization Code sign-in last used more
// than KeepAliveAfter ago, then notifies the expiry warnings newly due.
func (u Upkeep) Run(ctx context.Context, now time.Time) {
	logger := u.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if u.Secrets == nil {
		u.Secrets = storage.NewKeyring(storage.KeyringService, storage.DefaultKeyringTimeout)
	}
	store := storage.NewConfigStore(u.ConfigDir)
	cfg, err := store.Load()
	if err != nil {
		logger.Warn("upkeep: cannot read the configuration", "error", err.Error())
		return
	}
	state, err := store.LoadState()
	if err != nil {
		logger.Warn("upkeep: cannot read the state", "error", err.Error())
		return
	}
	for _, c := range cfg.Connections {
		if c.ScheduleID == "" || c.AuthFlow == storage.FlowClientCredentials || c.Token == nil {
			continue
		}
		if now.Sub(connector.LastSignInUse(c, state.Of(c.ID))) < KeepAliveAfter {
			continue
		}
		if err := u.refresh(ctx, c); err != nil {
			logger.Warn("upkeep: could not refresh the sign-in", "connection", c.Name, "error", err.Error())
			continue
		}
		logger.Info("upkeep: refreshed the sign-in so it does not expire", "connection", c.Name)
	}
	u.notifyDue(store, cfg, now, logger)
}

func (u Upkeep) refresh(ctx context.Context, c storage.Connection) error {
	mk := u.HTTPClient
	if mk == nil {
		mk = func(conn storage.Connection, secrets storage.Secrets) (*http.Client, error) {
			return HTTPClient(conn, secrets, "")
		}
	}
	hc, err := mk(c, u.Secrets)
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	ts, err := auth.NewTokenSource(auth.TokenSourceOptions{Conn: c, Secrets: u.Secrets, LockDir: u.ConfigDir, HTTPClient: hc, Logger: u.Logger,
		OnToken: func(at time.Time) { _ = RecordTokenUse(u.ConfigDir, c.ID, at) }})
	if err != nil {
		return err
	}
	_, err = ts.TokenContext(ctx)
	return err
}

// notifyDue notifies each warning whose threshold was not notified yet and
// remembers it.
func (u Upkeep) notifyDue(store *storage.ConfigStore, cfg *storage.Config, now time.Time, logger *slog.Logger) {
	var texts []string
	err := store.UpdateState(func(st *storage.State) error {
		texts = texts[:0]
		for _, c := range cfg.Connections {
			warned := map[string]int{}
			for _, w := range connector.ExpiryWarnings(c, st.Of(c.ID), now) {
				warned[w.Key] = w.Threshold
				if st.Of(c.ID).Warned[w.Key] != w.Threshold {
					texts = append(texts, w.Text)
				}
			}
			// Only what is due is remembered: a renewed credential or a
			// refreshed sign-in starts afresh.
			if len(warned) > 0 || len(st.Of(c.ID).Warned) > 0 {
				st.For(c.ID).Warned = warned
			}
		}
		return nil
	})
	if err != nil {
		logger.Warn("upkeep: cannot record the expiry warnings", "error", err.Error())
		return
	}
	for _, t := range texts {
		logger.Warn("expiry warning", "warning", t)
		if u.Notify != nil {
			u.Notify(t)
		}
	}
}
