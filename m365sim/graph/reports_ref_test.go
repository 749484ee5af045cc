package graph

// The reference for the report renderer: the encoding/csv implementation
// that reportWriter replaced, kept as it was (renamed) so that
// TestReportRendererMatchesReference can require the same bytes.

import (
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

type refReportWriter struct {
	h       *Handler
	cw      *csv.Writer
	refresh time.Time
	conceal bool
	period  string
	date    string
	row     []string
	// days caches the formatted dates (of activity days before the
	// refresh date, and of license assignments): a 100,000-user report
	// formats a few hundred distinct dates half a million times.
	days  map[int16]string
	dates map[time.Time]string
}

func (rw *refReportWriter) day(days int16) string {
	if days < 0 {
		return ""
	}
	if d, ok := rw.days[days]; ok {
		return d
	}
	d := rw.refresh.AddDate(0, 0, -int(days)).Format("2006-01-02")
	if rw.days == nil {
		rw.days = map[int16]string{}
	}
	rw.days[days] = d
	return d
}

// dateOf is dateOf(t), cached.
func (rw *refReportWriter) dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if d, ok := rw.dates[t]; ok {
		return d
	}
	d := dateOf(t)
	if rw.dates == nil {
		rw.dates = map[time.Time]string{}
	}
	if len(rw.dates) < 4096 {
		rw.dates[t] = d
	}
	return d
}

// name returns the UPN and display name, or their concealed form: 32
// upper-case hex characters, stable per user.
func (rw *refReportWriter) name(u *tenant.User) (string, string) {
	if !rw.conceal {
		return u.UserPrincipalName, u.DisplayName
	}
	c := ConcealedName(rw.h.tokenKey, u.ID)
	return c, c
}

func (rw *refReportWriter) write(fn string) {
	switch fn {
	case ReportActiveUsers:
		_ = rw.cw.Write(ActiveUserColumns)
	case ReportActivations:
		_ = rw.cw.Write(ActivationColumns)
	default:
		_ = rw.cw.Write(AppUsageColumns)
	}
	t := rw.h.t
	var after uint64
	pp := pagePool.Get().(*[]*tenant.User)
	defer pagePool.Put(pp)
	for {
		page, more := t.PageUsers(after, 999, *pp)
		*pp = page[:0]
		for _, u := range page {
			if rw.user(fn, u) != nil {
				return
			}
		}
		if !more || len(page) == 0 {
			break
		}
		after = page[len(page)-1].Seq
	}
	if fn == ReportActiveUsers {
		t.RLock()
		deleted := append([]*tenant.User(nil), t.DeletedUsers()...)
		t.RUnlock()
		for _, u := range deleted {
			if rw.user(fn, u) != nil {
				return
			}
		}
	}
}

func (rw *refReportWriter) user(fn string, u *tenant.User) error {
	t := rw.h.t
	t.RLock()
	lp := t.LicenseProfile(u)
	t.RUnlock()
	upn, display := rw.name(u)
	refresh := rw.refresh.Format("2006-01-02")
	row := rw.row[:0]
	switch fn {
	case ReportActiveUsers:
		row = append(row, refresh, upn, display, tf(!u.DeletedDateTime.IsZero()), dateOf(u.DeletedDateTime))
		for w := tenant.WorkloadExchange; w < tenant.NumWorkloads; w++ {
			row = append(row, tf(lp.HasWorkload[w]))
		}
		for w := tenant.WorkloadExchange; w < tenant.NumWorkloads; w++ {
			row = append(row, rw.day(u.Usage.LastActivity[w]))
		}
		assigned := tenant.WorkloadsAssigned(u)
		for w := tenant.WorkloadExchange; w < tenant.NumWorkloads; w++ {
			row = append(row, rw.dateOf(assigned[w]))
		}
		row = append(row, strings.Join(lp.Products, "+"))
	case ReportActivations:
		for _, a := range u.Usage.Activations {
			if a.Product == 0 {
				break
			}
			row = append(row[:0], refresh, upn, display, a.Product.String(), rw.day(a.LastActivated),
				strconv.Itoa(int(a.Windows)), strconv.Itoa(int(a.Mac)), strconv.Itoa(int(a.Windows10Mob)),
				strconv.Itoa(int(a.IOS)), strconv.Itoa(int(a.Android)), tf(a.SharedComputer))
			if err := rw.cw.Write(row); err != nil {
				return err
			}
		}
		rw.row = row
		return nil
	default:
		if len(lp.OfficeProducts) == 0 {
			return nil
		}
		days := map[string]string{"D7": "7", "D30": "30", "D90": "90", "D180": "180"}[rw.period]
		if rw.date != "" {
			days = "1"
		}
		apps := u.Usage.Apps
		row = append(row, refresh, upn, rw.day(u.Usage.LastActivation), rw.day(u.Usage.LastAppActivity), days)
		row = refAppColumns(row, apps)
	}
	rw.row = row
	return rw.cw.Write(row)
}

// refAppColumns appends the app columns of getM365AppUserDetail as the
// column definitions say, written out as loops: per platform (any app),
// per app (any platform), then each app on each platform.
func refAppColumns(row []string, apps uint32) []string {
	for p := range tenant.AppPlatforms {
		any := false
		for a := range tenant.AppNames {
			any = any || apps&tenant.AppBit(p, a) != 0
		}
		row = append(row, tf(any))
	}
	for a := range tenant.AppNames {
		any := false
		for p := range tenant.AppPlatforms {
			any = any || apps&tenant.AppBit(p, a) != 0
		}
		row = append(row, tf(any))
	}
	for p := range tenant.AppPlatforms {
		for a := range tenant.AppNames {
			row = append(row, tf(apps&tenant.AppBit(p, a) != 0))
		}
	}
	return row
}
