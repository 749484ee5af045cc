package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/inventorybeacon/beacon/internal/answer"
)

// AppCredential is one credential of an app registration and its end.
type AppCredential struct {
	// Certificate is true for a keyCredential (Name is its thumbprint),
	// false for a passwordCredential (Name is its hint).
	Certificate bool
	Name        string
	End         time.Time
}

// ApplicationCredentials reads the app registration appID's client secrets
// and certificates with their end dates (GET /applications(appId='…')).
// Graph answers 403 (a *GraphError) without Application.Read.All or a
// higher permission.
func (c *Client) ApplicationCredentials(ctx context.Context, appID string) ([]AppCredential, error) {
	var app struct {
		KeyCredentials []struct {
			CustomKeyIdentifier string    `json:"customKeyIdentifier"`
			EndDateTime         time.Time `json:"endDateTime"`
		} `json:"keyCredentials"`
		PasswordCredentials []struct {
			Hint        string    `json:"hint"`
			EndDateTime time.Time `json:"endDateTime"`
		} `json:"passwordCredentials"`
	}
	u := c.url("/applications(appId='" + url.PathEscape(appID) + "')?$select=keyCredentials,passwordCredentials")
	err := c.get(ctx, u, nil, func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("unexpected %s from /applications", resp.Status)
		}
		b, err := answer.Read(resp, tooLarge(resp, "the list of an app registration's credentials"))
		var large *answer.TooLargeError
		if errors.As(err, &large) {
			return large // not retried: the same answer would come again
		}
		if err != nil {
			return bodyError(err)
		}
		if err := json.Unmarshal(b, &app); err != nil {
			return bodyError(fmt.Errorf("the application is not JSON: %w", err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []AppCredential
	for _, k := range app.KeyCredentials {
		out = append(out, AppCredential{Certificate: true, Name: k.CustomKeyIdentifier, End: k.EndDateTime})
	}
	for _, p := range app.PasswordCredentials {
		out = append(out, AppCredential{Name: p.Hint, End: p.EndDateTime})
	}
	return out, nil
}
