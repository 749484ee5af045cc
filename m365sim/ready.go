package m365sim

import "time"

// ReadyPrefix starts the line `m365sim --ready-json` prints once it serves.
const ReadyPrefix = "m365sim-ready "

// ReadyInfo is the JSON of the --ready-json line: what a program that
// starts cmd/m365sim (the soak checks) needs to use it.
type ReadyInfo struct {
	PID           int    `json:"pid"`
	URL           string `json:"url"` // identity platform and Graph origin
	TokenEndpoint string `json:"token_endpoint"`
	AuthorizeURL  string `json:"authorize_endpoint"`
	GraphEndpoint string `json:"graph_endpoint"`
	CAFile        string `json:"ca_file,omitempty"`
	TenantID      string `json:"tenant_id"`
	Domain        string `json:"domain"`
	// Seed, Users and Reference (the day it was generated for, RFC 3339)
	// rebuild the served tenant with tenant.GenerateAt.
	Seed      int64     `json:"seed"`
	Users     int       `json:"users"`
	Reference time.Time `json:"reference"`
	// HistoryDays, when set (m365sim --history), says the tenant was then
	// aged that many days (tenant.AgeDays from Reference with
	// tenant.HistoryFraction); Users is its size when generated.
	HistoryDays int `json:"history_days,omitempty"`
	// The confidential client with application permissions.
	ClientCredentialsID     string `json:"client_credentials_id"`
	ClientCredentialsSecret string `json:"client_credentials_secret"`
	PublicClientID          string `json:"public_client_id"`
}
