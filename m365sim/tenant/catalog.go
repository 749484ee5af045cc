package tenant

import (
	"crypto/sha256"
	"encoding/hex"
)

// planDef is a Microsoft service plan. IDs are Microsoft's published ones
// (the "Product names and service plan identifiers for licensing" list)
// where we know them; the rest are derived from the name by nameGUID, so
// they are stable but not real.
type planDef struct {
	Name    string
	ID      string
	Service string // assignedPlans.service
	// Workload feeds the usage report columns (Has Exchange License, ...).
	Workload Workload
}

// skuDef is a product (subscribed SKU).
type skuDef struct {
	PartNumber  string
	ID          string
	ProductName string // the upper-case name usage reports put in Assigned Products
	Plans       []string
	// Viral SKUs (free, self-service) come with 10,000 prepaid units.
	Viral bool
	// OfficeApps is the activation "Product Type" when the SKU carries
	// desktop apps that are activated, "" otherwise.
	OfficeApps string
}

// Workload is a Microsoft 365 service tracked by the active-user report.
type Workload uint8

const (
	WorkloadNone Workload = iota
	WorkloadExchange
	WorkloadOneDrive // OneDrive rides on the SharePoint plans
	WorkloadSharePoint
	WorkloadSkype
	WorkloadYammer
	WorkloadTeams
	NumWorkloads
)

// WorkloadNames are the workloads as the report's column names spell them.
var WorkloadNames = [NumWorkloads]string{"", "Exchange", "OneDrive", "SharePoint", "Skype For Business", "Yammer", "Teams"}

