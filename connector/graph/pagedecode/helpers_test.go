package pagedecode

import "io"

// testScanner decodes what the tests decode as the client would, through
// one scanner shared by the tests (as a client's listings share theirs).
var testScanner = NewUsersScanner(8, 0)

func decodeUsers[T UserItem](r io.Reader, buf []T) ([]T, string, string, []Skipped, error) {
	return DecodeUsers(testScanner, r, buf)
}

// clientPage1 and clientPage2 are seeds of the differential fuzzer shaped
// like the client's hand-written pages (connector/graph's tests): an
// unknown member holding an array, nulls for strings and times, an
// escaped quote, value after or before the links.
const (
	clientPage1 = `{"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$skiptoken=RFNwdAIAAQAAAA","value":[{"id":"u1","userPrincipalName":"adele@contoso.example","accountEnabled":true,"assignedLicenses":[{"disabledPlans":["p9"],"skuId":"sku-e3"}],"assignedPlans":[{"assignedDateTime":"2024-03-01T10:00:00Z","capabilityStatus":"Enabled","service":"exchange","servicePlanId":"p1"}],"createdDateTime":"2023-01-02T03:04:05Z","newProperty":{"x":[1,2]}},{"id":"u2","mail":null,"accountEnabled":false,"assignedLicenses":[],"assignedPlans":[],"usageLocation":null,"createdDateTime":null}]}`
	clientPage2 = `{"value":[{"id":"u3","userPrincipalName":"chloé@contoso.example","displayName":"Chloé \"CJ\" Jones","accountEnabled":true}],"@odata.context":"x"}`
)
