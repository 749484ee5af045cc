package graph

import "github.com/inventorybeacon/beacon/connector/graph/wire"

// The objects the client hands over are Graph's own (package wire, shared
// with the page decoders), never the inventory's rows: the importer maps
// them to what it stores.
type (
	User             = wire.User
	AssignedLicense  = wire.AssignedLicense
	AssignedPlan     = wire.AssignedPlan
	DeltaUser        = wire.DeltaUser
	Removed          = wire.Removed
	SubscribedSku    = wire.SubscribedSku
	PrepaidUnits     = wire.PrepaidUnits
	ServicePlan      = wire.ServicePlan
	ServicePrincipal = wire.ServicePrincipal

	LicenseAssignmentState = wire.LicenseAssignmentState
	SignInUser             = wire.SignInUser
	SignInActivity         = wire.SignInActivity
	Group                  = wire.Group
)

// Sink takes the pages of a listing, one at a time and never two at once,
// in the order Graph gives them. The slice is reused for the next page:
// a sink that keeps users keeps copies of the elements (their strings and
// slices are fresh for every page, and AssignedPlans is read-only). An
// error ends the listing and is returned by the call that listed.
type Sink[T any] func(page []T) error