var planCatalog = []planDef{
	{"EXCHANGE_S_ENTERPRISE", "efb87545-963c-4e0d-99df-69c6916d9eb0", "exchange", WorkloadExchange},
	{"EXCHANGE_S_STANDARD", "9aaf7827-d63c-4b61-89c3-182f06f82e5c", "exchange", WorkloadExchange},
	{"EXCHANGE_S_DESKLESS", "4a82b400-a79f-41a4-b4e2-e94f5787b113", "exchange", WorkloadExchange},
	{"SHAREPOINTENTERPRISE", "5dbe027f-2339-4123-9542-606e4d348a72", "SharePoint", WorkloadSharePoint},
	{"SHAREPOINTSTANDARD", "c7699d2e-19aa-44de-8edf-1736da088ca1", "SharePoint", WorkloadSharePoint},
	{"SHAREPOINTDESKLESS", "902b47e5-dcb2-4fdc-858b-c63a90a2bdb9", "SharePoint", WorkloadSharePoint},
	{"SHAREPOINTWAC", "e95bec33-7c88-4a70-8e19-b10bd9d0c014", "SharePoint", WorkloadNone},
	{"MCOSTANDARD", "0feaeb32-d00e-4d66-bd5a-43b5b83db82c", "MicrosoftCommunicationsOnline", WorkloadSkype},
	{"TEAMS1", "57ff2da0-773e-42df-b2af-ffb7a2317929", "TeamspaceAPI", WorkloadTeams},
	{"YAMMER_ENTERPRISE", "7547a3fe-08ee-4ccb-b430-5077c5041653", "YammerEnterprise", WorkloadYammer},
	{"OFFICESUBSCRIPTION", "43de0ff5-c92c-492b-9116-175376d08c38", "MicrosoftOffice", WorkloadNone},
	{"OFFICE_BUSINESS", "094e7854-93fc-4d55-b2c0-3ab5369ebdc1", "MicrosoftOffice", WorkloadNone},
	{"RMS_S_ENTERPRISE", "bea4c11e-220a-4e6d-8eb8-8ea15d019f90", "RMSOnline", WorkloadNone},
	{"FLOW_O365_P2", "76846ad7-7776-4c40-a281-a386362dd1b9", "ProcessSimple", WorkloadNone},
	{"FLOW_O365_P3", "07699545-9485-468e-95b6-2fca3738be01", "ProcessSimple", WorkloadNone},
	{"FLOW_P2_VIRAL", "50e68c76-46c6-4674-81f9-75456511b170", "ProcessSimple", WorkloadNone},
	{"POWERAPPS_O365_P2", "c68f8d98-5534-41c8-bf36-22fa496fa792", "PowerAppsService", WorkloadNone},
	{"STREAM_O365_E3", "9e700747-8b1d-45e5-ab8d-ef187ceec156", "MicrosoftStream", WorkloadNone},
	{"FORMS_PLAN_E3", "2789c901-c14e-48ab-a76a-be334d9d793a", "OfficeForms", WorkloadNone},
	{"SWAY", "a23b959c-7ce8-4e57-9140-b90eb88a9e97", "Sway", WorkloadNone},
	{"PROJECTWORKMANAGEMENT", "b737dad2-2f6c-4c65-90e3-ca563267e8b9", "ProjectWorkManagement", WorkloadNone},
	{"BPOS_S_TODO_2", "c87f142c-d1e9-4363-8630-aaea9c4d9ae5", "To-Do", WorkloadNone},
	{"WHITEBOARD_PLAN2", "94a54592-cd8b-425e-87c6-97868b000b91", "Whiteboard", WorkloadNone},
	{"MICROSOFTBOOKINGS", "199a5c09-e0ca-4e37-8f7c-b05d533e1ea2", "MicrosoftBookings", WorkloadNone},
	{"MCOEV", "4828c8ec-dc2e-4779-b502-87ac9ce28ab7", "MicrosoftCommunicationsOnline", WorkloadNone},
	{"MCOMEETADV", "3e26ee1f-8a5f-4d52-aee2-b81ce45c8f40", "MicrosoftCommunicationsOnline", WorkloadNone},
	{"ATP_ENTERPRISE", "f20fedf3-f3c3-43c3-8267-2bfdd51c0939", "exchange", WorkloadNone},
	{"BI_AZURE_P2", "70d33638-9c74-4d01-bfd3-562de28bd4ba", "PowerBI", WorkloadNone},
	{"BI_AZURE_P0", "2049e525-b859-401b-b2a0-e0a31c4b1fe4", "PowerBI", WorkloadNone},
	{"INTUNE_A", "c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "SCO", WorkloadNone},
	{"AAD_PREMIUM", "41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AADPremiumService", WorkloadNone},
	{"AAD_PREMIUM_P2", "eec0eb4f-6444-4f95-aba0-50c24d67f998", "AADPremiumService", WorkloadNone},
	{"WINDEFATP", "871d91ec-ec1a-452b-a83f-bd76c7d770ef", "WindowsDefenderATP", WorkloadNone},
	{"VISIO_CLIENT_SUBSCRIPTION", "663a804f-1c30-4ff0-9915-9db84f0d1cea", "Visio", WorkloadNone},
	{"PROJECT_CLIENT_SUBSCRIPTION", "fafd7243-e5c1-4a3a-9e40-495efcb1d3c3", "ProjectWorkManagement", WorkloadNone},
	{"DESKLESS", "8c7d2df8-86f0-4902-b2ed-a0458298f3b3", "Deskless", WorkloadNone},
	{"MIP_S_CLP1", "5136a095-5cf0-4aff-bec3-e84448b38ea5", "RMSOnline", WorkloadNone},
	{"KAIZALA_O365_P3", "aebd3021-9f8f-4bf8-bbe3-0ed2f4f047a1", "MicrosoftKaizala", WorkloadNone},
	// Below: plan IDs we could not confirm; derived from the name.
	{"VISIOONLINE", "", "Visio", WorkloadNone},
	{"PROJECT_P1", "", "ProjectWorkManagement", WorkloadNone},
	{"MCOPSTN1", "", "MicrosoftCommunicationsOnline", WorkloadNone},
	{"COPILOT_STUDIO_IN_COPILOT_FOR_M365", "", "MicrosoftCopilot", WorkloadNone},
	{"WINDOWS_STORE", "", "WindowsStore", WorkloadNone},
	{"DYN365_CDS_VIRAL", "", "CRM", WorkloadNone},
	{"POWERAPPS_VIRAL", "", "PowerAppsService", WorkloadNone},
	{"STREAM_P2", "", "MicrosoftStream", WorkloadNone},
	{"EXCHANGE_S_ARCHIVE_ADDON", "", "exchange", WorkloadNone},
}

var e3Core = []string{"EXCHANGE_S_ENTERPRISE", "SHAREPOINTENTERPRISE", "SHAREPOINTWAC", "MCOSTANDARD", "TEAMS1",
	"YAMMER_ENTERPRISE", "OFFICESUBSCRIPTION", "RMS_S_ENTERPRISE", "FLOW_O365_P2", "POWERAPPS_O365_P2",
	"STREAM_O365_E3", "FORMS_PLAN_E3", "SWAY", "PROJECTWORKMANAGEMENT", "BPOS_S_TODO_2", "WHITEBOARD_PLAN2",
	"MICROSOFTBOOKINGS", "KAIZALA_O365_P3", "MIP_S_CLP1", "DESKLESS"}

func plus(base []string, more ...string) []string {
	return append(append([]string(nil), base...), more...)
}

var e5Core = plus(e3Core, "MCOEV", "MCOMEETADV", "ATP_ENTERPRISE", "BI_AZURE_P2", "FLOW_O365_P3")

// skuCatalog lists the products a tenant may subscribe to. The first
// mandatorySKUs are always subscribed; the rest are drawn by the seed.
var skuCatalog = []skuDef{
	{"ENTERPRISEPACK", "6fd2c87f-b296-42f0-b197-1e91e994b900", "OFFICE 365 E3", e3Core, false, "MICROSOFT 365 APPS FOR ENTERPRISE"},
	{"ENTERPRISEPREMIUM", "c7df2760-2c81-4ef7-b578-5b5392b571df", "OFFICE 365 E5", e5Core, false, "MICROSOFT 365 APPS FOR ENTERPRISE"},
	{"SPE_E3", "05e9a617-0261-4cee-bb44-138d3ef5d965", "MICROSOFT 365 E3", plus(e3Core, "INTUNE_A", "AAD_PREMIUM"), false, "MICROSOFT 365 APPS FOR ENTERPRISE"},
	{"SPE_E5", "06ebc4ee-1bb5-47dd-8120-11324bc54e06", "MICROSOFT 365 E5", plus(e5Core, "INTUNE_A", "AAD_PREMIUM", "AAD_PREMIUM_P2", "WINDEFATP"), false, "MICROSOFT 365 APPS FOR ENTERPRISE"},
	{"O365_BUSINESS_PREMIUM", "f245ecc8-75af-4f8e-b61f-27d8114de5f3", "MICROSOFT 365 BUSINESS STANDARD", []string{"EXCHANGE_S_STANDARD", "SHAREPOINTSTANDARD", "SHAREPOINTWAC", "MCOSTANDARD", "TEAMS1", "YAMMER_ENTERPRISE", "OFFICE_BUSINESS", "FORMS_PLAN_E3", "SWAY", "PROJECTWORKMANAGEMENT", "BPOS_S_TODO_2", "MICROSOFTBOOKINGS"}, false, "MICROSOFT 365 APPS FOR BUSINESS"},
	{"EMS", "efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "ENTERPRISE MOBILITY + SECURITY E3", []string{"INTUNE_A", "AAD_PREMIUM", "RMS_S_ENTERPRISE"}, false, ""},
	{"POWER_BI_PRO", "f8a1db68-be16-40ed-86d5-cb42ce701560", "POWER BI PRO", []string{"BI_AZURE_P2"}, false, ""},
	{"VISIOCLIENT", "c5928f49-12ba-48f7-ada3-0d743a3601d5", "VISIO PLAN 2", []string{"VISIO_CLIENT_SUBSCRIPTION", "VISIOONLINE", "SHAREPOINTWAC"}, false, "VISIO CLIENT"},
	{"PROJECTPROFESSIONAL", "53818b1b-4a27-454b-8896-0dba576410e6", "PROJECT PLAN 3", []string{"PROJECT_CLIENT_SUBSCRIPTION", "SHAREPOINTWAC", "PROJECT_P1"}, false, "PROJECT CLIENT"},
	{"FLOW_FREE", "f30db892-07e9-47e9-837c-80727f46fd3d", "MICROSOFT POWER AUTOMATE FREE", []string{"FLOW_P2_VIRAL", "DYN365_CDS_VIRAL"}, true, ""},
	{"TEAMS_EXPLORATORY", "710779e8-3d4a-4c88-adb9-386c958d1fdf", "MICROSOFT TEAMS EXPLORATORY", []string{"TEAMS1", "EXCHANGE_S_DESKLESS", "SHAREPOINTDESKLESS", "SHAREPOINTWAC", "FORMS_PLAN_E3", "BPOS_S_TODO_2"}, false, ""},
	// Optional ones.
	{"STANDARDPACK", "18181a46-0d4e-45cd-891e-60aabd171b4e", "OFFICE 365 E1", []string{"EXCHANGE_S_STANDARD", "SHAREPOINTSTANDARD", "SHAREPOINTWAC", "MCOSTANDARD", "TEAMS1", "YAMMER_ENTERPRISE", "FORMS_PLAN_E3", "SWAY", "BPOS_S_TODO_2"}, false, ""},
	{"DESKLESSPACK", "4b585984-651b-448a-9e53-3b10f069cf7f", "OFFICE 365 F3", []string{"EXCHANGE_S_DESKLESS", "SHAREPOINTDESKLESS", "SHAREPOINTWAC", "TEAMS1", "YAMMER_ENTERPRISE", "DESKLESS", "BPOS_S_TODO_2"}, false, ""},
	{"SPE_F1", "66b55226-6b4f-492c-910c-a3b7a3c9d993", "MICROSOFT 365 F3", []string{"EXCHANGE_S_DESKLESS", "SHAREPOINTDESKLESS", "SHAREPOINTWAC", "TEAMS1", "YAMMER_ENTERPRISE", "DESKLESS", "INTUNE_A", "AAD_PREMIUM"}, false, ""},
	{"O365_BUSINESS_ESSENTIALS", "3b555118-da6a-4418-894f-7df1e2096870", "MICROSOFT 365 BUSINESS BASIC", []string{"EXCHANGE_S_STANDARD", "SHAREPOINTSTANDARD", "SHAREPOINTWAC", "MCOSTANDARD", "TEAMS1", "YAMMER_ENTERPRISE", "FORMS_PLAN_E3"}, false, ""},
	{"SPB", "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "MICROSOFT 365 BUSINESS PREMIUM", []string{"EXCHANGE_S_STANDARD", "SHAREPOINTSTANDARD", "SHAREPOINTWAC", "MCOSTANDARD", "TEAMS1", "OFFICE_BUSINESS", "INTUNE_A", "AAD_PREMIUM", "ATP_ENTERPRISE"}, false, "MICROSOFT 365 APPS FOR BUSINESS"},
	{"OFFICESUBSCRIPTION", "c2273bd0-dff7-4215-9ef5-2c7bcfb06425", "MICROSOFT 365 APPS FOR ENTERPRISE", []string{"OFFICESUBSCRIPTION", "SHAREPOINTWAC", "SWAY"}, false, "MICROSOFT 365 APPS FOR ENTERPRISE"},
	{"O365_BUSINESS", "cdd28e44-67e3-425e-be4c-737fab2899d3", "MICROSOFT 365 APPS FOR BUSINESS", []string{"OFFICE_BUSINESS", "SHAREPOINTWAC"}, false, "MICROSOFT 365 APPS FOR BUSINESS"},
	{"EXCHANGESTANDARD", "4b9405b0-7788-4568-add1-99614e613b69", "EXCHANGE ONLINE (PLAN 1)", []string{"EXCHANGE_S_STANDARD"}, false, ""},
	{"EXCHANGEENTERPRISE", "19ec0d23-8335-4cbd-94ac-6050e30712fa", "EXCHANGE ONLINE (PLAN 2)", []string{"EXCHANGE_S_ENTERPRISE"}, false, ""},
	{"EMSPREMIUM", "b05e124f-c7cc-45a0-a6aa-8cf78c946968", "ENTERPRISE MOBILITY + SECURITY E5", []string{"INTUNE_A", "AAD_PREMIUM", "AAD_PREMIUM_P2", "RMS_S_ENTERPRISE"}, false, ""},
	{"AAD_PREMIUM", "078d2b04-f1bd-4111-bbd4-b4b1b354cef4", "MICROSOFT ENTRA ID P1", []string{"AAD_PREMIUM"}, false, ""},
	{"AAD_PREMIUM_P2", "84a661c4-e949-4bd2-a560-ed7766fcaf2b", "MICROSOFT ENTRA ID P2", []string{"AAD_PREMIUM", "AAD_PREMIUM_P2"}, false, ""},
	{"ATP_ENTERPRISE", "4ef96642-f096-40de-a3e9-d83fb2f90211", "MICROSOFT DEFENDER FOR OFFICE 365 (PLAN 1)", []string{"ATP_ENTERPRISE"}, false, ""},
	{"WIN_DEF_ATP", "111046dd-295b-4d6d-9724-d52ac90bd1f2", "MICROSOFT DEFENDER FOR ENDPOINT", []string{"WINDEFATP"}, false, ""},
	{"MCOEV", "e43b5b99-8dfb-405f-9987-dc307f34bcbd", "MICROSOFT TEAMS PHONE STANDARD", []string{"MCOEV"}, false, ""},
	{"MCOMEETADV", "0c266dff-15dd-4b49-8397-2bb16070ed52", "MICROSOFT 365 AUDIO CONFERENCING", []string{"MCOMEETADV"}, false, ""},
	{"POWER_BI_STANDARD", "a403ebcc-fae0-4ca2-8c8c-7a907fd6c235", "MICROSOFT FABRIC (FREE)", []string{"BI_AZURE_P0"}, true, ""},
	{"POWERAPPS_VIRAL", "dcb1a3ae-b33f-4487-846a-a640262fadf4", "MICROSOFT POWER APPS PLAN 2 TRIAL", []string{"POWERAPPS_VIRAL", "DYN365_CDS_VIRAL", "FLOW_P2_VIRAL"}, true, ""},
	{"STREAM", "1f2f344a-700d-42c9-9427-5cea1d5d7ba6", "MICROSOFT STREAM", []string{"STREAM_P2"}, false, ""},
	{"RIGHTSMANAGEMENT", "c52ea49f-fe5d-4e95-93ba-1de91d380f89", "AZURE INFORMATION PROTECTION PLAN 1", []string{"RMS_S_ENTERPRISE"}, false, ""},
	{"INTUNE_A", "061f9ace-7d42-4136-88ac-31dc755f143f", "MICROSOFT INTUNE PLAN 1", []string{"INTUNE_A"}, false, ""},
	{"WINDOWS_STORE", "6470687e-a428-4b7a-bef2-8a291ad947c9", "WINDOWS STORE FOR BUSINESS", []string{"WINDOWS_STORE"}, true, ""},
	{"Microsoft_365_Copilot", "639dec6b-bb19-468b-871c-c5c441c4b0cb", "MICROSOFT 365 COPILOT", []string{"COPILOT_STUDIO_IN_COPILOT_FOR_M365"}, false, ""},
	{"PROJECTPREMIUM", "09015f9f-377f-4538-bbb5-f75ceb09358a", "PROJECT PLAN 5", []string{"PROJECT_CLIENT_SUBSCRIPTION", "SHAREPOINTWAC", "PROJECT_P1"}, false, "PROJECT CLIENT"},
	{"PROJECT_P1", "beb6439c-caad-48d3-bf46-0c82871e12be", "PROJECT PLAN 1", []string{"PROJECT_P1", "SHAREPOINTSTANDARD"}, false, ""},
	{"VISIOONLINE_PLAN1", "4b244418-9658-4451-a2b8-b5e2b364e9bd", "VISIO PLAN 1", []string{"VISIOONLINE", "SHAREPOINTWAC"}, false, ""},
	{"POWER_BI_PREMIUM_PER_USER", "c1d032e0-5619-4761-9b5c-75b6831e1711", "POWER BI PREMIUM PER USER", []string{"BI_AZURE_P2"}, false, ""},
	{"MCOPSTN1", "0dab259f-bf13-4952-b7f8-7db8f131b28d", "MICROSOFT 365 DOMESTIC CALLING PLAN", []string{"MCOPSTN1"}, false, ""},
	{"EXCHANGEARCHIVE_ADDON", "", "EXCHANGE ONLINE ARCHIVING", []string{"EXCHANGE_S_ARCHIVE_ADDON"}, false, ""},
}

// mandatorySKUs is how many leading entries of skuCatalog every tenant has.
const mandatorySKUs = 11

var planByName = func() map[string]*planDef {
	m := make(map[string]*planDef, len(planCatalog))
	for i := range planCatalog {
		p := &planCatalog[i]
		if p.ID == "" {
			p.ID = nameGUID("plan:" + p.Name)
		}
		m[p.Name] = p
	}
	for i := range skuCatalog {
		if skuCatalog[i].ID == "" {
			skuCatalog[i].ID = nameGUID("sku:" + skuCatalog[i].PartNumber)
		}
		for _, n := range skuCatalog[i].Plans {
			if m[n] == nil {
				panic("tenant: SKU " + skuCatalog[i].PartNumber + " names unknown plan " + n)
			}
		}
	}
	return m
}()

// nameGUID derives a stable GUID-shaped identifier from a name, for
// catalogue entries whose real identifier we could not confirm.
func nameGUID(name string) string {
	s := sha256.Sum256([]byte(name))
	s[6] = s[6]&0x0f | 0x50
	s[8] = s[8]&0x3f | 0x80
	return formatGUID(s[:16])
}

func formatGUID(b []byte) string {
	var buf [36]byte
	hex.Encode(buf[0:8], b[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], b[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], b[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], b[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:36], b[10:16])
	return string(buf[:])
}
