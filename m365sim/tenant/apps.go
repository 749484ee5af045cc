package tenant

import (
	"crypto/sha256"
	"fmt"
	"strconv"
)

// Microsoft first-party applications with their real application ids.
var firstParty = []struct{ appID, name string }{
	{"00000003-0000-0000-c000-000000000000", "Microsoft Graph"},
	{"00000002-0000-0000-c000-000000000000", "Windows Azure Active Directory"},
	{"00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"},
	{"00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online"},
	{"00000004-0000-0ff1-ce00-000000000000", "Skype for Business Online"},
	{"00000009-0000-0000-c000-000000000000", "Power BI Service"},
	{"0000000a-0000-0000-c000-000000000000", "Microsoft Intune"},
	{"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"},
	{"5e3ce6c0-2b1f-4285-8d4b-75ee78787346", "Microsoft Teams Web Client"},
	{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal"},
	{"1950a258-227b-4e31-a9cf-717495945fc2", "Microsoft Azure PowerShell"},
	{"04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI"},
	{"d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office"},
	{"de8bc8b5-d9f9-48b1-a8ad-b748da725064", "Graph Explorer"},
	{"c5393580-f805-4401-95e8-94b7a6ef2fc2", "Office 365 Management APIs"},
	{"797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API"},
	{"14d82eec-204b-4c2f-b7e8-296a70dab67e", "Microsoft Graph Command Line Tools"},
	{"00b41c95-dab0-4487-9791-b9d2c32c80f2", "Office 365 Management"},
	{"4345a7b9-9a63-4910-a426-35363201d503", "O365 Suite UX"},
	{"4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome"},
	{"89bee1f7-5e6e-4d8a-9f3d-ecd601259da7", "Office365 Shell WCSS-Client"},
	{"cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services"},
	{"ab9b8c07-8f02-4f72-87fa-80105867a763", "OneDrive SyncEngine"},
	{"27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile"},
	{"00000007-0000-0000-c000-000000000000", "Dynamics CRM Online"},
	{"fc780465-2017-40d4-a0c5-307022471b92", "WindowsDefenderATP"},
	{"0000000c-0000-0000-c000-000000000000", "Microsoft App Access Panel"},
	{"e1ef36fd-b883-4dbf-97f0-9ece4b576fc6", "Windows Store for Business"},
}

var msServiceWords = []string{"Azure", "Office", "Exchange", "SharePoint", "Teams", "Intune", "Defender", "Purview",
	"Power Platform", "Dynamics", "Viva", "Bing", "Cortana", "Yammer", "Stream", "Forms", "Planner", "Whiteboard",
	"Compliance", "Identity", "Sway", "Bookings", "OneNote", "Loop", "Copilot", "Fabric", "Entra", "Windows Update"}
var msServiceNouns = []string{"Service", "Connector", "Portal", "Sync", "Analytics", "Insights", "Notifications",
	"Provisioning", "Graph Connector", "Broker", "Gateway", "Backend", "Admin Center", "Client", "Agent"}

var vendors = []struct{ publisher, product string }{
	{"Zoom Video Communications, Inc.", "Zoom"}, {"Slack Technologies, LLC", "Slack"}, {"Salesforce, Inc.", "Salesforce"},
	{"ServiceNow, Inc.", "ServiceNow"}, {"Adobe Inc.", "Adobe Acrobat Sign"}, {"DocuSign, Inc.", "DocuSign"},
	{"Atlassian", "Atlassian Cloud"}, {"Workday, Inc.", "Workday"}, {"Box, Inc.", "Box"}, {"Dropbox, Inc.", "Dropbox Business"},
	{"GitHub, Inc.", "GitHub Enterprise Cloud"}, {"Miro", "Miro"}, {"Cisco Systems, Inc.", "Webex"}, {"SAP SE", "SAP Concur"},
	{"Okta, Inc.", "Okta"}, {"Asana, Inc.", "Asana"}, {"Trello", "Trello"}, {"HubSpot, Inc.", "HubSpot"},
	{"Smartsheet Inc.", "Smartsheet"}, {"Lucid Software Inc.", "Lucidchart"}, {"Mimecast", "Mimecast"},
	{"KnowBe4, Inc.", "KnowBe4"}, {"Tableau", "Tableau Online"}, {"Zscaler", "Zscaler Internet Access"},
	{"Inventory Beacon", "Inventory Beacon"},
}

var ownAppWords = []string{"HR Portal", "Expense Reporting", "Build Agent", "Intranet", "Timesheets", "Data Warehouse ETL",
	"Backup Job", "Monitoring", "Provisioning Script", "Room Booking", "Payroll Export", "Ticketing Bridge"}

var managedIdentityWords = []string{"vm-prod-web", "vm-prod-sql", "func-billing", "aks-agentpool", "logic-invoices",
	"adf-ingest", "app-portal", "vmss-build", "aci-batch", "apim-gateway"}

// servicePrincipals creates the enterprise applications: about half
// Microsoft first-party, a quarter third-party, the rest the organisation's
// own apps and managed identities.
func (g *gen) servicePrincipals(users int) {
	t := g.t
	n := min(1500+users/100, 4000)
	sps := make([]*ServicePrincipal, 0, n+8)
	add := func(sp *ServicePrincipal) { sps = append(sps, sp) }
	for _, fp := range firstParty {
		add(&ServicePrincipal{ID: g.guid(), AppID: fp.appID, DisplayName: fp.name, AppDisplayName: fp.name,
			PublisherName: "Microsoft Services", AppOwnerOrganizationID: MicrosoftTenantID,
			ServicePrincipalType: "Application", AccountEnabled: true, Tags: []string{}})
	}
	// Service principals of the registered clients.
	for _, a := range g.registeredApps() {
		owner := t.ID
		pub := t.DisplayName
		tags := []string{"WindowsAzureActiveDirectoryIntegratedApp"}
		if a.AppID == DefaultClientID {
			owner, pub = g.guid(), "Inventory Beacon"
		}
		add(&ServicePrincipal{ID: g.guid(), AppID: a.AppID, DisplayName: a.DisplayName, AppDisplayName: a.DisplayName,
			PublisherName: pub, AppOwnerOrganizationID: owner, ServicePrincipalType: "Application", AccountEnabled: true, Tags: tags})
	}
	vendorOrg := make([]string, len(vendors))
	for i := range vendors {
		vendorOrg[i] = g.guid()
	}
	for i := 0; len(sps) < n; i++ {
		x := g.r.IntN(100)
		sp := &ServicePrincipal{ID: g.guid(), AppID: g.guid(), ServicePrincipalType: "Application",
			AccountEnabled: g.r.IntN(30) != 0, Tags: []string{}}
		switch {
		case x < 50:
			name := "Microsoft " + msServiceWords[g.r.IntN(len(msServiceWords))] + " " + msServiceNouns[g.r.IntN(len(msServiceNouns))]
			if g.r.IntN(3) == 0 {
				name += " " + strconv.Itoa(1+g.r.IntN(20))
			}
			sp.DisplayName, sp.AppDisplayName = name, name
			sp.PublisherName, sp.AppOwnerOrganizationID = "Microsoft Services", MicrosoftTenantID
			if g.r.IntN(25) == 0 {
				sp.ServicePrincipalType = "Legacy"
			}
		case x < 75:
			v := g.r.IntN(len(vendors))
			name := vendors[v].product
			if g.r.IntN(2) == 0 {
				name += " " + []string{"for Outlook", "for Teams", "SSO", "Provisioning", "Connector", "Calendar", "Admin"}[g.r.IntN(7)]
			}
			sp.DisplayName, sp.AppDisplayName = name, name
			sp.PublisherName, sp.AppOwnerOrganizationID = vendors[v].publisher, vendorOrg[v]
			sp.Tags = []string{"WindowsAzureActiveDirectoryIntegratedApp"}
		case x < 90:
			name := t.DisplayName + " " + ownAppWords[g.r.IntN(len(ownAppWords))]
			if g.r.IntN(2) == 0 {
				name += " (" + []string{"dev", "test", "prod", "staging"}[g.r.IntN(4)] + ")"
			}
			sp.DisplayName, sp.AppDisplayName = name, name
			sp.PublisherName, sp.AppOwnerOrganizationID = t.DisplayName, t.ID
			sp.Tags = []string{"WindowsAzureActiveDirectoryIntegratedApp", "HideApp"}[:1+g.r.IntN(2)]
		default:
			// Managed identities have no application object: no
			// publisher, no owning organisation.
			sp.DisplayName = managedIdentityWords[g.r.IntN(len(managedIdentityWords))] + "-" + strconv.Itoa(g.r.IntN(100))
			sp.ServicePrincipalType = "ManagedIdentity"
			sp.AccountEnabled = true
		}
		add(sp)
	}
	t.ServicePrincipals = sps
}

// registeredApps are the client applications the identity platform knows.
func (g *gen) registeredApps() []*AppRegistration {
	localhost := []string{NativeClientRedirect, "http://localhost"}
	return []*AppRegistration{
		{AppID: DefaultClientID, DisplayName: "Inventory Beacon", Kind: AppPublic, RedirectURIs: localhost, MultiTenant: true},
		{AppID: ConfidentialClientID, DisplayName: g.t.DisplayName + " Inventory Daemon", Kind: AppWeb,
			Secrets: []string{ConfidentialClientSecret}, AppRoles: []string{"User.Read.All", "Directory.Read.All", "Reports.Read.All"},
			// A secret made a while ago with the portal's longest
			// recommended lifetime, so the expiry warnings have a date.
			SecretsEnd: g.now.AddDate(0, 18, 0), ObjectID: stableAppObjectID(ConfidentialClientID)},
		{AppID: WebClientID, DisplayName: g.t.DisplayName + " Web Portal", Kind: AppWeb, RedirectURIs: []string{"http://localhost", "https://localhost/signin-oidc"},
			Secrets: []string{WebClientSecret}, MultiTenant: true},
		{AppID: SPAClientID, DisplayName: g.t.DisplayName + " Dashboard SPA", Kind: AppSPA, RedirectURIs: []string{"http://localhost", "http://localhost:3000"}, MultiTenant: true},
		{AppID: SingleTenantClientID, DisplayName: g.t.DisplayName + " Internal Tool", Kind: AppPublic, RedirectURIs: localhost},
	}
}

func (g *gen) apps() { g.t.Apps = g.registeredApps() }

// stableAppObjectID is the application object id of a registered app:
// derived from its app id, so it does not shift the seeded generator.
func stableAppObjectID(appID string) string {
	b := sha256.Sum256([]byte("application:" + appID))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
