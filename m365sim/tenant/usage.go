package tenant

import (
	"math/rand/v2"
	"time"
)

// Usage is a user's Microsoft 365 activity as the usage reports show it.
// Days are counted back from the report refresh date (the reports lag ~48 h),
// so the data stays consistent with whatever clock the simulator runs on;
// -1 means never.
type Usage struct {
	// LastActivity is, per workload, the days since the last activity.
	LastActivity [NumWorkloads]int16
	// LastAppActivity and LastActivation feed getM365AppUserDetail.
	LastAppActivity int16
	LastActivation  int16
	// Apps has bit AppBit(platform, app) set when the app was used there
	// in the last 30 days.
	Apps uint32
	// Activations lists the activated products (Product 0 ends it).
	Activations [3]Activation
}

// Activation is one row of getOffice365ActivationsUserDetail. It is
// compact on purpose: 200,000 users carry three each.
type Activation struct {
	Product        ProductType
	LastActivated  int16 // days before the refresh date
	Windows, Mac   uint8
	Windows10Mob   uint8
	IOS, Android   uint8
	SharedComputer bool
}

// ProductType is an activation's "Product Type", an index into
// ProductTypes (0: none).
type ProductType uint8

// ProductTypes are the activated products as the report names them.
var ProductTypes = []string{"", "MICROSOFT 365 APPS FOR ENTERPRISE", "MICROSOFT 365 APPS FOR BUSINESS", "PROJECT CLIENT", "VISIO CLIENT"}

func (p ProductType) String() string { return ProductTypes[p] }

func productType(name string) ProductType {
	for i, n := range ProductTypes {
		if n == name {
			return ProductType(i)
		}
	}
	panic("tenant: unknown activation product " + name)
}

// The platforms and apps of getM365AppUserDetail, in column order.
var (
	AppPlatforms = []string{"Windows", "Mac", "Mobile", "Web"}
	AppNames     = []string{"Outlook", "Word", "Excel", "PowerPoint", "OneNote", "Teams"}
)

// AppBit is the Usage.Apps bit of an app on a platform.
func AppBit(platform, app int) uint32 { return 1 << (platform*len(AppNames) + app) }

// InactiveDays is the threshold above which a user counts as inactive.
const InactiveDays = 30

func genUsage(r *rand.Rand, p *profile, u *User, now time.Time) Usage {
	var us Usage
	for i := range us.LastActivity {
		us.LastActivity[i] = -1
	}
	us.LastAppActivity, us.LastActivation = -1, -1
	// Age in days before the refresh date (now - 2 days): activity never
	// precedes the account.
	age := int(now.AddDate(0, 0, -2).Sub(u.CreatedDateTime).Hours() / 24)
	if age < 0 {
		return us
	}
	// Three kinds of people: active (most), inactive for more than 30 days,
	// and never active. Disabled accounts are at best inactive.
	kind := r.IntN(100)
	if !u.AccountEnabled && kind < 80 {
		kind = 80 + r.IntN(20)
	}
	recent := func() int16 { f := r.Float64(); return int16(min(age, int(f*f*f*30))) }
	old := func() int16 {
		if age <= InactiveDays {
			return -1
		}
		return int16(InactiveDays + 1 + r.IntN(min(age-InactiveDays, 400)))
	}
	prob := [NumWorkloads]float64{0, 0.95, 0.7, 0.6, 0.2, 0.15, 0.9}
	active := false
	for w := WorkloadExchange; w < NumWorkloads; w++ {
		if !p.workloads[w] {
			continue
		}
		switch {
		case kind < 78 && r.Float64() < prob[w]:
			us.LastActivity[w] = recent()
			active = true
		case kind < 95 && r.IntN(2) == 0:
			us.LastActivity[w] = old()
		}
	}
	for _, product := range p.officeApp {
		if kind >= 95 || r.IntN(100) >= 85 {
			continue
		}
		a := Activation{Product: productType(product), Windows: uint8(1 + r.IntN(3))}
		a.LastActivated = int16(r.IntN(min(age, 365) + 1))
		if r.IntN(10) == 0 {
			a.Mac = 1
		}
		if r.IntN(10) < 4 {
			a.IOS = uint8(1 + r.IntN(2))
		}
		if r.IntN(4) == 0 {
			a.Android = 1
		}
		a.SharedComputer = r.IntN(33) == 0
		for i := range us.Activations {
			if us.Activations[i].Product == 0 {
				us.Activations[i] = a
				break
			}
		}
		if us.LastActivation < 0 || a.LastActivated < us.LastActivation {
			us.LastActivation = a.LastActivated
		}
	}
	if len(p.officeApp) > 0 && active {
		platProb := []float64{0.85, 0.15, 0.5, 0.6}
		appProb := []float64{0.9, 0.7, 0.65, 0.45, 0.2, 0.85}
		for pl := range AppPlatforms {
			if r.Float64() >= platProb[pl] {
				continue
			}
			for app := range AppNames {
				if app == 5 && !p.workloads[WorkloadTeams] {
					continue
				}
				if r.Float64() < appProb[app] {
					us.Apps |= AppBit(pl, app)
				}
			}
		}
		if us.Apps != 0 {
			us.LastAppActivity = recent()
		}
	}
	return us
}

// LastActivityAny is the most recent activity over all workloads (-1 if
// none).
func (us *Usage) LastActivityAny() int16 {
	best := int16(-1)
	for _, d := range us.LastActivity {
		if d >= 0 && (best < 0 || d < best) {
			best = d
		}
	}
	return best
}
